"""The paper's models as ready-made scikit-learn Pipelines, by name.

==================  =======================================================================
name                pipeline
==================  =======================================================================
``atomsets``        atomic numbers -> trainable 16-dim embedding -> AtomSets (no transfer)
``atomsets-v0``     megnet16 element embedding (V0, transferred) -> AtomSets
``mlp-v0-stats``    V0 -> weighted mean/std/min/max/range -> scaler -> MLP
``atomsets-v1``     Structures -> MEGNet block-1 site features (V1) -> AtomSets (also v2, v3)
``mlp-u1``          Structures -> MEGNet block-1 state vector (u1) -> scaler -> MLP (u2, u3)
``mlp-f``           Structures -> MEGNet readout vector f -> scaler -> MLP
``mlp-v_r``         Structures -> MEGNet atom Set2Set readout v_r -> scaler -> MLP
``atomsets-chgnet`` Structures -> CHGNet v0.3.0 block-3 site features -> AtomSets (beyond
                    the paper; ``atomsets-chgnet-v1``..``-v4`` for the other blocks)
``atomsets-chgnet-  CHGNet's 64-dim element embedding (``chgnet64``) -> AtomSets; takes
v0``                formulas too
``mlp-chgnet``      Structures -> CHGNet mean site feature (``crystal``) -> scaler -> MLP
==================  =======================================================================

The CHGNet models need the optional ``chgnet`` package (``pip install 'skatomsets[chgnet]'``).

The compositional models take formulas, Compositions or Structures; the structural ones
(``atomsets-v1`` onwards) take pymatgen Structures (or their ``as_dict()`` dicts).
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
from .featurizers import (
    CHGNetSiteFeaturizer,
    CHGNetStructureFeaturizer,
    ElementEmbeddingFeaturizer,
    MEGNetSiteFeaturizer,
    MEGNetStructureFeaturizer,
)
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
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of {available_models()}")
    return _REGISTRY[name](classification, **params)


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


def _register_structure_models() -> None:
    """AtomSets-V1..V3 and MLP-u1..u3 / MLP-f / MLP-v_r on the pretrained MEGNet parent."""
    for level in (1, 2, 3):

        def site_model(classification: bool, _level: int = level, **params: Any) -> Pipeline:
            return Pipeline(
                [
                    ("featurize", MEGNetSiteFeaturizer(level=_level)),
                    ("model", set_estimator(classification, **params)),
                ]
            )

        register_model(f"atomsets-v{level}")(site_model)
    for feature in ("u1", "u2", "u3", "f", "v_r"):

        def vector_model(classification: bool, _feature: str = feature, **params: Any) -> Pipeline:
            return Pipeline(
                [
                    ("featurize", MEGNetStructureFeaturizer(features=(_feature,))),
                    ("scale", StandardScaler()),
                    ("model", mlp_estimator(classification, **params)),
                ]
            )

        register_model(f"mlp-{feature}")(vector_model)


_register_structure_models()


def _register_chgnet_models() -> None:
    """AtomSets on CHGNet v0.3.0 features (levels 0-4) and an MLP on its crystal vector."""

    @register_model("atomsets-chgnet-v0")
    def _chgnet_v0(classification: bool, **params: Any) -> Pipeline:
        return Pipeline(
            [
                ("featurize", ElementEmbeddingFeaturizer("chgnet64")),
                ("model", set_estimator(classification, **params)),
            ]
        )

    for level in (1, 2, 3, 4):

        def site_model(classification: bool, _level: int = level, **params: Any) -> Pipeline:
            return Pipeline(
                [
                    ("featurize", CHGNetSiteFeaturizer(level=_level)),
                    ("model", set_estimator(classification, **params)),
                ]
            )

        register_model(f"atomsets-chgnet-v{level}")(site_model)
    register_model("atomsets-chgnet")(_REGISTRY["atomsets-chgnet-v3"])

    @register_model("mlp-chgnet")
    def _mlp_chgnet(classification: bool, **params: Any) -> Pipeline:
        return Pipeline(
            [
                ("featurize", CHGNetStructureFeaturizer(features=("crystal",))),
                ("scale", StandardScaler()),
                ("model", mlp_estimator(classification, **params)),
            ]
        )


_register_chgnet_models()
