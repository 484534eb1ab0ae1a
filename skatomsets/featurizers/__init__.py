"""Featurizers: materials -> per-atom feature sets (RaggedSets) or fixed-length vectors."""

from .element import ElementEmbeddingFeaturizer
from .megnet import MEGNetSiteFeaturizer, MEGNetStructureFeaturizer

__all__ = ["ElementEmbeddingFeaturizer", "MEGNetSiteFeaturizer", "MEGNetStructureFeaturizer"]
