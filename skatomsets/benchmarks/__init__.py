"""The benchmarks: resumable runners, their records, tables and plots.

Nothing in the library imports this subpackage (only ``skatomsets benchmark`` does, when it
runs); the scripts in ``scripts/`` are thin command lines over it.

==========================  ===================================================================
:mod:`.config`              models, task groups, parameters (``CONFIG``), tuning candidates,
                            convergence sizes, the structure-set and parent-comparison tasks
:mod:`.records`             the one record store: one atomic JSON file per result, read back
                            only when complete and made with the same signature (resume)
:mod:`.baselines`           the dummy baseline, the named models with their parameters
:mod:`.tuning`              choosing among candidates by inner validation (written once)
:mod:`.matbench`            the MatBench runner (official folds, ``run_benchmark``)
:mod:`.protocols`           random / convergence / extrapolation runner (``run_protocols``)
:mod:`.structures`          the structure sets (``scripts/bench_structures.py``)
:mod:`.parents`             CHGNet vs MEGNet levels (``scripts/bench_parents.py``)
:mod:`.learning_curves`     MEGNet vs AtomSets learning curves (``scripts/learning_curves.py``)
:mod:`.reporting`           the Markdown tables (reports only, nothing fitted)
:mod:`.plots`               the figures, through :mod:`skatomsets.plotting`'s Displays
:mod:`.reference`           published MatBench v0.1 scores and the paper's numbers
:mod:`.adapter`             any pipeline through the ``matbench`` package's API
==========================  ===================================================================

No function here writes anywhere it is not told to: the runners require ``out_dir`` (the
records) and write reports only into a given ``docs_dir``.
"""

from __future__ import annotations

from .adapter import run_matbench_benchmark
from .baselines import DummyModel, make_benchmark_model, resolved_training_params
from .config import (
    ALL_TASKS,
    CANDIDATES,
    CONFIG,
    CONVERGENCE_SIZES,
    DEFAULT_MODELS,
    DEFAULT_TASKS,
    PROTOCOLS,
    QUICK_TASKS,
    TASK_GROUPS,
    resolve_params,
)
from .matbench import fold_path, load_fold, run_benchmark
from .protocols import protocol_splits, run_protocols, split_params
from .records import RecordStore, read_record, write_record
from .reference import LEADERBOARD
from .reporting import markdown_table, protocols_table, runs_table
from .tuning import select_candidate, tune

__all__ = [
    "ALL_TASKS",
    "CANDIDATES",
    "CONFIG",
    "CONVERGENCE_SIZES",
    "DEFAULT_MODELS",
    "DEFAULT_TASKS",
    "LEADERBOARD",
    "PROTOCOLS",
    "QUICK_TASKS",
    "TASK_GROUPS",
    "DummyModel",
    "RecordStore",
    "fold_path",
    "load_fold",
    "make_benchmark_model",
    "markdown_table",
    "protocol_splits",
    "protocols_table",
    "read_record",
    "resolve_params",
    "resolved_training_params",
    "run_benchmark",
    "run_matbench_benchmark",
    "run_protocols",
    "runs_table",
    "select_candidate",
    "split_params",
    "tune",
    "write_record",
]
