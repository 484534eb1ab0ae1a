"""Deprecated: the MatBench benchmark runner moved to :mod:`skatomsets.benchmarks`.

Use :mod:`skatomsets.benchmarks` (``run_benchmark``, ``CONFIG``, ...) or its modules
(:mod:`~skatomsets.benchmarks.config`, :mod:`~skatomsets.benchmarks.matbench`,
:mod:`~skatomsets.benchmarks.reporting`, ...). This alias will be removed in a future release.
"""

from __future__ import annotations

import warnings

from .benchmarks.baselines import DummyModel, make_benchmark_model, resolved_training_params
from .benchmarks.config import (
    ALL_TASKS,
    CANDIDATES,
    CONFIG,
    DEFAULT_MODELS,
    DEFAULT_TASKS,
    QUICK_TASKS,
    resolve_params,
)
from .benchmarks.matbench import fold_path, load_fold, run_benchmark
from .benchmarks.plots import parity_plot, roc_plot
from .benchmarks.records import read_record
from .benchmarks.reporting import markdown_table, runs_table
from .benchmarks.tuning import select_candidate

warnings.warn(
    "skatomsets.benchmark is deprecated and will be removed; use skatomsets.benchmarks",
    FutureWarning,
    stacklevel=2,
)

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
    "parity_plot",
    "read_record",
    "resolve_params",
    "resolved_training_params",
    "roc_plot",
    "run_benchmark",
    "runs_table",
    "select_candidate",
]
