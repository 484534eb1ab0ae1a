"""Torch building blocks: weighted set readouts and the AtomSets / MLP modules."""

from .modules import AtomSetsModule, MLPModule
from .readout import WeightedMean, WeightedSet2Set
from .segment import segment_mean, segment_softmax, segment_sum

__all__ = [
    "AtomSetsModule",
    "MLPModule",
    "WeightedMean",
    "WeightedSet2Set",
    "segment_mean",
    "segment_softmax",
    "segment_sum",
]
