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
(``atomsets-v1`` onwards) take pymatgen Structures (or their ``as_dict()`` dicts, or
structure files: see :mod:`skatomsets.io_structures`). :data:`MODEL_CATALOGUE` says, per
name, what the model is, which inputs it takes and which row of the paper it reproduces
(``skatomsets list`` prints it; :func:`needs_structures` checks a name or a fitted model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    ParentSiteFeaturizer,
    ParentStructureFeaturizer,
)
from .transformers import SetStatsTransformer

__all__ = [
    "MODEL_CATALOGUE",
    "ModelInfo",
    "available_models",
    "composition_models",
    "make_model",
    "model_info",
    "needs_structures",
    "register_model",
]

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


@dataclass(frozen=True)
class ModelInfo:
    """What a ready model is.

    Attributes
    ----------
    name : str
    description : str
        One line: features -> model.
    inputs : str
        ``"composition"`` (formulas, Compositions or Structures) or ``"structure"``
        (crystal structures only), ``"unknown"`` for models registered elsewhere.
    paper_row : str
        Where the paper (Chen & Ong 2021) reports it.
    """

    name: str
    description: str
    inputs: str
    paper_row: str


def _catalogue() -> dict[str, ModelInfo]:
    rows = [
        ("atomsets", "trainable 16-dim element embedding -> AtomSets (no transfer)",
         "composition", "Table 2, AtomSets"),
        ("atomsets-v0", "MEGNet element embedding V0 (transferred) -> AtomSets",
         "composition", "Table 2, AtomSets-V0"),
        ("mlp-v0-stats", "V0 -> weighted mean/std/min/max/range -> MLP",
         "composition", "Table S4, MLP-V0-stats"),
    ]  # fmt: skip
    for level in (1, 2, 3):
        rows.append(
            (f"atomsets-v{level}", f"MEGNet block-{level} site features V{level} -> AtomSets",
             "structure", f"Table 2, AtomSets-V{level}")
        )  # fmt: skip
    for level in (1, 2, 3):
        rows.append(
            (f"mlp-u{level}", f"MEGNet block-{level} state vector u{level} -> MLP",
             "structure", f"Table S4, MLP-u{level}")
        )  # fmt: skip
    rows.append(("mlp-f", "MEGNet readout vector f -> MLP", "structure", "Table 2, MLP-f"))
    rows.append(
        ("mlp-v_r", "MEGNet atom Set2Set readout v_r -> MLP", "structure", "Table S4, MLP-v_r")
    )
    rows.append(
        ("atomsets-chgnet-v0", "CHGNet v0.3.0 element embedding (chgnet64) -> AtomSets",
         "composition", "beyond the paper (CHGNet parent)")
    )  # fmt: skip
    for level in (1, 2, 3, 4):
        rows.append(
            (f"atomsets-chgnet-v{level}", f"CHGNet v0.3.0 block-{level} site features -> AtomSets",
             "structure", "beyond the paper (CHGNet parent)")
        )  # fmt: skip
    rows.append(
        ("atomsets-chgnet", "= atomsets-chgnet-v3: CHGNet v0.3.0 block-3 site features -> AtomSets",
         "structure", "beyond the paper (CHGNet parent)")
    )  # fmt: skip
    rows.append(
        ("mlp-chgnet", "CHGNet v0.3.0 mean site feature (crystal) -> MLP", "structure",
         "beyond the paper (CHGNet parent)")
    )  # fmt: skip
    return {r[0]: ModelInfo(*r) for r in rows}


#: Name -> :class:`ModelInfo` for every model built in (``skatomsets list`` prints it).
MODEL_CATALOGUE: dict[str, ModelInfo] = _catalogue()


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of a model name (``inputs="unknown"`` for user-registered ones).

    Raises
    ------
    ValueError
        If ``name`` is not a known model.

    Examples
    --------
    >>> model_info("atomsets-v1").inputs
    'structure'
    """
    if name in MODEL_CATALOGUE:
        return MODEL_CATALOGUE[name]
    if name in _REGISTRY:
        return ModelInfo(name, "registered with register_model", "unknown", "-")
    raise ValueError(f"unknown model {name!r}; choose one of {available_models()}")


def composition_models() -> list[str]:
    """Names of the built-in models that take formulas (no structures needed)."""
    return [n for n, i in MODEL_CATALOGUE.items() if i.inputs == "composition"]


def needs_structures(model: Any) -> bool:
    """Whether a model name or a (fitted) model needs crystal structures, not formulas.

    A name is looked up in :data:`MODEL_CATALOGUE`; a Pipeline or estimator is inspected for
    MEGNet featurizers or MEGNet estimators, which compute features from atomic positions.

    Examples
    --------
    >>> needs_structures("atomsets-v0"), needs_structures(make_model("mlp-f"))
    (False, True)
    """
    if isinstance(model, str):
        return model_info(model).inputs == "structure"
    from .estimators import MEGNetClassifier, MEGNetRegressor

    structural = (
        MEGNetSiteFeaturizer,
        MEGNetStructureFeaturizer,
        ParentSiteFeaturizer,
        ParentStructureFeaturizer,
        MEGNetRegressor,
        MEGNetClassifier,
    )
    steps = [s for _, s in model.steps] if isinstance(model, Pipeline) else [model]
    return any(isinstance(s, structural) for s in steps)
