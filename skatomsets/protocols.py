"""Evaluation protocols as library code.

- :func:`run_matbench_folds`: the MatBench official 5-fold protocol: a fresh clone of the
  model on each official training fold, scored on the matching test fold (MAE for
  regression, ROC-AUC from predicted probabilities for classification). Any tuning happens
  inside the training fold (the estimators' own validation split).
- :func:`random_splits`: the paper's random 80/10/10 splits, repeated.
- :func:`convergence_splits`: learning curves over training-set sizes or fractions.
- :func:`extrapolation_split`: top-10 % targets held out, with an equal-size random
  interpolation test set.
- :func:`evaluate_splits`: fits and scores a model on any list of such splits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error, roc_auc_score

__all__ = [
    "FoldResult",
    "Split",
    "convergence_splits",
    "cv_fold_jobs",
    "evaluate_splits",
    "extrapolation_split",
    "fit_all",
    "fit_fold",
    "matbench_fold_jobs",
    "out_of_fold_frame",
    "random_splits",
    "run_jobs",
    "run_matbench_folds",
    "score_predictions",
]


@dataclass
class FoldResult:
    """Outcome of one fold."""

    fold: int
    metric: str
    score: float
    n_train: int
    n_test: int
    fit_seconds: float
    predictions: list[float] = field(repr=False, default_factory=list)
    #: ensemble standard deviation of each prediction (regressors whose ``predict`` takes
    #: ``return_std``; empty otherwise)
    std: list[float] = field(repr=False, default_factory=list)
    #: positions of the test rows in the ``X`` given to the fold (empty where not recorded)
    test_index: list[int] = field(repr=False, default_factory=list)
    #: domain score of each test row (models with a domain of applicability; else empty)
    domain_score: list[float] = field(repr=False, default_factory=list)
    #: what an auto model chose in this fold (its ``chosen_``; empty for other models)
    chosen: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the fields recorded since 0.1.0; ``test_index``,
        ``domain_score`` and ``chosen`` only where they were recorded)."""
        out = asdict(self)
        for key in ("test_index", "domain_score", "chosen"):
            if not out[key]:
                del out[key]
        return out


def score_predictions(y_true: Any, y_pred: Any, classification: bool, classes: Any = None) -> float:
    """The one scorer of the package: MAE (regression) or ROC-AUC (classification).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : array-like
        Regression: the predictions. Classification: the positive-class probabilities
        (1-D; or predicted labels, for MatBench's ROC-AUC of labels), or the class
        probabilities of shape ``(n_samples, n_classes)`` in the order of ``classes``:
        one-vs-rest macro ROC-AUC over the classes present in ``y_true``.
    classification : bool
    classes : array-like, optional
        The columns of a 2-D ``y_pred`` (a classifier's ``classes_``).
    """
    if not classification:
        return float(mean_absolute_error(y_true, y_pred))
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 1:
        return float(roc_auc_score(np.asarray(y_true), y_pred))
    classes = np.arange(y_pred.shape[1]) if classes is None else np.asarray(classes)
    if len(classes) == 2:
        return float(roc_auc_score(np.asarray(y_true) == classes[1], y_pred[:, 1]))
    present = np.isin(classes, y_true)
    p = y_pred[:, present] / y_pred[:, present].sum(axis=1, keepdims=True)
    return float(roc_auc_score(y_true, p, multi_class="ovr", labels=classes[present]))


