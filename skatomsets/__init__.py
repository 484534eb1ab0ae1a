"""skatomsets: AtomSets models for materials properties, the scikit-learn way.

Data flow: materials (formula / Composition / Structure) -> featurizer -> per-atom feature
sets (:class:`RaggedSets`) -> set model (:class:`AtomSetsRegressor`, ...) -> prediction.
"""

from ._version import __version__
from .estimators import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    MEGNetClassifier,
    MEGNetRegressor,
)
from .featurizers import (
    CHGNetSiteFeaturizer,
    CHGNetStructureFeaturizer,
    ElementEmbeddingFeaturizer,
    MEGNetSiteFeaturizer,
    MEGNetStructureFeaturizer,
    ParentSiteFeaturizer,
    ParentStructureFeaturizer,
)
from .sets import RaggedSets
from .transformers import SetStatsTransformer

__all__ = [
    "AtomSetsClassifier",
    "AtomSetsMLPClassifier",
    "AtomSetsMLPRegressor",
    "AtomSetsRegressor",
    "CHGNetSiteFeaturizer",
    "CHGNetStructureFeaturizer",
    "ElementEmbeddingFeaturizer",
    "MEGNetClassifier",
    "MEGNetRegressor",
    "MEGNetSiteFeaturizer",
    "MEGNetStructureFeaturizer",
    "ParentSiteFeaturizer",
    "ParentStructureFeaturizer",
    "RaggedSets",
    "SetStatsTransformer",
    "__version__",
]
