"""MatBench benchmark runner: models x tasks on the official folds, resumable.

:func:`run_benchmark` runs a set of named models (:func:`skatomsets.models.make_model`
names plus ``"dummy"``) on a set of MatBench tasks with the official 5 folds (the
``test_fold`` column of :func:`skatomsets.datasets.load_matbench`), and writes

- one JSON file per model/task/fold into ``out_dir`` (written atomically: a temporary file,
  then :func:`os.replace`). A run that is interrupted resumes where it stopped: a fold whose
  file exists, parses, and was made with the same parameters and rows is not run again; a
  missing, corrupt or stale file is recomputed;
- ``matbench_results.json`` (per-fold scores, mean and std, parameters, wall times),
  ``matbench_table.md`` (mean ± std of the test MAE or ROC-AUC per model and task) and
  ``parity_<task>.png`` (test predictions of all folds against the truth, regression tasks)
  into ``docs_dir``.

Hyperparameters
---------------
:data:`CONFIG` maps ``(model, task)`` patterns to estimator parameters; ``"*"`` matches any
model or task. All matching entries are merged, least specific first (``("*", "*")``, then
``(model, "*")``, then ``("*", task)``, then ``(model, task)``), so::

    CONFIG[("atomsets", "matbench_steels")] = {"lr": 3e-3}

changes one learning rate and leaves the rest. By default :data:`CONFIG` holds only the seed:
every model runs with its defaults, the size-aware ``"auto"`` training budget of the estimators
(see :class:`~skatomsets.AtomSetsRegressor`), so the table is what a user gets.
:data:`CANDIDATES` lists, per pattern, a few alternative override dicts. With ``tune=True``
(``skatomsets benchmark --tune``) each (model, task) picks one of its candidates **by inner
validation on the training part of fold 0 only** (:func:`select_candidate`: a fixed random 80/20
split of those rows, stratified for classification, one network per candidate, no ensemble); the
chosen overrides are then fixed for all five folds. The test folds are never looked at for
tuning. The choice and the inner scores are recorded in the results JSON. Explicit ``overrides``
(e.g. the CLI's ``--set max_epochs=5``) are applied last, to every model but ``"dummy"``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import train_test_split

from ._io import atomic_write_text, new_figure, save_figure
from .datasets import is_classification, load_matbench
from .protocols import FoldResult, run_matbench_folds, score_predictions

__all__ = [
    "ALL_TASKS",
    "CANDIDATES",
    "CONFIG",
    "DEFAULT_MODELS",
    "DEFAULT_TASKS",
    "QUICK_TASKS",
    "DummyModel",
    "fold_path",
    "load_fold",
    "make_benchmark_model",
    "markdown_table",
    "read_record",
    "resolve_params",
    "resolved_training_params",
    "roc_plot",
    "run_benchmark",
    "runs_table",
    "select_candidate",
]

DEFAULT_MODELS = ("dummy", "atomsets", "atomsets-v0", "mlp-v0-stats")
#: The 4 tasks of the first release's quick run (`skatomsets benchmark` without --tasks).
QUICK_TASKS = (
    "matbench_steels",
    "matbench_expt_gap",
    "matbench_expt_is_metal",
    "matbench_glass",
)
#: All 13 MatBench v0.1 tasks (in compositional form), smallest first.
ALL_TASKS = (
    "matbench_steels",
    "matbench_jdft2d",
    "matbench_phonons",
    "matbench_expt_gap",
    "matbench_dielectric",
    "matbench_expt_is_metal",
    "matbench_glass",
    "matbench_log_gvrh",
    "matbench_log_kvrh",
    "matbench_perovskites",
    "matbench_mp_gap",
    "matbench_mp_is_metal",
    "matbench_mp_e_form",
)
DEFAULT_TASKS = QUICK_TASKS

#: Estimator parameters per ``(model, task)`` pattern ("*" = any); merged least specific
#: first. Empty but for the seed: the benchmark runs the estimators' defaults, whose
#: ``"auto"`` training budget (batch size, epochs, patience, loss, learning rate and
#: schedule, ensemble size, validation split, width at 50k+ rows) is resolved in ``fit``
#: from the number of training rows (:mod:`skatomsets.estimators._auto`); so the published
#: table is what ``make_model(name, random_state=0)`` gives a user. Documented exceptions
#: go here.
CONFIG: dict[tuple[str, str], dict[str, Any]] = {
    ("*", "*"): {"random_state": 0},
}

#: Alternatives for :func:`select_candidate` (``tune=True``), per ``(model, task)`` pattern;
#: the first matching pattern, most specific first, gives the list. ``{}`` = :data:`CONFIG`.
CANDIDATES: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("atomsets", "*"): [{}, {"lr": 3e-3}, {"readout": "set2set"}],
    ("atomsets-v0", "*"): [{}, {"lr": 3e-3}, {"readout": "set2set"}],
    ("mlp-v0-stats", "*"): [{}, {"n_neurons": 64}, {"weight_decay": 1e-4}],
}
for _task in ("matbench_log_gvrh", "matbench_log_kvrh", "matbench_perovskites"):
    CANDIDATES[("atomsets", _task)] = [{}, {"readout": "set2set"}]
    CANDIDATES[("atomsets-v0", _task)] = [{}, {"readout": "set2set"}]
    CANDIDATES[("mlp-v0-stats", _task)] = [{}, {"n_neurons": 64}]
for _task in ("matbench_mp_gap", "matbench_mp_is_metal", "matbench_mp_e_form"):
    CANDIDATES[("*", _task)] = [{}]  # no tuning within the epoch budget

_REGRESSOR_ONLY = ("loss",)


def _lookup(table: dict[tuple[str, str], Any], model: str, task: str) -> list[Any]:
    """Entries of ``table`` matching (model, task), least specific first."""
    keys = [("*", "*"), (model, "*"), ("*", task), (model, task)]
    return [table[k] for k in keys if k in table]


def resolve_params(
    model: str,
    task: str,
    config: dict[tuple[str, str], dict[str, Any]] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Estimator parameters of ``model`` on ``task``.

    Parameters
    ----------
    model : str
        A model name (``"dummy"`` has no parameters).
    task : str
        A MatBench task name.
    config : dict, optional
        ``(model, task)`` pattern -> parameters; default :data:`CONFIG`.
    overrides : dict, optional
        Applied last (e.g. a tuned candidate, or ``max_epochs`` for a quick run).

    Returns
    -------
    dict

    Examples
    --------
    >>> resolve_params("mlp-v0-stats", "matbench_steels")
    {'random_state': 0}
    >>> "loss" in resolve_params("atomsets", "matbench_glass", overrides={"loss": "mae"})
    False
    """
    if model == "dummy":
        return {}
    params: dict[str, Any] = {}
    for entry in _lookup(CONFIG if config is None else config, model, task):
        params.update(entry)
    params.update(overrides or {})
    if is_classification(task):
        for k in _REGRESSOR_ONLY:
            params.pop(k, None)
    return params


