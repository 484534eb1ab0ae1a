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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error, roc_auc_score

__all__ = [
    "FoldResult",
    "Split",
    "convergence_splits",
    "evaluate_splits",
    "extrapolation_split",
    "random_splits",
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

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def score_predictions(y_true: np.ndarray, y_pred: np.ndarray, classification: bool) -> float:
    """MAE (regression) or ROC-AUC of the positive-class probability (classification)."""
    if classification:
        return float(roc_auc_score(y_true, y_pred))
    return float(mean_absolute_error(y_true, y_pred))


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


def run_matbench_folds(
    model: Any,
    df: pd.DataFrame,
    classification: bool,
    input_col: str = "composition",
    folds: list[int] | None = None,
    callback: Callable[[FoldResult], None] | None = None,
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

    Returns
    -------
    list of FoldResult
    """
    X = df[input_col].to_numpy()
    y = df["target"].to_numpy()
    test_fold = df["test_fold"].to_numpy()
    results = []
    for k in folds if folds is not None else sorted(np.unique(test_fold)):
        train, test = test_fold != k, test_fold == k
        pred, std, seconds = _fit_predict(model, X[train], y[train], X[test], classification)
        res = FoldResult(
            fold=int(k),
            metric="roc_auc" if classification else "mae",
            score=score_predictions(y[test], pred, classification),
            n_train=int(train.sum()),
            n_test=int(test.sum()),
            fit_seconds=seconds,
            predictions=[float(p) for p in np.ravel(pred)],
            std=[] if std is None else [float(v) for v in np.ravel(std)],
        )
        results.append(res)
        if callback is not None:
            callback(res)
    return results


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
