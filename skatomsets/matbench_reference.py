"""Deprecated: the published MatBench scores moved to :mod:`skatomsets.benchmarks.reference`.

This alias will be removed in a future release.
"""

from __future__ import annotations

import warnings

from .benchmarks.reference import LEADERBOARD, LEADERBOARD_SOURCE

warnings.warn(
    "skatomsets.matbench_reference is deprecated and will be removed; use "
    "skatomsets.benchmarks.reference",
    FutureWarning,
    stacklevel=2,
)

__all__ = ["LEADERBOARD", "LEADERBOARD_SOURCE"]