class DummyModel(BaseEstimator):
    """A baseline in the same protocol: mean target (regression) or class prior.

    Wraps :class:`~sklearn.dummy.DummyRegressor` (``strategy="mean"``) or
    :class:`~sklearn.dummy.DummyClassifier` (``strategy="prior"``); the inputs (formulas,
    Compositions, anything with a length) are ignored.

    Parameters
    ----------
    classification : bool, default=False

    Examples
    --------
    >>> DummyModel().fit(["NaCl", "MgO"], [1.0, 3.0]).predict(["Fe2O3"])
    array([2.])
    """

    def __init__(self, classification: bool = False) -> None:
        self.classification = classification

    def fit(self, X: Any, y: Any) -> DummyModel:
        """Fit the dummy on the targets only.

        Parameters
        ----------
        X : sequence
            Ignored, apart from its length.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        if self.classification:
            self.model_: Any = DummyClassifier(strategy="prior")
        else:
            self.model_ = DummyRegressor(strategy="mean")
        self.model_.fit(np.zeros((len(X), 1)), np.asarray(y))
        if self.classification:
            self.classes_ = self.model_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Constant predictions, one per row of ``X``."""
        return self.model_.predict(np.zeros((len(X), 1)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The class prior for every row (classification only)."""
        return self.model_.predict_proba(np.zeros((len(X), 1)))

    def __sklearn_tags__(self):
        mixin = ClassifierMixin if self.classification else RegressorMixin
        tags = super().__sklearn_tags__()
        tags.estimator_type = mixin().__sklearn_tags__().estimator_type
        return tags


def make_benchmark_model(name: str, task: str, params: dict[str, Any]) -> Any:
    """An unfitted estimator for ``name`` on ``task`` (``"dummy"`` or a model name).

    Parameters
    ----------
    name : str
    task : str
    params : dict
        Parameters of the final estimator (from :func:`resolve_params`).

    Returns
    -------
    estimator
    """
    classification = is_classification(task)
    if name == "dummy":
        return DummyModel(classification=classification)
    from .models import make_model

    return make_model(name, classification=classification, **params)


def resolved_training_params(model: Any, n_train: int) -> dict[str, Any] | None:
    """The training parameters ``model`` resolves its ``"auto"`` values to on ``n_train`` rows.

    The same pure function of the estimator's parameters and the number of rows that
    ``fit`` applies (:func:`skatomsets.estimators._auto.resolve_training_params`); None for
    models without them (``"dummy"``).
    """
    from .estimators._auto import resolve_training_params

    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(final, "n_ensemble"):
        return None
    return resolve_training_params(final, int(n_train))


# ------------------------------------------------------------------------------- fold files
def fold_path(out_dir: str | os.PathLike[str], model: str, task: str, fold: int) -> Path:
    """Where the result of one model/task/fold is stored."""
    return Path(out_dir) / f"{model}__{task}__fold{int(fold)}.json"


_FOLD_KEYS = ("model", "task", "fold", "signature", "score", "y_true", "predictions")


def load_fold(path: str | os.PathLike[str], signature: dict[str, Any] | None = None):
    """A stored fold record, or None when it is missing, corrupt or stale.

    Parameters
    ----------
    path : path
    signature : dict, optional
        If given, the record must have been made with exactly this signature (model
        parameters, rows used); otherwise it is stale.

    Returns
    -------
    dict or None
    """
    rec = read_record(path, signature, required=_FOLD_KEYS)
    if rec is None:
        return None
    if not isinstance(rec["score"], (int, float)) or not math.isfinite(rec["score"]):
        return None
    if len(rec["y_true"]) != len(rec["predictions"]):
        return None
    return rec


def read_record(
    path: str | os.PathLike[str],
    signature: dict[str, Any] | None = None,
    required: Sequence[str] = (),
) -> dict[str, Any] | None:
    """A cached JSON record (fold, split or tuning score), or None when it cannot be reused.

    None when the file is missing or corrupt (e.g. an interrupted write), is not a JSON
    object, lacks one of the ``required`` keys, or (with ``signature``) was made with other
    parameters or rows. Every resumable runner reads its results through this.

    Parameters
    ----------
    path : path
    signature : dict, optional
        Must equal the record's ``"signature"`` (after a JSON round trip).
    required : sequence of str, default=()

    Returns
    -------
    dict or None
    """
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or any(k not in rec for k in required):
        return None
    if signature is not None and rec.get("signature") != _jsonable(signature):
        return None
    return rec


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


# ------------------------------------------------------------------------------- tuning
def _candidates(model: str, task: str) -> list[dict[str, Any]]:
    for key in [(model, task), ("*", task), (model, "*"), ("*", "*")]:
        if key in CANDIDATES:
            return CANDIDATES[key]
    return [{}]


def select_candidate(
    model: str,
    task: str,
    df: pd.DataFrame,
    base_params: dict[str, Any],
    candidates: Sequence[dict[str, Any]],
    out_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    compute: bool = True,
) -> dict[str, Any] | None:
    """Pick one candidate by inner validation on the training part of fold 0.

    The rows with ``test_fold != 0`` are split once (80/20, seed ``seed``, stratified for
    classification); each candidate (``base_params`` updated with it, ``n_ensemble=1``) is
    fitted on the 80 % and scored on the 20 % (MAE or ROC-AUC). The test rows of fold 0
    are never used, nor are any other folds' labels beyond fold 0's training rows.

    Parameters
    ----------
    model, task : str
    df : DataFrame
        The task's rows with ``composition``, ``target``, ``test_fold``.
    base_params : dict
    candidates : sequence of dict
    out_dir : path, optional
        Inner scores are cached here (resumable), one JSON per candidate.
    seed : int, default=0
    compute : bool, default=True
        False: use cached scores only, and return None if one is missing.

    Returns
    -------
    dict or None
        ``chosen`` (the winning overrides), ``index``, ``scores`` (one per candidate),
        ``metric``, ``n_inner_train``, ``n_inner_valid``.
    """
    classification = is_classification(task)
    if len(candidates) == 1:  # nothing to choose: fit nothing
        return {
            "chosen": dict(candidates[0]),
            "index": 0,
            "candidates": [dict(candidates[0])],
            "scores": [],
            "metric": "roc_auc" if classification else "mae",
            "n_inner_train": 0,
            "n_inner_valid": 0,
        }
    train = df[df["test_fold"] != 0]
    X, y = train["composition"].to_numpy(), train["target"].to_numpy()
    idx_tr, idx_va = train_test_split(
        np.arange(len(train)),
        test_size=0.2,
        random_state=seed,
        stratify=y if classification else None,
    )
    scores = []
    for i, cand in enumerate(candidates):
        params = {**base_params, **cand, "n_ensemble": 1}
        sig = {"params": params, "rows": len(df), "seed": seed}
        path = None if out_dir is None else Path(out_dir) / f"tune__{model}__{task}__c{i}.json"
        rec = None if path is None else read_record(path, sig, required=("score",))
        if rec is None and not compute:
            return None
        if rec is None:
            est = make_benchmark_model(model, task, params)
            t0 = time.perf_counter()
            est.fit(X[idx_tr], y[idx_tr])
            pred = est.predict_proba(X[idx_va])[:, 1] if classification else est.predict(X[idx_va])
            rec = {
                "signature": _jsonable(sig),
                "candidate": _jsonable(cand),
                "score": score_predictions(y[idx_va], pred, classification),
                "fit_seconds": time.perf_counter() - t0,
            }
            if path is not None:
                atomic_write_text(path, json.dumps(rec, indent=1))
        scores.append(float(rec["score"]))
    best = int(np.argmax(scores) if classification else np.argmin(scores))
    return {
        "chosen": dict(candidates[best]),
        "index": best,
        "candidates": [dict(c) for c in candidates],
        "scores": scores,
        "metric": "roc_auc" if classification else "mae",
        "n_inner_train": len(idx_tr),
        "n_inner_valid": len(idx_va),
    }


# ------------------------------------------------------------------------------- the run
def _require_out_dir(out_dir: str | os.PathLike[str] | None) -> Path:
    """The runners' output folder, created; there is no implicit default (no CWD writes)."""
    if out_dir is None:
        raise ValueError(
            "out_dir is required: the folder for the per-fold JSON files (the resume "
            "state); e.g. out_dir='benchmark_runs' (the CLI: --out-dir)"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


def run_benchmark(
    models: Iterable[str] = DEFAULT_MODELS,
    tasks: Iterable[str] = DEFAULT_TASKS,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    docs_dir: str | os.PathLike[str] | None = None,
    folds: Sequence[int] | None = None,
    limit: int | None = None,
    overrides: dict[str, Any] | None = None,
    config: dict[tuple[str, str], dict[str, Any]] | None = None,
    tune: bool = False,
    num_threads: int | None = 1,
    progress: bool = True,
    plots: bool = True,
    compute: bool = True,
) -> dict[str, Any]:
    """Run models x tasks on the official MatBench folds, resuming finished folds.

    Parameters
    ----------
    models : iterable of str
        Model names (:func:`skatomsets.models.available_models`) or ``"dummy"``.
    tasks : iterable of str
        MatBench task names (loaded with :func:`~skatomsets.datasets.load_matbench`).
    data_dir : path, optional
        Folder of ``matbench_<task>.csv.gz`` files.
    out_dir : path
        Required: one JSON per model/task/fold (and tuning scores); the resume state.
        Nothing is written anywhere else unless ``docs_dir`` is given.
    docs_dir : path or None, default=None
        Where the results JSON, the Markdown table and the parity / ROC plots go (None:
        nowhere; the results are returned). The CLI uses ``<out-dir>/report``.
    folds : sequence of int, optional
        Subset of the folds (default all five).
    limit : int, optional
        Use only the first ``limit`` rows of each task (quick checks).
    overrides : dict, optional
        Parameters applied last to every neural model (e.g. ``{"max_epochs": 5}``).
    config : dict, optional
        Replaces :data:`CONFIG`.
    tune : bool, default=False
        Choose among :data:`CANDIDATES` per model/task with :func:`select_candidate`.
    num_threads : int or None, default=1
        ``torch.set_num_threads`` for the run (None leaves it).
    progress : bool, default=True
        Show a tqdm bar over model/task/fold units.
    plots : bool, default=True
        Write parity plots for regression tasks.
    compute : bool, default=True
        False: fit nothing; report the folds already in ``out_dir`` (a run in progress, or
        an interrupted one). Model/task pairs with no finished fold are left out; the
        ``n_folds`` of each run says how many folds its mean covers.

    Returns
    -------
    dict
        The results (also written to ``docs_dir/matbench_results.json``).
    """
    from tqdm.auto import tqdm

    if num_threads is not None:
        import torch

        torch.set_num_threads(int(num_threads))
    models, tasks = list(models), list(tasks)
    out = _require_out_dir(out_dir)
    frames = {}
    for task in tasks:
        df = load_matbench(task, data_dir=data_dir, download=False)
        frames[task] = df.iloc[:limit] if limit else df
    fold_ids = {
        t: [int(k) for k in (folds or sorted(np.unique(df["test_fold"])))]
        for t, df in frames.items()
    }
    bar = tqdm(
        total=sum(len(fold_ids[t]) for t in tasks) * len(models),
        desc="benchmark",
        unit="fold",
        disable=not progress,
    )
    for_plots: dict[str, dict[str, list[dict[str, Any]]]] = {}
    results: dict[str, Any] = {
        "protocol": "MatBench v0.1 official 5-fold (test_fold column)",
        "limit": limit,
        "tuned": tune,
        "runs": [],
    }
    for task in tasks:
        df = frames[task]
        classification = is_classification(task)
        for model in models:
            params = resolve_params(model, task, config, overrides)
            tuning = None
            if tune and model != "dummy":
                bar.set_postfix_str(f"tuning {model} on {task}")
                tuning = select_candidate(
                    model,
                    task,
                    df,
                    params,
                    _candidates(model, task),
                    out_dir=out,
                    compute=compute,
                )
                if tuning is None:  # report only, tuning not finished
                    bar.update(len(fold_ids[task]))
                    continue
                params = resolve_params(
                    model, task, config, {**tuning["chosen"], **(overrides or {})}
                )
            signature = {"params": params, "rows": len(df)}
            records = []
            for k in fold_ids[task]:
                path = fold_path(out, model, task, k)
                rec = load_fold(path, signature)
                if rec is None and not compute:
                    bar.update(1)
                    continue
                if rec is None:
                    bar.set_postfix_str(f"{model} {task} fold {k}")
                    est = make_benchmark_model(model, task, params)
                    res: FoldResult = run_matbench_folds(est, df, classification, folds=[k])[0]
                    y_true = df.loc[df["test_fold"] == k, "target"].to_numpy()
                    rec = {
                        "model": model,
                        "task": task,
                        "fold": k,
                        "signature": _jsonable(signature),
                        "metric": res.metric,
                        "score": res.score,
                        "n_train": res.n_train,
                        "n_test": res.n_test,
                        "fit_seconds": res.fit_seconds,
                        "resolved": resolved_training_params(est, res.n_train),
                        "y_true": [float(v) for v in y_true],
                        "predictions": [float(f"{p:.5g}") for p in res.predictions],
                    }
                    if res.std:  # the ensemble spread: error bars of the parity plot
                        rec["std"] = [float(f"{s:.3g}") for s in res.std]
                    atomic_write_text(path, json.dumps(rec))
                    bar.write(
                        f"{model:>13} {task:<24} fold {k}: {res.metric} = {res.score:.4f}"
                        f" ({res.fit_seconds:.0f} s)"
                    )
                records.append(rec)
                bar.update(1)
            if not records:
                continue
            scores = np.array([r["score"] for r in records])
            extra = {}
            if classification:  # MatBench's own ROC-AUC is on recorded bool labels
                lab = np.array([_label_auc(r["y_true"], r["predictions"]) for r in records])
                extra = {"mean_labels": float(lab.mean()), "std_labels": float(lab.std())}
            results["runs"].append(
                {
                    "model": model,
                    "task": task,
                    "metric": "roc_auc" if classification else "mae",
                    "params": params,
                    "resolved": records[0].get("resolved"),
                    "tuning": tuning,
                    "folds": [
                        {
                            k: r[k]
                            for k in ("fold", "score", "n_train", "n_test", "fit_seconds")
                            if k in r
                        }
                        for r in records
                    ],
                    "n_folds": len(records),
                    "mean": float(scores.mean()),
                    "std": float(scores.std()),
                    "fit_seconds_total": float(sum(r.get("fit_seconds", 0.0) for r in records)),
                    **extra,
                }
            )
            if plots and docs_dir is not None and model != "dummy":
                for_plots.setdefault(task, {})[model] = records
    bar.close()
    if docs_dir is not None:
        docs = Path(docs_dir)
        docs.mkdir(parents=True, exist_ok=True)
        atomic_write_text(docs / "matbench_results.json", json.dumps(results, indent=1))
        atomic_write_text(docs / "matbench_table.md", markdown_table(results))
        atomic_write_text(docs / "matbench_runs.md", runs_table(results))
        if plots:
            for task, by_model in for_plots.items():
                if is_classification(task):
                    roc_plot(task, by_model, docs / f"roc_{task}.png")
                else:
                    parity_plot(task, by_model, docs / f"parity_{task}.png")
    return results


def _label_auc(y_true: Sequence[float], proba: Sequence[float]) -> float:
    """ROC-AUC of the labels ``proba >= 0.5`` (what MatBench scores; = balanced accuracy)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y_true), np.asarray(proba) >= 0.5))


def _fmt(value: float, task: str, scale: float | None = None) -> str:
    """4 decimals, or 1 for values (or a ``scale`` value) of magnitude 10 and above."""
    big = abs(value if scale is None else scale) >= 10 and not is_classification(task)
    return f"{value:.1f}" if big else f"{value:.4f}"


def markdown_table(results: dict[str, Any], reference: bool = True) -> str:
    """A Markdown table: tasks as rows, models as columns, ``mean ± std`` over folds.

    The best of our models per task is in bold. A cell averaging other than 5 folds says how
    many, e.g. ``0.93 ± 0.01 (3 folds)``. With ``reference=True`` the published MatBench
    v0.1 scores of :data:`skatomsets.matbench_reference.LEADERBOARD` follow (leaderboard
    best, best composition-only entry, MODNet, RF-SCM/Magpie). MatBench scores
    classification from recorded bool labels, so classification cells also give the
    ROC-AUC of our labels (``p >= 0.5``), the number comparable with those columns.

    Parameters
    ----------
    results : dict
        As returned by :func:`run_benchmark`.
    reference : bool, default=True

    Returns
    -------
    str
    """
    from .matbench_reference import LEADERBOARD

    runs = results["runs"]
    tasks = list(dict.fromkeys(r["task"] for r in runs))
    models = list(dict.fromkeys(r["model"] for r in runs))
    cell = {(r["model"], r["task"]): r for r in runs}
    head = ["task", "metric", *models]
    if reference:
        head += ["leaderboard best", "best composition-only", "MODNet", "RF-SCM/Magpie"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t in tasks:
        cls = is_classification(t)
        row = [t.removeprefix("matbench_"), "ROC-AUC ↑" if cls else "MAE ↓"]
        ours = [cell[m, t]["mean"] for m in models if (m, t) in cell and m != "dummy"]
        best = (max if cls else min)(ours) if ours else None
        for m in models:
            r = cell.get((m, t))
            if r is None:
                row.append("")
                continue
            text = f"{_fmt(r['mean'], t)} ± {_fmt(r['std'], t, r['mean'])}"
            if "mean_labels" in r and m != "dummy":
                text += f" (labels {r['mean_labels']:.3f})"
            if m != "dummy" and r["mean"] == best:
                text = f"**{text}**"
            n = r.get("n_folds", 5)
            row.append(text if n == 5 else f"{text} ({n} folds)")
        if reference:
            ref = LEADERBOARD.get(t)
            if ref is None:
                row += ["", "", "", ""]
            else:
                name, score, _ = ref["best"]
                comp = ref.get("best_composition")
                row += [
                    f"{_fmt(score, t)} ({name})",
                    f"{_fmt(comp[1], t)} ({comp[0]})"
                    if comp
                    else "same"
                    if not ref["best"][2]
                    else "",
                    _fmt(ref["modnet"], t),
                    _fmt(ref["rf_scm_magpie"], t),
                ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def runs_table(results: dict[str, Any]) -> str:
    """A Markdown table of how each model/task was run: budget, tuning choice, fit time.

    Parameters
    ----------
    results : dict
        As returned by :func:`run_benchmark`.

    Returns
    -------
    str
    """
    lines = [
        "| task | model | batch / lr / epochs (patience) / ensemble | chosen overrides "
        "| inner-validation scores | fit time, all folds |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        if r["model"] == "dummy":
            continue
        p, tuning = {**r["params"], **(r.get("resolved") or {})}, r.get("tuning") or {}
        budget = (
            f"{p.get('batch_size')} / {p.get('lr')} / {p.get('max_epochs')} "
            f"({p.get('patience')}) / {p.get('n_ensemble')}"
        )
        scores = ", ".join(f"{v:.4g}" for v in tuning.get("scores", [])) or "not tuned"
        chosen = json.dumps(tuning.get("chosen", {})) if tuning else "-"
        minutes = r["fit_seconds_total"] / 60
        lines.append(
            f"| {r['task'].removeprefix('matbench_')} | {r['model']} | {budget} | `{chosen}` "
            f"| {scores} | {minutes:.1f} min ({r['n_folds']} folds) |"
        )
    return "\n".join(lines) + "\n"


def parity_plot(
    task: str, by_model: dict[str, list[dict[str, Any]]], path: str | os.PathLike[str]
) -> None:
    """Test predictions of all folds against the truth, one panel per model.

    Each panel is a :class:`skatomsets.plotting.ParityDisplay`; the figure is built
    outside pyplot (no backend is chosen) and written with :func:`save_figure`.

    Parameters
    ----------
    task : str
    by_model : dict
        Model name -> fold records (with ``y_true``, ``predictions`` and, when recorded,
        ``std``).
    path : path
        PNG file to write.
    """
    from .plotting import ParityDisplay

    n = len(by_model)
    fig, axes = new_figure(1, n, figsize=(2.6 * n, 2.8))
    for ax, (model, records) in zip(axes[0], by_model.items(), strict=True):
        y = np.concatenate([r["y_true"] for r in records])
        p = np.concatenate([r["predictions"] for r in records])
        std = None
        if all("std" in r for r in records):
            std = np.concatenate([r["std"] for r in records])
        ParityDisplay.from_predictions(
            y,
            p,
            y_std=std,
            name=model,
            ax=ax,
            scatter_kwargs={"s": 3, "alpha": 0.4, "rasterized": True} if std is None else None,
        )
        ax.title.set_fontsize(8)
        ax.set_xlabel("true", fontsize=7)
        ax.set_ylabel("")
        ax.tick_params(labelsize=6)
    axes[0][0].set_ylabel("predicted (test folds)", fontsize=7)
    fig.suptitle(task, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def roc_plot(
    task: str, by_model: dict[str, list[dict[str, Any]]], path: str | os.PathLike[str]
) -> None:
    """ROC curves of the test-fold probabilities (all folds pooled), one line per model.

    Each line is a :class:`skatomsets.plotting.ROCDisplay`; the figure is built outside
    pyplot and written with :func:`save_figure`.

    Parameters
    ----------
    task : str
    by_model : dict
        Model name -> fold records (``y_true`` labels and ``predictions`` probabilities).
    path : path
        PNG file to write.
    """
    from .plotting import ROCDisplay

    fig, axes = new_figure(figsize=(3.4, 3.2))
    ax = axes[0][0]
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
    for model, records in by_model.items():
        y = np.concatenate([r["y_true"] for r in records])
        p = np.concatenate([r["predictions"] for r in records])
        ROCDisplay.from_predictions(y, p, name=model, ax=ax)
    ax.set_xlabel("false positive rate", fontsize=7)
    ax.set_ylabel("true positive rate (test folds)", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6, loc="lower right")
    ax.set_title(task, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
