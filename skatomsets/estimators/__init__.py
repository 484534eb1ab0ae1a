"""Neural estimators (skorch/PyTorch), one per module."""

from .atomsets_classifier import AtomSetsClassifier
from .atomsets_regressor import AtomSetsRegressor
from .megnet_classifier import MEGNetClassifier
from .megnet_regressor import MEGNetRegressor
from .mlp_classifier import AtomSetsMLPClassifier
from .mlp_regressor import AtomSetsMLPRegressor

__all__ = [
    "AtomSetsClassifier",
    "AtomSetsMLPClassifier",
    "AtomSetsMLPRegressor",
    "AtomSetsRegressor",
    "MEGNetClassifier",
    "MEGNetRegressor",
]
