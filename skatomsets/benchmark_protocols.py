"""Deprecated: the protocols runner moved to :mod:`skatomsets.benchmarks.protocols`.

Tables are in :mod:`skatomsets.benchmarks.reporting`, plots in
:mod:`skatomsets.benchmarks.plots`. This alias will be removed in a future release.
"""

from __future__ import annotations

import warnings

from .benchmarks.config import CONVERGENCE_SIZES, PROTOCOLS
from .benchmarks.plots import convergence_plot, extrapolation_plot
from .benchmarks.protocols import protocol_splits, run_protocols, split_params
from .benchmarks.reporting import protocols_table

warnings.warn(
    "skatomsets.benchmark_protocols is deprecated and will be removed; use "
    "skatomsets.benchmarks.protocols",
    FutureWarning,
    stacklevel=2,
)

__all__ = [
    "CONVERGENCE_SIZES",
    "PROTOCOLS",
    "convergence_plot",
    "extrapolation_plot",
    "protocol_splits",
    "protocols_table",
    "run_protocols",
    "split_params",
]
