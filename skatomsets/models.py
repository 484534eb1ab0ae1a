"""The paper's models as ready-made scikit-learn Pipelines, by name.

==========================  =============================================================
name                        pipeline
==========================  =============================================================
``atomsets``                atomic numbers -> trainable 16-dim embedding -> AtomSets (no
                            transfer)
``atomsets-v0``             megnet16 element embedding (V0, transferred) -> AtomSets
``mlp-v0-stats``            V0 -> weighted mean/std/min/max/range -> scaler -> MLP
``atomsets-v1``             Structures -> MEGNet block-1 site features (V1) -> AtomSets
                            (also v2, v3)
``mlp-u1``                  Structures -> MEGNet block-1 state vector (u1) -> scaler -> MLP
                            (u2, u3)
``mlp-f``                   Structures -> MEGNet readout vector f -> scaler -> MLP
``mlp-v_r``                 Structures -> MEGNet atom Set2Set readout v_r -> scaler -> MLP
``atomsets-<parent>-v<k>``  level ``k`` of another parent -> AtomSets: ``k = 0`` is its
                            element table (takes formulas too), ``k >= 1`` its site features
                            after block ``k`` (``atomsets-chgnet-v0``..``-v4``,
                            ``atomsets-sevennet-v0``..``-v5``)
``mlp-<parent>``            Structures -> the parent's default structure vector -> scaler ->
                            MLP (``mlp-chgnet``, ``mlp-sevennet``: the mean site feature
                            ``crystal``)
``megnet-scratch``          MEGNet trained end to end on the structures, from random weights
``megnet-finetune``         the shipped MEGNet fine-tuned end to end (head re-initialised)
==========================  =============================================================

These names are the one naming authority: the command line, the benchmarks and the
learning curves use them. The models of the parents (:mod:`skatomsets.parents`) come from one
loop over the registered parents (:func:`~skatomsets.parents.registered_parents`); the
paper's parent (MEGNet) keeps the paper's unprefixed names. ``atomsets-chgnet`` (= ``-v3``)
is deprecated (a ``FutureWarning``; removed in the next release).

The CHGNet models need the optional ``chgnet`` package (``pip install 'skatomsets[chgnet]'``),
the SevenNet ones ``sevenn`` (``pip install 'skatomsets[sevennet]'``).

The compositional models take formulas, Compositions or Structures; the structural ones
(``atomsets-v1`` onwards) take pymatgen Structures (or their ``as_dict()`` dicts, or
structure files: see :mod:`skatomsets.io.structures`). :data:`MODEL_CATALOGUE` says, per
name, what the model is, which inputs it takes and which row of the paper it reproduces
(``skatomsets list`` prints it; :func:`needs_structures` checks a name or a fitted model).
It is filled by :func:`register_model` (``info=``): there is no second list.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .parents import ParentInfo
from .parents.base import on_parent_registered

if TYPE_CHECKING:  # pragma: no cover - at run time these come from _load_classes()
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .estimators import (
        AtomSetsClassifier,
        AtomSetsMLPClassifier,
        AtomSetsMLPRegressor,
        AtomSetsRegressor,
    )
    from .featurizers import (
        ElementEmbeddingFeaturizer,
        MEGNetSiteFeaturizer,
        MEGNetStructureFeaturizer,
        ParentSiteFeaturizer,
        ParentStructureFeaturizer,
    )
    from .featurizers.union import make_set_union
    from .transformers import SetStatsTransformer

__all__ = [
    "MODEL_CATALOGUE",
    "ModelInfo",
    "available_models",
    "composition_models",
    "deprecated_models",
    "make_model",
    "model_info",
    "needs_structures",
    "parent_models",
    "register_model",
]


@dataclass(frozen=True)
class ModelInfo:
    """What a ready model is.

    Attributes
    ----------
    name : str
        Filled in by :func:`register_model`.
    description : str
        One line: features -> model.
    inputs : str
        ``"composition"`` (formulas, Compositions or Structures) or ``"structure"``
        (crystal structures only), ``"unknown"`` for models registered without an info.
    paper_row : str
        Where the paper (Chen & Ong 2021) reports it.
    parent : str or None
        The registered parent network whose features (or architecture) it uses, if any.
    level : int or None
        The parent's site level it reads (``atomsets-<parent>-v<k>``), if any.
    feature : str or None
        The parent's structure vector it reads (``mlp-<parent>``), if any.
    """

    name: str = ""
    description: str = "registered with register_model"
    inputs: str = "unknown"
    paper_row: str = "-"
    parent: str | None = None
    level: int | None = None
    feature: str | None = None


_REGISTRY: dict[str, Callable[..., Any]] = {}
#: Name -> :class:`ModelInfo` of every model registered with an ``info`` (``skatomsets
#: list`` prints it). Filled by :func:`register_model`.
MODEL_CATALOGUE: dict[str, ModelInfo] = {}
#: Deprecated name -> its current name (one release with a FutureWarning, then removed).
_ALIASES: dict[str, str] = {}


def register_model(
    name: str,
    factory: Callable[..., Any] | None = None,
    *,
    info: ModelInfo | None = None,
    replaces: tuple[str, ...] = (),
) -> Any:
    """Register a pipeline factory ``f(classification, **estimator_params)`` under ``name``.

    Used as a decorator (``@register_model("name", info=ModelInfo(...))``) or called with
    the factory. ``info`` enters :data:`MODEL_CATALOGUE` (its ``name`` is set here);
    ``replaces`` are deprecated names that keep building this model for one release, with a
    ``FutureWarning``.

    Returns
    -------
    callable
        The factory (or, without ``factory``, the decorator).
    """

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = f
        if info is not None:
            MODEL_CATALOGUE[name] = replace(info, name=name)
        for old in replaces:
            _ALIASES[old] = name
        return f

    return deco if factory is None else deco(factory)


def _resolve_name(name: str) -> str:
    """``name``, or the current name of a deprecated one (with a FutureWarning)."""
    if name in _ALIASES:
        new = _ALIASES[name]
        warnings.warn(
            f"model name {name!r} is deprecated and will be removed in the next release; "
            f"use {new!r}",
            FutureWarning,
            stacklevel=3,
        )
        return new
    return name


def parent_models(parent: str) -> list[str]:
    """The ready models on parent ``parent``'s features, in catalogue order: its site levels
    (``level``) and then the MLP on its default structure vector.

    Examples
    --------
    >>> parent_models("chgnet")
    ['atomsets-chgnet-v0', 'atomsets-chgnet-v1', 'atomsets-chgnet-v2', 'atomsets-chgnet-v3', \
'atomsets-chgnet-v4', 'mlp-chgnet']
    """
    from .parents import parent_info

    default = parent_info(parent).default_structure_feature
    infos = [i for i in MODEL_CATALOGUE.values() if i.parent == parent]
    levels = sorted((i for i in infos if i.level is not None), key=lambda i: i.level or 0)
    return [i.name for i in levels] + [i.name for i in infos if i.feature == default]


def available_models() -> list[str]:
    """Names accepted by :func:`make_model` (deprecated names aside)."""
    return sorted(_REGISTRY)


def deprecated_models() -> dict[str, str]:
    """Deprecated model names that still work (with a ``FutureWarning``) -> current name."""
    return dict(_ALIASES)


#: What the factories use, by the module it comes from (imported by _load_classes()).
_LAZY_CLASSES = {
    "Pipeline": "sklearn.pipeline",
    "StandardScaler": "sklearn.preprocessing",
    "AtomSetsClassifier": ".estimators",
    "AtomSetsMLPClassifier": ".estimators",
    "AtomSetsMLPRegressor": ".estimators",
    "AtomSetsRegressor": ".estimators",
    "MEGNetSiteFeaturizer": ".featurizers",
    "MEGNetStructureFeaturizer": ".featurizers",
    "ParentSiteFeaturizer": ".featurizers",
    "ParentStructureFeaturizer": ".featurizers",
    "make_set_union": ".featurizers.union",
    "SetStatsTransformer": ".transformers",
    "ElementEmbeddingFeaturizer": ".featurizers",
}


def _load_classes() -> None:
    """Import the estimators, featurizers and scikit-learn classes the factories use.

    Done on first use, not at import: ``skatomsets list`` and the command line's argument
    checks read the catalogue without importing torch, pymatgen or matminer.
    """
    g = globals()
    if "ElementEmbeddingFeaturizer" in g:
        return
    from importlib import import_module

    # the names of the TYPE_CHECKING block above, the "loaded" mark last
    for name, module in _LAZY_CLASSES.items():
        g[name] = getattr(import_module(module, __package__), name)


def make_model(name: str, classification: bool = False, **params: Any) -> Pipeline:
    """Build one of the paper's models as an unfitted Pipeline.

    Parameters
    ----------
    name : str
        One of :func:`available_models` (a deprecated name works, with a ``FutureWarning``).
    classification : bool, default=False
        Build the classifier variant.
    **params
        Parameters of the final estimator (e.g. ``max_epochs=300, random_state=0``).

    Examples
    --------
    >>> make_model("atomsets-v0", max_epochs=10).steps[-1][1].max_epochs
    10
    """
    name = _resolve_name(name)
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of {available_models()}")
    _load_classes()
    return _REGISTRY[name](classification, **params)


def set_estimator(classification: bool, **params: Any):
    """An AtomSets regressor or classifier."""
    _load_classes()
    return (AtomSetsClassifier if classification else AtomSetsRegressor)(**params)


def mlp_estimator(classification: bool, **params: Any):
    """An MLP regressor or classifier."""
    _load_classes()
    return (AtomSetsMLPClassifier if classification else AtomSetsMLPRegressor)(**params)


def _site_pipeline(featurizer: Any, classification: bool, **params: Any) -> Pipeline:
    return Pipeline([("featurize", featurizer), ("model", set_estimator(classification, **params))])


def _vector_pipeline(featurizer: Any, classification: bool, **params: Any) -> Pipeline:
    return Pipeline(
        [
            ("featurize", featurizer),
            ("scale", StandardScaler()),
            ("model", mlp_estimator(classification, **params)),
        ]
    )


def _stats_pipeline(featurizer: Any, classification: bool, **params: Any) -> Pipeline:
    """Sets -> weighted statistics -> scaler -> MLP (the paper's *-stats models)."""
    return Pipeline(
        [
            ("featurize", featurizer),
            ("stats", SetStatsTransformer()),
            ("scale", StandardScaler()),
            ("model", mlp_estimator(classification, **params)),
        ]
    )


def _featurizer_class(base: type, parent: str) -> type | None:
    """The published featurizer class whose default parent is ``parent`` (e.g.
    ``MEGNetSiteFeaturizer``, ``CHGNetSiteFeaturizer``), if any: the ready models keep
    the classes they were published with."""
    for cls in base.__subclasses__():
        if getattr(cls, "_default_parent", None) == parent and cls.__module__.startswith(
            "skatomsets."
        ):
            return cls
    return None


def _site_featurizer(parent: str, level: int) -> Any:
    _load_classes()
    cls = _featurizer_class(ParentSiteFeaturizer, parent)
    return ParentSiteFeaturizer(parent, level=level) if cls is None else cls(level=level)


def _vector_featurizer(parent: str, feature: str) -> Any:
    _load_classes()
    cls = _featurizer_class(ParentStructureFeaturizer, parent)
    if cls is None:
        return ParentStructureFeaturizer(parent, features=(feature,))
    return cls(features=(feature,))


def _register_parent_models(info: ParentInfo) -> None:
    """The ready models of one parent: AtomSets on each level, an MLP on its vectors.

    Names: ``atomsets-<parent>-v<k>`` and ``mlp-<parent>`` (its default structure vector) /
    ``mlp-<parent>-<vector>``; the paper's parent keeps the paper's ``atomsets-v<k>`` and
    ``mlp-<vector>``.
    """
    stem = "" if info.paper else f"{info.name}-"
    who = info.label if not info.paper else info.title
    beyond = f"beyond the paper ({info.title} parent)"
    for level in range(info.n_levels + 1):
        row = info.paper_rows.get(f"V{level}", beyond)
        if level == 0 and info.element_table:
            table = info.element_table

            def v0(classification: bool, _table: str = table, **params: Any) -> Pipeline:
                return _site_pipeline(ElementEmbeddingFeaturizer(_table), classification, **params)

            register_model(
                f"atomsets-{stem}v0",
                v0,
                info=ModelInfo(
                    description=f"{who} element embedding V0 ({table}) -> AtomSets",
                    inputs="composition",
                    paper_row=row,
                    parent=info.name,
                    level=0,
                ),
            )
            continue

        def site(
            classification: bool, _p: str = info.name, _level: int = level, **params: Any
        ) -> Pipeline:
            return _site_pipeline(_site_featurizer(_p, _level), classification, **params)

        register_model(
            f"atomsets-{stem}v{level}",
            site,
            info=ModelInfo(
                description=f"{who} block-{level} site features V{level} -> AtomSets",
                inputs="structure",
                paper_row=row,
                parent=info.name,
                level=level,
            ),
        )
    for feature in info.mlp_features:
        if info.paper:
            name = f"mlp-{feature}"
        elif feature == info.default_structure_feature:
            name = f"mlp-{info.name}"
        else:
            name = f"mlp-{info.name}-{feature}"

        def vector(
            classification: bool, _p: str = info.name, _f: str = feature, **params: Any
        ) -> Pipeline:
            return _vector_pipeline(_vector_featurizer(_p, _f), classification, **params)

        register_model(
            name,
            vector,
            info=ModelInfo(
                description=f"{who} {info.descriptions.get(feature, feature)} -> MLP",
                inputs="structure",
                paper_row=info.paper_rows.get(feature, beyond),
                parent=info.name,
                feature=feature,
            ),
        )


@register_model(
    "atomsets",
    info=ModelInfo(
        description="trainable 16-dim element embedding -> AtomSets (no transfer)",
        inputs="composition",
        paper_row="Table 2, AtomSets",
    ),
)
def _atomsets(classification: bool, **params: Any) -> Pipeline:
    params.setdefault("embedding_dim", 16)
    return _site_pipeline(ElementEmbeddingFeaturizer("atomic_number"), classification, **params)


on_parent_registered(_register_parent_models)  # every parent, also one registered later
#: 0.1.0 published ``atomsets-chgnet`` for CHGNet's block 3 (``atomsets`` is another model)
_ALIASES["atomsets-chgnet"] = "atomsets-chgnet-v3"


@register_model(
    "mlp-v0-stats",
    info=ModelInfo(
        description="V0 -> weighted mean/std/min/max/range -> MLP",
        inputs="composition",
        paper_row="Table S4, MLP-V0-stats",
        parent="megnet",
    ),
)
def _mlp_v0_stats(classification: bool, **params: Any) -> Pipeline:
    return _stats_pipeline(ElementEmbeddingFeaturizer("megnet16"), classification, **params)


# ------------------------------------------------------------- atom features of every source
def installed_parents() -> list[ParentInfo]:
    """The registered parents whose optional package is installed (shipped ones always)."""
    from .parents import missing_dependency, registered_parents

    return [p for p in registered_parents() if missing_dependency(p.name) is None]


def transfer_level(info: ParentInfo) -> int:
    """The site level a parent's features are transferred from by default.

    The paper's parent: V1 (its best level in the paper and on every structure set here);
    any other parent: the level before its last block, whose output is specialised to the
    parent's own energy target (CHGNet: V3, the best or level with the best on every set of
    ``docs/benchmarks_structures.md``).
    """
    return 1 if info.paper else max(info.n_levels - 1, 1)


def site_model_name(info: ParentInfo, level: int) -> str:
    """The ready-model name of AtomSets on ``info``'s site features at ``level``."""
    return f"atomsets-v{level}" if info.paper else f"atomsets-{info.name}-v{level}"


def vector_model_name(info: ParentInfo) -> str:
    """The ready-model name of the MLP on ``info``'s default structure vector."""
    return f"mlp-{info.default_structure_feature}" if info.paper else f"mlp-{info.name}"


def element_sources() -> list[str]:
    """Element tables joined in the ``*-elements`` models: every available source.

    The MEGNet embedding (V0), the matscholar word embeddings, the Magpie properties and the
    element embedding of every other parent (CHGNet's ``chgnet64``, ...) that is installed
    or whose table ships with the package (``chgnet64`` and ``sevennet0`` do, so these
    models are the same without the parents' optional packages).
    """
    from .elements import shipped_table_path
    from .parents import registered_parents

    names = ["megnet16", "matscholar", "magpie"]
    installed = {p.name for p in installed_parents()}
    for info in registered_parents():
        table = info.element_table
        if table and table not in names:
            if info.name in installed or shipped_table_path(table) is not None:
                names.append(table)
    return names


def _elements_union() -> Any:
    return make_set_union(*(ElementEmbeddingFeaturizer(t) for t in element_sources()))


@register_model(
    "atomsets-elements",
    info=ModelInfo(
        description="element features of every installed source, joined -> AtomSets",
        inputs="composition",
        paper_row="beyond the paper (transfer from every source)",
    ),
)
def _atomsets_elements(classification: bool, **params: Any) -> Pipeline:
    return _site_pipeline(_elements_union(), classification, **params)


@register_model(
    "mlp-elements-stats",
    info=ModelInfo(
        description="element features of every installed source -> set statistics -> MLP",
        inputs="composition",
        paper_row="beyond the paper (transfer from every source)",
    ),
)
def _mlp_elements_stats(classification: bool, **params: Any) -> Pipeline:
    return _stats_pipeline(_elements_union(), classification, **params)


@register_model(
    "atomsets-parents",
    info=ModelInfo(
        description="site features of every installed parent at its transfer level, joined "
        "-> AtomSets",
        inputs="structure",
        paper_row="beyond the paper (transfer from every parent)",
    ),
)
def _atomsets_parents(classification: bool, **params: Any) -> Pipeline:
    union = make_set_union(
        *(_site_featurizer(p.name, transfer_level(p)) for p in installed_parents())
    )
    return _site_pipeline(union, classification, **params)


@register_model(
    "auto",
    info=ModelInfo(
        description="tries the ready models that fit the input and size, keeps what "
        "validates best (skatomsets.auto)",
        inputs="either",
        paper_row="beyond the paper",
    ),
)
def _auto(classification: bool, **params: Any) -> Any:
    from .auto import AutoAtomSetsClassifier, AutoAtomSetsRegressor

    return (AutoAtomSetsClassifier if classification else AutoAtomSetsRegressor)(**params)


def _megnet_end_to_end(init: str | None) -> Callable[..., Pipeline]:
    def factory(classification: bool, **params: Any) -> Pipeline:
        from .estimators import MEGNetClassifier, MEGNetRegressor

        params.setdefault("init", init)
        cls = MEGNetClassifier if classification else MEGNetRegressor
        return Pipeline([("model", cls(**params))])

    return factory


register_model(
    "megnet-scratch",
    _megnet_end_to_end(None),
    info=ModelInfo(
        description="MEGNet trained end to end on the structures, from random weights",
        inputs="structure",
        paper_row="Fig. 3, MEGNet (no transfer)",
        parent="megnet",
    ),
)
register_model(
    "megnet-finetune",
    _megnet_end_to_end("pretrained"),
    info=ModelInfo(
        description="the shipped MEGNet fine-tuned end to end (head re-initialised)",
        inputs="structure",
        paper_row="Fig. 3, MEGNet fine-tuned",
        parent="megnet",
    ),
)


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
    name = _resolve_name(name)
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
    if hasattr(model, "structures_"):  # a fitted auto model: what it was fitted on
        return bool(model.structures_)
    _load_classes()
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
