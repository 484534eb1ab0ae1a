"""Weighted statistics over feature sets -> fixed-length vectors (the paper's *-stats models)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _csr
from ..exceptions import InvalidExtraInputError
from ..sets import RaggedSets, sets_from_column, to_sets

__all__ = ["SET_STATS", "SetStatsTransformer"]

#: Statistics :class:`SetStatsTransformer` can compute.
SET_STATS = ("mean", "std", "min", "max", "range")


class SetStatsTransformer(TransformerMixin, BaseEstimator):
    """Weighted statistics of each feature over each set.

    ``mean`` and ``std`` use the member weights (atomic fractions / occupancies); ``min``,
    ``max`` and ``range`` are taken over the members. The paper's MLP-V0-stats model is
    ``ElementEmbeddingFeaturizer() -> SetStatsTransformer() -> AtomSetsMLPRegressor()``.

    Parameters
    ----------
    stats : sequence of str, default=("mean", "std", "min", "max", "range")
        Which statistics, in output order (any of :data:`SET_STATS`).

    Attributes
    ----------
    n_features_in_ : int
        Width of the member feature rows seen in ``fit``.
    feature_names_in_ : ndarray of str
        Member feature names seen in ``fit`` (when the input carried names).
    extra_names_in_ : ndarray of str or None
        Names of the extra per-set inputs seen in ``fit`` (``RaggedSets.extras``); they are
        appended, unchanged, as the last output columns.

    Notes
    -----
    A 2-D array input is read as one single-member set per row (so ``mean`` is the row
    itself and ``std``/``range`` are zero).
    """

    _parameter_constraints: dict = {"stats": [str, tuple, list]}

    def __init__(self, stats: tuple[str, ...] = SET_STATS) -> None:
        self.stats = stats

    def fit(self, X: Any, y: Any = None):
        """Check the statistics and record the input width.

        Parameters
        ----------
        X : RaggedSets, column of per-material sets or array-like of shape (n_samples, n_features)
            A column of sets is what a set featurizer's ``featurize_dataframe`` writes.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        stats = [self.stats] if isinstance(self.stats, str) else list(self.stats)
        bad = [s for s in stats if s not in SET_STATS]
        if bad or not stats:
            raise ValueError(f"stats must be a non-empty subset of {SET_STATS}, got {self.stats!r}")
        X = sets_from_column(X)
        self.extra_names_in_ = None
        if isinstance(X, RaggedSets):
            self.n_features_in_ = X.n_features
            self.feature_names_in_ = np.asarray(X.feature_names, dtype=object)
            if X.extras is not None:
                self.extra_names_in_ = X.extra_names.copy()
        else:
            validate_data(self, X, dtype=np.float64)
        self._stats = stats
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Compute the statistics.

        Parameters
        ----------
        X : RaggedSets or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features * len(stats) + n_extras)
            Columns grouped by statistic, in the order of ``stats``, then the extra inputs.
        """
        check_is_fitted(self)
        X = sets_from_column(X)
        if isinstance(X, RaggedSets):
            if X.n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {X.n_features} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            sets = X
        else:
            sets = to_sets(validate_data(self, X, dtype=np.float64, reset=False))
        expected = getattr(self, "extra_names_in_", None)
        got = sets.extra_names if sets.extras is not None else None
        if (expected is None) != (got is None) or (
            expected is not None and list(expected) != list(got)
        ):
            raise InvalidExtraInputError(
                f"X has extra inputs {None if got is None else list(got)}, but "
                f"{type(self).__name__} was fitted with "
                f"{None if expected is None else list(expected)}"
            )
        stats_out = self._stats_of(sets)
        if sets.extras is None:
            return stats_out
        return np.concatenate([stats_out, sets.extras.astype(np.float64)], axis=1)

    def _stats_of(self, sets: RaggedSets) -> np.ndarray:
        x = sets.values.astype(np.float64)
        w = sets.weights.astype(np.float64)[:, None]
        if len(sets) == 0:
            return np.zeros((0, x.shape[1] * len(self._stats)))
        starts = sets.offsets[:-1]
        out = {}
        mean = np.add.reduceat(w * x, starts, axis=0)
        out["mean"] = mean
        if "std" in self._stats:
            dev = x - _csr.expand(mean, sets.offsets)
            out["std"] = np.sqrt(np.maximum(np.add.reduceat(w * dev * dev, starts, axis=0), 0))
        if {"min", "max", "range"} & set(self._stats):
            lo = np.minimum.reduceat(x, starts, axis=0)
            hi = np.maximum.reduceat(x, starts, axis=0)
            out.update(min=lo, max=hi, range=hi - lo)
        return np.concatenate([out[s] for s in self._stats], axis=1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output names ``<stat>_<feature>``."""
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{j}" for j in range(self.n_features_in_)]
            )
        names = [f"{s}_{f}" for s in self._stats for f in input_features]
        extra = getattr(self, "extra_names_in_", None)
        names += [] if extra is None else list(extra)
        return np.asarray(names, dtype=object)
