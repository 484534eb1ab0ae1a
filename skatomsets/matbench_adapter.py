"""Deprecated: the ``matbench`` package adapter moved to :mod:`skatomsets.benchmarks.adapter`.

This alias will be removed in a future release.
"""

from __future__ import annotations

import warnings

from .benchmarks.adapter import is_classification_task, run_matbench_benchmark

warnings.warn(
    "skatomsets.matbench_adapter is deprecated and will be removed; use "
    "skatomsets.benchmarks.adapter",
    FutureWarning,
    stacklevel=2,
)

__all__ = ["is_classification_task", "run_matbench_benchmark"]
