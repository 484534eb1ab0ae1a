"""The structural AtomSets models on real crystal-structure sets (5-fold CV), resumable.

Tasks, models and budgets are :data:`~skatomsets.benchmarks.config.STRUCTURE_TASKS` (files of
a structure data folder, read with :func:`skatomsets.datasets.load_structure_set`;
files without ``test_fold`` get ``KFold(5, shuffle=True, random_state=18012019)``).

Protocol, per task and fold ``k`` (train on ``test_fold != k``, test on ``test_fold == k``):

1. **Featurize once** per dataset with the featurizer of the named pipeline
   (:func:`skatomsets.models.make_model`; ``allow_isolated=True`` for the MEGNet ones). The
   featurizers are per-structure and unsupervised, so featurizing before splitting leaks
   nothing; the rest of the pipeline (scaler + network) is fitted on training rows only.
2. **Nested selection** among a few candidate settings
   (:data:`~skatomsets.benchmarks.config.STRUCTURE_CANDIDATES`), using the training rows of
   fold ``k`` only (:func:`skatomsets.benchmarks.tuning.tune`: a fixed random 80/20
   permutation split of them, seed ``seed + k``); each candidate is trained on the 80 %
   (early stopping on its own 10 % validation split) and scored by MAE on the 20 %. The
   test fold is never seen.
3. **Refit** the chosen candidate on all training rows of fold ``k`` (with ``n_ensemble``
   members) and score the test fold (MAE).

One record per model/task/fold in ``OUT/folds`` (:mod:`~skatomsets.benchmarks.records`); a
rerun skips folds whose record exists with the same settings. :func:`report_structures`
writes ``summary.json``, ``table.md`` and a parity plot of the perovskites AtomSets-V1 test
predictions into ``OUT``. The command line is ``scripts/bench_structures.py``.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import atomic_write_text
from .config import STRUCTURE_CANDIDATES, STRUCTURE_COMMON, STRUCTURE_TASKS
from .plots import structures_parity_plot
from .records import RecordStore, jsonable
from .reporting import structures_summary, structures_table
from .tuning import tune

__all__ = [
    "featurize",
    "make_estimator",
    "report_structures",
    "run_structure_task",
    "select",
]


def _fold_store(out_dir: str | os.PathLike[str]) -> RecordStore:
    return RecordStore(Path(out_dir) / "folds")


def _usable(rec: dict[str, Any]) -> bool:
    return isinstance(rec.get("mae"), (int, float)) and bool(np.isfinite(rec["mae"]))


def featurize(model: str, structures: np.ndarray) -> tuple[Any, Any, dict[str, Any]]:
    """Featurize with the named pipeline's first step; return (X, rest_of_pipeline, info).

    Parameters
    ----------
    model : str
        A :func:`skatomsets.models.make_model` name.
    structures : ndarray of Structure

    Returns
    -------
    X : RaggedSets or ndarray
        The features of all structures.
    template : Pipeline
        The remaining (unfitted) pipeline steps (scaler, network).
    info : dict
        ``seconds`` and ``per_second`` (structures per second) of the featurization.
    """
    from sklearn.pipeline import Pipeline

    from ..models import make_model

    pipe = make_model(model)
    featurizer = pipe.steps[0][1]
    if "allow_isolated" in featurizer.get_params():
        featurizer.set_params(allow_isolated=True)
    t0 = time.perf_counter()
    X = featurizer.fit().transform(structures)
    seconds = time.perf_counter() - t0
    info = {"seconds": seconds, "per_second": len(structures) / max(seconds, 1e-9)}
    return X, Pipeline(pipe.steps[1:]), info


def make_estimator(template: Any, params: dict[str, Any]) -> Any:
    """A fresh clone of ``template`` with ``params`` set on its final step."""
    from sklearn.base import clone

    est = clone(template)
    last = est.steps[-1][0]
    est.set_params(**{f"{last}__{k}": v for k, v in params.items()})
    return est


def _mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred - y_true)))


def select(
    template: Any,
    X: Any,
    y: np.ndarray,
    train: np.ndarray,
    candidates: list[dict[str, Any]],
    base: dict[str, Any],
    seed: int,
) -> tuple[int, list[float]]:
    """Pick a candidate by inner validation on the training rows only (:func:`tune`).

    Parameters
    ----------
    template : Pipeline
        Unfitted model (scaler/network steps).
    X : RaggedSets or ndarray
        Features of all rows.
    y : ndarray
        Targets of all rows.
    train : ndarray of int
        Indices of the outer training rows.
    candidates : list of dict
        Overrides to compare.
    base : dict
        Parameters shared by all candidates (``n_ensemble`` is forced to 1 here).
    seed : int
        Seed of the inner 80/20 split.

    Returns
    -------
    best : int
        Index of the chosen candidate.
    scores : list of float
        Inner-validation MAE of every candidate (``[nan]`` for a single candidate).
    """
    out = tune(
        lambda params: make_estimator(template, params),
        X,
        y,
        train,
        base,
        candidates,
        seed=seed,
        split="permutation",
        score=_mae,
    )
    return out["index"], out["scores"] or [float("nan")]


def run_structure_task(
    task: str,
    data_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    models: Sequence[str] | None = None,
    folds: Sequence[int] | None = None,
    seed: int = 0,
    threads: int = 1,
    budget: dict[str, Any] | None = None,
    select_candidates: bool = True,
    log: Callable[[str], None] = print,
) -> None:
    """Run every requested model and fold of one task (featurizing each model's input once).

    Parameters
    ----------
    task : str
        A key of :data:`~skatomsets.benchmarks.config.STRUCTURE_TASKS`.
    data_dir : path
        Folder with the structure files.
    out_dir : path
        Results folder (records in ``out_dir/folds``).
    models : sequence of str, optional
        Subset of the task's models.
    folds : sequence of int, optional
        Subset of the folds.
    seed : int, default=0
        Network and inner-split seed (``seed + k`` on fold ``k``).
    threads : int, default=1
        Recorded with each fold (torch threads are the caller's).
    budget : dict, optional
        Overrides of the task's budget (``max_epochs``, ``patience``, ``n_ensemble``).
    select_candidates : bool, default=True
        False: the first candidate only.
    log : callable, default=print
    """
    from tqdm import tqdm

    from ..datasets import load_structure_set

    spec = STRUCTURE_TASKS[task]
    base_budget = {**spec["budget"], **(budget or {})}
    store = _fold_store(out_dir)
    t0 = time.perf_counter()
    df = load_structure_set(Path(data_dir) / spec["file"], spec["target"])
    log(f"[{task}] loaded {len(df)} structures in {time.perf_counter() - t0:.1f} s")
    structures = df["structure"].to_numpy()
    y = df["target"].to_numpy(dtype=float)
    test_fold = df["test_fold"].to_numpy()
    folds = list(folds) if folds is not None else sorted(np.unique(test_fold).tolist())
    for model in [m for m in spec["models"] if models is None or m in models]:
        candidates = STRUCTURE_CANDIDATES[model]
        candidates = candidates if select_candidates else candidates[:1]
        base = {**STRUCTURE_COMMON, **base_budget}
        signature = jsonable(
            {
                "task": task,
                "model": model,
                "n_rows": len(df),
                "base": base,
                "candidates": candidates,
                "seed": seed,
            }
        )
        todo = [
            k
            for k in folds
            if not store.exists(model, task, f"fold{k}", signature=signature, valid=_usable)
        ]
        if not todo:
            log(f"[{task}] {model}: all folds done")
            continue
        X, template, feat = featurize(model, structures)
        log(
            f"[{task}] {model}: featurized {len(df)} in {feat['seconds']:.1f} s "
            f"({feat['per_second']:.0f} structures/s)"
        )
        for k in tqdm(todo, desc=f"{task} {model}", mininterval=10):
            train = np.flatnonzero(test_fold != k)
            test = np.flatnonzero(test_fold == k)
            fold_seed = seed + int(k)
            t1 = time.perf_counter()
            best, scores = select(
                template, X, y, train, candidates, base | {"random_state": fold_seed}, fold_seed
            )
            t2 = time.perf_counter()
            est = make_estimator(template, {**base, **candidates[best], "random_state": fold_seed})
            est.fit(X[train], y[train])
            t3 = time.perf_counter()
            pred = est.predict(X[test])
            mae = float(np.mean(np.abs(pred - y[test])))
            rec = {
                "task": task, "model": model, "fold": int(k), "signature": signature,
                "mae": mae, "chosen": candidates[best], "inner_scores": scores,
                "select_seconds": t2 - t1, "fit_seconds": t3 - t2,
                "best_epochs": [int(e) for e in est.steps[-1][1].best_epochs_],
                "n_train": len(train), "n_test": len(test),
                "featurize": feat, "ids": df["id"].iloc[test].tolist(),
                "y_true": y[test].tolist(), "predictions": [float(p) for p in pred],
                "host": platform.node(), "torch_threads": threads,
            }  # fmt: skip
            store.write(rec, model, task, f"fold{k}")
            tqdm.write(
                f"[{task}] {model} fold {k}: MAE {mae:.4f} (chose {candidates[best]}, inner "
                f"{[round(s, 4) for s in scores]}; select {t2 - t1:.0f} s, fit {t3 - t2:.0f} s)"
            )


def report_structures(
    out_dir: str | os.PathLike[str], parity: tuple[str, str] | None = ("perovskites", "atomsets-v1")
) -> dict[str, Any]:
    """Aggregate the fold records in ``out_dir/folds`` into summary.json, table.md and a plot.

    Parameters
    ----------
    out_dir : path
        The results folder.
    parity : (task, model) or None, default=("perovskites", "atomsets-v1")
        Whose test predictions go into ``parity_<task>_<model>.png`` (when it has records).

    Returns
    -------
    dict
        The summary (task -> model -> per-fold MAE, mean, std, ...).
    """
    import json

    out = Path(out_dir)
    store = _fold_store(out)
    summary = structures_summary(store.load_all())
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, sort_keys=True))
    atomic_write_text(out / "table.md", structures_table(summary))
    if parity is not None:
        task, model = parity
        records = store.load_all(f"{model}__{task}__*")
        if records:
            structures_parity_plot(task, model, records, out / f"parity_{task}_{model}.png")
    return summary
