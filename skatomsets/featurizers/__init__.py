"""Featurizers: materials -> per-atom feature sets (RaggedSets) or fixed-length vectors."""

from .element import ElementEmbeddingFeaturizer
from .megnet import MEGNetSiteFeaturizer, MEGNetStructureFeaturizer
from .parent import (
    CHGNetSiteFeaturizer,
    CHGNetStructureFeaturizer,
    ParentSiteFeaturizer,
    ParentStructureFeaturizer,
)
from .union import SetFeatureUnion, make_set_union

__all__ = [
    "CHGNetSiteFeaturizer",
    "CHGNetStructureFeaturizer",
    "ElementEmbeddingFeaturizer",
    "MEGNetSiteFeaturizer",
    "MEGNetStructureFeaturizer",
    "ParentSiteFeaturizer",
    "ParentStructureFeaturizer",
    "SetFeatureUnion",
    "make_set_union",
]
