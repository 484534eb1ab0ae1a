"""Featurizers: materials -> per-atom feature sets (RaggedSets) or fixed-length vectors."""

from .element import ElementEmbeddingFeaturizer

__all__ = ["ElementEmbeddingFeaturizer"]
