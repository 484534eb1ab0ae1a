"""Ready models of the auto search (registered with :func:`skatomsets.models.register_model`)."""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..featurizers import ElementEmbeddingFeaturizer, ParentSiteFeaturizer
from ..featurizers.union import make_set_union
from ..models import mlp_estimator, register_model, set_estimator
from ..transformers import SetStatsTransformer
from ._candidates import element_sources


def _elements() -> Any:
    return make_set_union(*(ElementEmbeddingFeaturizer(t) for t in element_sources()))


@register_model("atomsets-elements")
def _atomsets_elements(classification: bool, **params: Any) -> Pipeline:
    return Pipeline(
        [("featurize", _elements()), ("model", set_estimator(classification, **params))]
    )


@register_model("mlp-elements-stats")
def _mlp_elements_stats(classification: bool, **params: Any) -> Pipeline:
    return Pipeline(
        [
            ("featurize", _elements()),
            ("stats", SetStatsTransformer()),
            ("scale", StandardScaler()),
            ("model", mlp_estimator(classification, **params)),
        ]
    )


@register_model("atomsets-parents")
def _atomsets_parents(classification: bool, **params: Any) -> Pipeline:
    union = make_set_union(
        ParentSiteFeaturizer(parent="megnet", level=1),
        ParentSiteFeaturizer(parent="chgnet", level=3),
    )
    return Pipeline([("featurize", union), ("model", set_estimator(classification, **params))])


@register_model("auto")
def _auto(classification: bool, **params: Any) -> Any:
    from .classifier import AutoAtomSetsClassifier
    from .regressor import AutoAtomSetsRegressor

    return (AutoAtomSetsClassifier if classification else AutoAtomSetsRegressor)(**params)
