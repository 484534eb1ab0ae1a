"""MatBench benchmark runner: models x tasks on the official folds, resumable.

:func:`run_benchmark` runs a set of named models (:func:`skatomsets.models.make_model`
names plus ``"dummy"``) on a set of MatBench tasks with the official 5 folds (the
``test_fold`` column of :func:`skatomsets.datasets.load_matbench`), each fold through
:func:`skatomsets.protocols.run_matbench_folds`, and writes

- one JSON record per model/task/fold into ``out_dir``
  (:mod:`~skatomsets.benchmarks.records`: written atomically; a run that is interrupted
  resumes where it stopped: a fold whose record exists, parses, and was made with the same
  parameters and rows is not run again; a missing, corrupt or stale record is recomputed);
- ``matbench_results.json`` (per-fold scores, mean and std, parameters, wall times),
  ``matbench_table.md`` (mean ± std of the test MAE or ROC-AUC per model and task,
  :func:`~skatomsets.benchmarks.reporting.markdown_table`), ``matbench_runs.md`` and
  ``parity_<task>.png`` / ``roc_<task>.png`` into ``docs_dir`` when one is given.

Parameters come from :data:`~skatomsets.benchmarks.config.CONFIG` (only the seed: every
model runs with its defaults). With ``tune=True`` (``skatomsets benchmark --tune``) each
(model, task) picks one of its :data:`~skatomsets.benchmarks.config.CANDIDATES` **by inner
validation on the training part of fold 0 only**
(:func:`~skatomsets.benchmarks.tuning.select_candidate`); the chosen overrides are then fixed
for all five folds. The test folds are never looked at for tuning. The choice and the inner
scores are recorded in the results JSON. Explicit ``overrides`` (e.g. the CLI's ``--set
max_epochs=5``) are applied last, to every model but ``"dummy"``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import is_classification, load_matbench
from ..io.files import atomic_write_text
from ..protocols import FoldResult, run_matbench_folds
from .baselines import make_benchmark_model, resolved_training_params, same_defaults
from .config import DEFAULT_MODELS, DEFAULT_TASKS, candidates, resolve_params
from .plots import parity_plot, roc_plot
from .records import RecordStore, jsonable, read_record, require_out_dir, write_record
from .reporting import label_auc, markdown_table, runs_table
from .tuning import select_candidate

__all__ = ["fold_path", "load_fold", "run_benchmark"]


def fold_path(out_dir: str | os.PathLike[str], model: str, task: str, fold: int) -> Path:
    """Where the record of one model/task/fold is stored."""
    return RecordStore(out_dir).path(model, task, f"fold{int(fold)}")


_FOLD_KEYS = ("model", "task", "fold", "signature", "score", "y_true", "predictions")


def _usable_fold(rec: dict[str, Any]) -> bool:
    if not isinstance(rec["score"], (int, float)) or not math.isfinite(rec["score"]):
        return False
    return len(rec["y_true"]) == len(rec["predictions"])


def _fold_record(
    model: str,
    task: str,
    df: Any,
    res: FoldResult,
    signature: dict[str, Any],
    est: Any,
) -> dict[str, Any]:
    """The record of one finished fold: score, sizes, resolved budget, predictions."""
    y_true = df.loc[df["test_fold"] == res.fold, "target"].to_numpy()
    rec = {
        "model": model,
        "task": task,
        "fold": res.fold,
        "signature": jsonable(signature),
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
    return rec


def _run_folds(
    out: Path,
    model: str,
    task: str,
    df: Any,
    est: Any,
    signature: dict[str, Any],
    folds: list[int],
    bar: Any,
) -> dict[int, dict[str, Any]]:
    """Fit ``folds`` of the unfitted ``est`` (each on a clone) through
    :func:`run_matbench_folds`, writing each record when it is done."""
    done: dict[int, dict[str, Any]] = {}

    def save(res: FoldResult) -> None:
        done[res.fold] = rec = _fold_record(model, task, df, res, signature, est)
        write_record(fold_path(out, model, task, res.fold), rec)
        bar.write(
            f"{model:>13} {task:<24} fold {res.fold}: {res.metric} = {res.score:.4f}"
            f" ({res.fit_seconds:.0f} s)"
        )
        bar.update(1)

    run_matbench_folds(est, df, is_classification(task), folds=folds, callback=save)
    return done


#: Training parameters that became ``"auto"`` after records were first written, with the
#: fixed default they had before: a record without the key was made with that value.
_BEFORE_AUTO = {"readout": "mean"}


def load_fold(
    path: str | os.PathLike[str],
    signature: dict[str, Any] | None = None,
    estimator: Any = None,
):
    """A stored fold record, or None when it is missing, corrupt or stale.

    Parameters
    ----------
    path : path
    signature : dict, optional
        If given, the record must have been made with exactly this signature (model
        parameters, rows used); otherwise it is stale.
    estimator : estimator or Pipeline, optional
        If given, the record's resolved training budget (``"resolved"``) must equal what
        this estimator's ``"auto"`` parameters resolve to for the record's ``n_train``
        today (the number of threads aside); otherwise the size rules changed since the
        record was made and it is stale.

    Returns
    -------
    dict or None
    """

    def valid(rec: dict[str, Any]) -> bool:
        return _usable_fold(rec) and (
            estimator is None or same_defaults(rec, estimator, before_auto=_BEFORE_AUTO)
        )

    return read_record(path, signature, required=_FOLD_KEYS, valid=valid)


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
        Replaces :data:`~skatomsets.benchmarks.config.CONFIG`.
    tune : bool, default=False
        Choose among :data:`~skatomsets.benchmarks.config.CANDIDATES` per model/task with
        :func:`~skatomsets.benchmarks.tuning.select_candidate`.
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
    out = require_out_dir(out_dir)
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
                    candidates(model, task),
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
            current = make_benchmark_model(model, task, params)
            found = {
                k: load_fold(fold_path(out, model, task, k), signature, current)
                for k in fold_ids[task]
            }
            todo = [k for k, rec in found.items() if rec is None]
            bar.update(len(found) - len(todo))
            if todo and compute:
                bar.set_postfix_str(f"{model} {task}")
                found.update(_run_folds(out, model, task, df, current, signature, todo, bar))
            elif todo:  # report only: the folds not finished are left out
                bar.update(len(todo))
            records = [rec for rec in found.values() if rec is not None]
            if not records:
                continue
            scores = np.array([r["score"] for r in records])
            extra = {}
            if classification:  # MatBench's own ROC-AUC is on recorded bool labels
                lab = np.array([label_auc(r["y_true"], r["predictions"]) for r in records])
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
