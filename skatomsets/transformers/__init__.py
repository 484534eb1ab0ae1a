"""Transformers on feature sets."""

from .set_stats import SetStatsTransformer

__all__ = ["SetStatsTransformer"]
