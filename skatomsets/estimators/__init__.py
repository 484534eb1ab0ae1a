"""Neural estimators (skorch/PyTorch), one per module."""

from .atomsets_classifier import AtomSetsClassifier
from .atomsets_regressor import AtomSetsRegressor
from .mlp_classifier import AtomSetsMLPClassifier
from .mlp_regressor import AtomSetsMLPRegressor

__all__ = [
    "AtomSetsClassifier",
    "AtomSetsMLPClassifier",
    "AtomSetsMLPRegressor",
    "AtomSetsRegressor",
]