def _predict_with_std(est: Any, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``predict(X, return_std=True)`` where the estimator supports it, else ``(pred, None)``."""
    try:
        pred, std = est.predict(X, return_std=True)
    except (TypeError, ValueError):  # no return_std (a dummy model), or no ensemble
        return est.predict(X), None
    return pred, std


def _fit_predict(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    classification: bool,
    return_std: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """One fold: fit a clone of ``model``, predict the test rows.

    The step shared by :func:`run_matbench_folds` and the ``matbench`` package adapter
    (:func:`skatomsets.benchmarks.adapter.run_matbench_benchmark`).

    Returns
    -------
    pred : ndarray
        Positive-class probabilities (classification) or predictions.
    std : ndarray or None
        The ensemble standard deviation (regression with ``return_std``, where the
        estimator gives it).
    seconds : float
        Wall time of ``fit``.
    """
    est = clone(model)
    t0 = time.perf_counter()
    est.fit(X_train, y_train)
    seconds = time.perf_counter() - t0
    std = None
    if classification:
        pred = est.predict_proba(X_test)[:, 1]
    elif return_std:
        pred, std = _predict_with_std(est, X_test)
    else:
        pred = est.predict(X_test)
    return pred, std, seconds


def _matbench_score(
    est: Any, X_test: Any, y_test: np.ndarray, classification: bool
) -> tuple[str, float, list[float], list[float]]:
    """Metric name, score, predictions and ensemble std of a fitted fold model."""
    std = None
    if classification:
        pred = est.predict_proba(X_test)[:, 1]
    else:
        pred, std = _predict_with_std(est, X_test)
    return (
        "roc_auc" if classification else "mae",
        score_predictions(y_test, pred, classification),
        [float(p) for p in np.ravel(pred)],
        [] if std is None else [float(v) for v in np.ravel(std)],
    )


def fit_fold(
    model: Any,
    X: Any,
    y: np.ndarray,
    fold: int,
    train: np.ndarray,
    test: np.ndarray,
    scorer: Callable[[Any, Any, np.ndarray], tuple[str, float, list, list]],
    progress: Any = False,
) -> FoldResult:
    """Fit a clone of ``model`` on ``train`` rows, score it on ``test`` rows.

    ``scorer(fitted, X_test, y_test)`` returns the metric name, the score, the predictions
    and their ensemble std (empty where there is none). ``progress`` shows the epoch bars
    of :func:`~skatomsets.estimators._progress.training_progress` (``True``), or reports
    the epochs to a ``ProgressFolder`` (a worker process).
    """
    from .estimators._progress import training_progress

    est = clone(model)
    t0 = time.perf_counter()
    with training_progress(f"fold {fold}", enabled=progress), rows_of(train):
        est.fit(take(X, train), y[train])
    seconds = time.perf_counter() - t0
    with rows_of(test):
        metric, value, pred, std = scorer(est, take(X, test), y[test])
    return FoldResult(
        int(fold), metric, value, len(train), len(test), seconds, pred, std,
        [int(i) for i in test], _domain_scores(est, take(X, test)),
        list(getattr(est, "chosen_", [])),
    )  # fmt: skip


def take(X: Any, rows: np.ndarray) -> Any:
    """Rows of an array, a list or a DataFrame (materials plus extra inputs)."""
    if hasattr(X, "iloc"):
        return X.iloc[rows].reset_index(drop=True)
    if isinstance(X, (list, tuple)):  # one by one: np.asarray would unpack Structures
        out = np.empty(len(rows), dtype=object)
        for k, i in enumerate(rows):
            out[k] = X[i]
        return out
    return X[rows]


@contextmanager
def rows_of(rows: np.ndarray) -> Iterator[None]:
    """Re-raise an input error about row ``i`` of a subset as one about ``rows[i]``: the
    row of the ``X`` the user passed, not of a fold's training part."""
    from .exceptions import SkatomsetsInputError

    try:
        yield
    except SkatomsetsInputError as exc:
        if exc.row is None or not 0 <= exc.row < len(rows):
            raise
        msg = str(exc).removeprefix(f"row {exc.row}: ")
        try:
            err = type(exc)(msg, int(rows[exc.row]))
        except TypeError:  # a subclass with another signature: keep it as it is
            raise exc from None
        raise err from None


def _domain_scores(est: Any, X: Any) -> list[float]:
    """Domain score of each row where the model has a fitted domain, else ``[]``."""
    from .uncertainty import final_estimator

    if not hasattr(final_estimator(est), "domain_threshold_"):
        return []
    from .uncertainty import domain_score

    return [float(v) for v in domain_score(est, X)]


def fit_all(model: Any, X: Any, y: np.ndarray, progress: Any = False) -> tuple[Any, float]:
    """Fit a clone of ``model`` on every row; returns it and the fit's wall time (s)."""
    from .estimators._progress import training_progress

    est = clone(model)
    t0 = time.perf_counter()
    with training_progress("refit on all rows", enabled=progress):
        est.fit(X, y)
    return est, time.perf_counter() - t0


def _in_worker(index: int, threads: int, func: Callable, args: tuple, kwargs: dict) -> Any:
    """Run one job in a worker process with ``threads`` torch threads."""
    import signal

    import torch

    # Ctrl-C is the parent's to handle: it stops the workers; a worker that caught it
    # itself would finish its fit half-trained and print warnings of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    return index, func(*args, **kwargs)


def effective_n_jobs(n_jobs: int | None, n_tasks: int) -> int:
    """Processes for ``n_tasks`` jobs: ``None`` -> 1, ``-1`` -> every CPU, never above the
    number of jobs."""
    import joblib

    if n_jobs is None:
        return 1
    if n_jobs == 0 or not isinstance(n_jobs, (int, np.integer)):
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
    n = joblib.cpu_count() + 1 + n_jobs if n_jobs < 0 else n_jobs
    return int(max(1, min(n, n_tasks)))


def run_jobs(
    jobs: list[tuple[Callable, tuple, dict]],
    n_jobs: int | None = None,
    callback: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Run ``(func, args, kwargs)`` jobs, in order here or in ``n_jobs`` worker processes.

    ``callback(i, result)`` is called in this process as soon as job ``i`` is done (in
    completion order when parallel); the results are returned in job order. Each worker
    runs torch on ``torch.get_num_threads() // n_jobs`` threads (at least 1), so the workers
    together use no more threads than this process would alone. Every job starts from the
    same arguments either way, so the results do not depend on ``n_jobs``.
    """
    import torch

    n = effective_n_jobs(n_jobs, len(jobs))
    out: list[Any] = [None] * len(jobs)
    if n == 1:
        for i, (func, args, kwargs) in enumerate(jobs):
            out[i] = func(*args, **kwargs)
            if callback is not None:
                callback(i, out[i])
        return out
    from joblib import Parallel, delayed

    threads = max(1, torch.get_num_threads() // n)
    parallel = Parallel(n_jobs=n, return_as="generator_unordered")
    calls = (delayed(_in_worker)(i, threads, f, a, kw) for i, (f, a, kw) in enumerate(jobs))
    for i, result in parallel(calls):
        out[i] = result
        if callback is not None:
            callback(i, result)
    return out


def matbench_fold_jobs(
    model: Any,
    df: pd.DataFrame,
    classification: bool,
    input_col: str = "composition",
    folds: list[int] | None = None,
    progress: bool = False,
) -> list[tuple[Callable, tuple, dict]]:
    """The jobs of :func:`run_matbench_folds`, for :func:`run_jobs` (with other jobs)."""
    X = df[input_col].to_numpy()
    y = df["target"].to_numpy()
    test_fold = df["test_fold"].to_numpy()
    scorer = partial(_matbench_score, classification=classification)
    jobs = []
    for k in folds if folds is not None else sorted(np.unique(test_fold)):
        train, test = np.flatnonzero(test_fold != k), np.flatnonzero(test_fold == k)
        jobs.append((fit_fold, (model, X, y, int(k), train, test, scorer), {"progress": progress}))
    return jobs


def _own_score(
    est: Any, X: Any, y: np.ndarray, classification: bool
) -> tuple[str, float, list, list]:
    """Metric, score, predictions (labels for classifiers) and std of a fitted fold model."""
    if not classification:
        pred, std = _predict_with_std(est, X)
        value = score_predictions(y, pred, False)
        return "mae", value, [float(p) for p in pred], [] if std is None else list(map(float, std))
    proba = est.predict_proba(X)
    classes = est.classes_
    value = score_predictions(y, proba, True, classes)
    labels = proba[:, 1].tolist() if len(classes) == 2 else classes[proba.argmax(1)].tolist()
    return "roc_auc", value, labels, []


def cv_fold_jobs(
    model: Any,
    X: Any,
    y: np.ndarray,
    classification: bool,
    n_splits: int = 5,
    random_state: int | None = 0,
    folds: list[int] | None = None,
    progress: bool = False,
) -> list[tuple[Callable, tuple, dict]]:
    """Shuffled (Stratified)KFold as jobs for :func:`run_jobs`: a clone of ``model`` fitted
    per fold, scored on the rest (MAE; ROC-AUC, one-vs-rest macro for more than two classes).

    What ``skatomsets train`` runs on the user's own data.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    cv = (StratifiedKFold if classification else KFold)(
        n_splits=n_splits, shuffle=True, random_state=random_state
    )
    scorer = partial(_own_score, classification=classification)
    jobs = []
    for k, (train, test) in enumerate(cv.split(np.zeros(len(y)), y if classification else None)):
        if folds is None or k in folds:
            jobs.append((fit_fold, (model, X, y, k, train, test, scorer), {"progress": progress}))
    return jobs


def out_of_fold_frame(
    results: list[FoldResult],
    y: Any,
    labels: list[str] | None = None,
    where: list[str] | None = None,
) -> pd.DataFrame:
    """The out-of-fold predictions of cross-validation folds, one row per row of ``X``.

    Columns: ``input`` / ``where`` (when given), ``target``, ``fold`` (empty for a row in
    no test fold), ``prediction`` (the positive-class probability ``p_positive`` for a
    binary classifier), and ``std`` / ``domain_score`` where the folds recorded them.
    """
    n = len(y)
    out = pd.DataFrame(index=range(n))
    if labels is not None:
        out["input"] = labels
    if where is not None:
        out["where"] = where
    out["target"] = np.asarray(y)
    fold = np.full(n, -1)
    pred = np.full(n, np.nan, dtype=object)
    std, dom = np.full(n, np.nan), np.full(n, np.nan)
    for r in results:
        idx = np.asarray(r.test_index, dtype=int)
        fold[idx] = r.fold
        pred[idx] = r.predictions
        if r.std:
            std[idx] = r.std
        if r.domain_score:
            dom[idx] = r.domain_score
    out["fold"] = pd.array(np.where(fold >= 0, fold, None), dtype="Int64")
    binary = bool(results) and results[0].metric == "roc_auc"
    binary = binary and all(isinstance(p, float) for r in results for p in r.predictions)
    out["p_positive" if binary else "prediction"] = pd.Series(pred).infer_objects()
    if not np.isnan(std).all():
        out["std"] = std
    if not np.isnan(dom).all():
        out["domain_score"] = dom
    return out


def run_matbench_folds(
    model: Any,
    df: pd.DataFrame,
    classification: bool,
    input_col: str = "composition",
    folds: list[int] | None = None,
    callback: Callable[[FoldResult], None] | None = None,
    n_jobs: int | None = None,
) -> list[FoldResult]:
    """Run the MatBench protocol: train on ``test_fold != k``, test on ``test_fold == k``.

    Parameters
    ----------
    model : estimator or Pipeline
        Cloned for every fold; the original is not fitted.
    df : DataFrame
        With ``input_col``, ``target`` and ``test_fold``.
    classification : bool
        Score ROC-AUC from ``predict_proba`` (positive class) instead of MAE.
    input_col : str, default="composition"
    folds : list of int, optional
        Which folds to run (default: all present).
    callback : callable, optional
        Called with each :class:`FoldResult` as soon as it is done (progress, saving).
    n_jobs : int, optional
        Fit the folds in this many worker processes (``-1``: one per CPU); the results
        are the same as with the default ``None`` (one after the other, here). A model
        with a MEGNet / CHGNet featurizer recomputes the features in each worker (the
        in-memory feature cache is per process; give the featurizer ``cache="a/dir"`` to
        share it).

    Returns
    -------
    list of FoldResult
        In fold order.
    """
    jobs = matbench_fold_jobs(model, df, classification, input_col, folds)
    return run_jobs(jobs, n_jobs, None if callback is None else (lambda _i, res: callback(res)))


# ---------------------------------------------------------------------------- other protocols
@dataclass
class Split:
    """One train/test split of a protocol, with a label for reporting."""

    name: str
    train: np.ndarray
    test: dict[str, np.ndarray]


def random_splits(
    n: int, n_repeats: int = 5, test_fraction: float = 0.1, random_state: int = 0
) -> list[Split]:
    """The paper's protocol: random 80/10/10 splits, repeated.

    The test set is ``test_fraction`` of the data; the remaining 90 % is the training set,
    from which the estimators carve their own validation set (use
    ``validation_fraction=1/9`` for the paper's 80/10/10).
    """
    rng = np.random.default_rng(random_state)
    n_test = max(1, round(test_fraction * n))
    out = []
    for r in range(n_repeats):
        perm = rng.permutation(n)
        out.append(Split(f"repeat{r}", np.sort(perm[n_test:]), {"test": np.sort(perm[:n_test])}))
    return out


def convergence_splits(
    n: int,
    sizes: list[int] | None = None,
    fractions: list[float] | None = None,
    n_repeats: int = 5,
    test_fraction: float = 0.1,
    random_state: int = 0,
) -> list[Split]:
    """Learning-curve splits: fixed random test sets, training sets of growing size.

    For each repeat a test set of ``test_fraction`` is held out; training sets of each size
    (absolute ``sizes``, e.g. the paper's 100, 200, 400, 600, 1000, 2000, or ``fractions``
    of the remaining data) are drawn from the rest. Sizes larger than the pool are skipped.
    """
    if (sizes is None) == (fractions is None):
        raise ValueError("give exactly one of sizes or fractions")
    rng = np.random.default_rng(random_state)
    n_test = max(1, round(test_fraction * n))
    out = []
    for r in range(n_repeats):
        perm = rng.permutation(n)
        test, pool = np.sort(perm[:n_test]), perm[n_test:]
        wanted = sizes if sizes is not None else [round(f * len(pool)) for f in fractions]
        for size in wanted:
            if 2 <= size <= len(pool):
                out.append(Split(f"n{size}_repeat{r}", np.sort(pool[:size]), {"test": test}))
    return out


def extrapolation_split(y: np.ndarray, top_fraction: float = 0.1, random_state: int = 0) -> Split:
    """The paper's extrapolation test (Fig. 4).

    The materials with the top ``top_fraction`` of target values form the extrapolation
    test set; an equally large random subset of the others forms the interpolation test
    set; the model trains on the remaining materials.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    n_test = max(1, round(top_fraction * n))
    order = np.argsort(y, kind="stable")
    extrap = np.sort(order[-n_test:])
    rest = order[:-n_test]
    rng = np.random.default_rng(random_state)
    interp = np.sort(rng.choice(rest, size=min(n_test, len(rest) - 2), replace=False))
    train = np.setdiff1d(rest, interp)
    return Split("extrapolation", train, {"extrapolation": extrap, "interpolation": interp})


def evaluate_splits(
    model: Any,
    X: Any,
    y: np.ndarray,
    splits: list[Split],
    classification: bool = False,
    callback: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Fit a clone of ``model`` on each split's training set and score every test set.

    Returns one dict per split: ``split``, ``n_train``, ``fit_seconds`` and, per test set,
    ``<name>_score`` (MAE, or ROC-AUC for classification) and ``<name>_n``.
    """
    X = np.asarray(X, dtype=object) if not hasattr(X, "iloc") else X.to_numpy()
    y = np.asarray(y)
    rows = []
    for split in splits:
        est = clone(model)
        t0 = time.perf_counter()
        est.fit(X[split.train], y[split.train])
        row: dict[str, Any] = {
            "split": split.name,
            "n_train": len(split.train),
            "fit_seconds": time.perf_counter() - t0,
        }
        for name, idx in split.test.items():
            pred = est.predict_proba(X[idx])[:, 1] if classification else est.predict(X[idx])
            row[f"{name}_score"] = score_predictions(y[idx], pred, classification)
            row[f"{name}_n"] = len(idx)
        rows.append(row)
        if callback is not None:
            callback(row)
    return rows
