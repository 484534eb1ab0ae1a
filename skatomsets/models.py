"""The paper's models as ready-made scikit-learn Pipelines, by name.

=================  ========================================================================
name               pipeline
=================  ========================================================================
``atomsets``       atomic numbers -> trainable 16-dim embedding -> AtomSets (no transfer)
``atomsets-v0``    megnet16 element embedding (V0, transferred) -> AtomSets
``mlp-v0-stats``   V0 -> weighted mean/std/min/max/range -> scaler -> MLP
=================  ========================================================================

Structure models (``atomsets-v1`` ... ``mlp-f``) are registered by
:mod:`skatomsets.featurizers.megnet` when it is importable; see :func:`available_models`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .estimators import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
)
from .featurizers import ElementEmbeddingFeaturizer
from .transformers import SetStatsTransformer

__all__ = ["available_models", "make_model", "register_model"]

_REGISTRY: dict[str, Callable[..., Pipeline]] = {}


def register_model(name: str) -> Callable[[Callable[..., Pipeline]], Callable[..., Pipeline]]:
    """Decorator registering a pipeline factory ``f(classification, **estimator_params)``."""

    def deco(factory: Callable[..., Pipeline]) -> Callable[..., Pipeline]:
        _REGISTRY[name] = factory
        return factory

    return deco


def available_models() -> list[str]:
    """Names accepted by :func:`make_model`."""
    _load_optional()
    return sorted(_REGISTRY)


def make_model(name: str, classification: bool = False, **params: Any) -> Pipeline:
    """Build one of the paper's models as an unfitted Pipeline.

    Parameters
    ----------
    name : str
        One of :func:`available_models`.
    classification : bool, default=False
        Build the classifier variant.
    **params
        Parameters of the final estimator (e.g. ``max_epochs=300, random_state=0``).

    Examples
    --------
    >>> make_model("atomsets-v0", max_epochs=10).steps[-1][1].max_epochs
    10
    """
    _load_optional()
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of {available_models()}")
    return _REGISTRY[name](classification, **params)


def _load_optional() -> None:
    try:  # structure models live with the MEGNet featurizers
        from .featurizers import megnet  # noqa: F401
    except ImportError:  # pragma: no cover - optional part missing
        pass


def set_estimator(classification: bool, **params: Any):
    """An AtomSets regressor or classifier."""
    return (AtomSetsClassifier if classification else AtomSetsRegressor)(**params)


def mlp_estimator(classification: bool, **params: Any):
    """An MLP regressor or classifier."""
    return (AtomSetsMLPClassifier if classification else AtomSetsMLPRegressor)(**params)


@register_model("atomsets")
def _atomsets(classification: bool, **params: Any) -> Pipeline:
    params.setdefault("embedding_dim", 16)
    return Pipeline(
        [
            ("featurize", ElementEmbeddingFeaturizer("atomic_number")),
            ("model", set_estimator(classification, **params)),
        ]
    )


@register_model("atomsets-v0")
def _atomsets_v0(classification: bool, **params: Any) -> Pipeline:
    return Pipeline(
        [
            ("featurize", ElementEmbeddingFeaturizer("megnet16")),
            ("model", set_estimator(classification, **params)),
        ]
    )


@register_model("mlp-v0-stats")
def _mlp_v0_stats(classification: bool, **params: Any) -> Pipeline:
    return Pipeline(
        [
            ("featurize", ElementEmbeddingFeaturizer("megnet16")),
            ("stats", SetStatsTransformer()),
            ("scale", StandardScaler()),
            ("model", mlp_estimator(classification, **params)),
        ]
    )
