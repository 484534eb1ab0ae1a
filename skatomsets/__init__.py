"""skatomsets: AtomSets models for materials properties, the scikit-learn way.

Data flow: materials (formula / Composition / Structure) -> featurizer -> per-atom feature
sets (:class:`RaggedSets`) -> set model (:class:`AtomSetsRegressor`, ...) -> prediction.

The public classes are imported on first use (a module-level ``__getattr__``), so
``import skatomsets`` and the ``skatomsets`` command start without importing torch,
pymatgen or matminer; ``from skatomsets import AtomSetsRegressor`` works as usual.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .auto import AutoAtomSetsClassifier, AutoAtomSetsRegressor
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
        SetFeatureUnion,
    )
    from .sets import RaggedSets
    from .transformers import SetStatsTransformer

#: Where each public name lives (imported on first access).
_LAZY = {
    "AutoAtomSetsClassifier": ".auto",
    "AutoAtomSetsRegressor": ".auto",
    "AtomSetsClassifier": ".estimators",
    "AtomSetsMLPClassifier": ".estimators",
    "AtomSetsMLPRegressor": ".estimators",
    "AtomSetsRegressor": ".estimators",
    "MEGNetClassifier": ".estimators",
    "MEGNetRegressor": ".estimators",
    "CHGNetSiteFeaturizer": ".featurizers",
    "CHGNetStructureFeaturizer": ".featurizers",
    "ElementEmbeddingFeaturizer": ".featurizers",
    "MEGNetSiteFeaturizer": ".featurizers",
    "MEGNetStructureFeaturizer": ".featurizers",
    "ParentSiteFeaturizer": ".featurizers",
    "ParentStructureFeaturizer": ".featurizers",
    "RaggedSets": ".sets",
    "SetFeatureUnion": ".featurizers",
    "SetStatsTransformer": ".transformers",
}

__all__ = [
    "AtomSetsClassifier",
    "AtomSetsMLPClassifier",
    "AtomSetsMLPRegressor",
    "AtomSetsRegressor",
    "AutoAtomSetsClassifier",
    "AutoAtomSetsRegressor",
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
    "SetFeatureUnion",
    "SetStatsTransformer",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later accesses skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
