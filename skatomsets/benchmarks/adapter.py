"""Run any skatomsets pipeline through the official ``matbench`` package API.

For submissions to the MatBench leaderboard, the ``matbench`` package's
``MatbenchBenchmark`` drives the folds and records predictions itself::

    from matbench.bench import MatbenchBenchmark
    from skatomsets.benchmarks.adapter import run_matbench_benchmark

    mb = MatbenchBenchmark(autoload=False, subset=["matbench_steels"])
    run_matbench_benchmark(mb, lambda task: make_model("atomsets-v0", task.metadata.task_type
                                                       == "classification"))
    mb.to_file("results.json.gz")

The adapter only uses the documented API (``tasks``, ``task.load()``, ``task.folds``,
``task.get_train_and_val_data(fold)``, ``task.get_test_data(fold, include_target=False)``,
``task.record(fold, predictions)``, ``benchmark.to_file(path)``); ``matbench`` itself is
not a dependency of skatomsets. Each fold is fitted and predicted by the same step as
:func:`skatomsets.protocols.run_matbench_folds` (a clone of the model per fold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..protocols import _fit_predict

__all__ = ["is_classification_task", "run_matbench_benchmark"]


def is_classification_task(task: Any) -> bool:
    """Whether a ``matbench`` task is a classification task (from its metadata)."""
    meta = getattr(task, "metadata", None)
    task_type = getattr(meta, "task_type", None) if meta is not None else None
    if task_type is None and isinstance(meta, dict):
        task_type = meta.get("task_type")
    return str(task_type).lower() == "classification"


def run_matbench_benchmark(
    benchmark: Any,
    model_factory: Callable[[Any], Any],
    output: str | None = None,
    progress: bool = True,
) -> Any:
    """Fit and record a model on every fold of every task of a ``MatbenchBenchmark``.

    Parameters
    ----------
    benchmark : matbench.bench.MatbenchBenchmark
    model_factory : callable
        ``model_factory(task)`` returns an unfitted estimator or Pipeline for the task; it
        is cloned for each fold. Classification tasks record bool labels (positive-class
        probability >= 0.5), as ``MatbenchTask.validate`` requires, so the leaderboard's
        ROC-AUC is computed from labels; regression tasks record ``predict`` as floats.
    output : str, optional
        If given, ``benchmark.to_file(output)`` is called at the end.
    progress : bool, default=True
        Print one line per fold.

    Returns
    -------
    benchmark
    """
    for task in benchmark.tasks:
        task.load()
        classification = is_classification_task(task)
        template = model_factory(task)
        for fold in task.folds:
            X_train, y_train = task.get_train_and_val_data(fold)
            X_test = task.get_test_data(fold, include_target=False)
            pred, _, _ = _fit_predict(
                template,
                _values(X_train),
                _values(y_train),
                _values(X_test),
                classification,
                return_std=False,
            )
            if classification:  # MatBench validates bool labels (its ROC-AUC is on labels)
                pred = pred >= 0.5
            else:
                pred = np.asarray(pred, dtype=float)
            task.record(fold, np.asarray(pred))
            if progress:
                print(f"{getattr(task, 'dataset_name', task)} fold {fold}: recorded {len(pred)}")
    if output is not None:
        benchmark.to_file(output)
    return benchmark


def _values(x: Any) -> np.ndarray:
    return x.to_numpy() if hasattr(x, "to_numpy") else np.asarray(x)
