"""Per-element feature tables, indexed by atomic number.

Every table is a float32 array of shape ``(MAX_Z + 1, n_features)``; row ``Z`` holds the
features of element Z, and rows of elements the table does not cover are NaN (so a lookup of
an uncovered element is detected, never silently zero). Row 0 is always NaN.

Tables
------
``megnet16``
    **V0** of AtomSets: the 16-dim element embedding (rows Z = 1..94) of the pretrained MEGNet
    formation-energy model (Materials Project mp-2019.4.1; Chen et al., Chem. Mater. 2019),
    read from the weights shipped in ``skatomsets/data/megnet`` (from the ``maml`` wheel,
    BSD-3-Clause) by the loader of the model itself, which verifies their SHA-256.
    Identical to maml's ``elemental_embedding_3MEGNet_layer.json``.
``magpie``
    The 22 Magpie element properties of matminer's ``ElementProperty.from_preset("magpie")``
    (Ward et al., npj Comput. Mater. 2016), each standardised to zero mean and unit variance
    over the elements that have it; a property missing for an element is set to the column
    mean (0 after scaling), an element missing every property (Nh-Og, Z = 113-118) is not
    covered (matminer's loader would impute a made-up row for it).
``matscholar``
    The 200-dim matscholar word embeddings of elements shipped with matminer (Tshitoyan et
    al., Nature 2019), each dimension standardised over the elements; Z = 1-103 are covered
    (matminer's loader gives Rf-Og the mean vector, which is not used).
``chgnet64``, ``sevennet0``, ...
    The element embeddings (level 0) of the parent networks of :mod:`skatomsets.parents`,
    which register them here (:func:`register_element_table`): ``chgnet64`` is the 64-dim
    embedding (Z = 1..94) of CHGNet v0.3.0 (optional ``chgnet`` package), ``sevennet0`` the
    128-dim one (89 elements) of SevenNet-0 (optional ``sevenn`` package). This module
    knows no parent: the registry is filled by the parents (the first lookup of a table
    name imports :mod:`skatomsets.parents`, which registers them). Copies of both ship in
    ``skatomsets/data/element_tables`` (derived from the pretrained weights, with their
    licences; ``scripts/export_element_tables.py``), so they are read without importing
    the parent's package or loading its network, and exist without the optional package.
``onehot``
    One-hot encoding of Z (118 columns).
``atomic_number``
    A single column holding Z itself: the input of a *trainable* embedding
    (``AtomSetsRegressor(embedding_dim=...)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .io.materials import MAX_Z

__all__ = [
    "BUILT_IN_TABLES",
    "ELEMENT_TABLES",  # noqa: F822 - module __getattr__ (live)
    "MEGNET_WEIGHTS",
    "element_table_citations",
    "element_tables",
    "load_element_table",
    "register_element_table",
]

_DATA = Path(__file__).parent / "data"
#: The shipped pretrained MEGNet weights (npz of the Keras arrays).
MEGNET_WEIGHTS = _DATA / "megnet" / "formation_energy_mp-2019.4.1.npz"

#: The tables this module computes itself (the parents register theirs).
BUILT_IN_TABLES = ("megnet16", "magpie", "matscholar", "onehot", "atomic_number")
#: Shipped copies of the parents' element tables (derived data of their pretrained weights,
#: ``scripts/export_element_tables.py``): read without importing the parent's package.
SHIPPED_TABLES_DIR = Path(__file__).parent / "data" / "element_tables"

_MAGPIE_CITATION = (
    "@article{ward2016magpie, title={A general-purpose machine learning framework for "
    "predicting properties of inorganic materials}, author={Ward, Logan and Agrawal, "
    "Ankit and Choudhary, Alok and Wolverton, Christopher}, journal={npj Comput. Mater.}, "
    "volume={2}, pages={16028}, year={2016}}"
)
_MATSCHOLAR_CITATION = (
    "@article{tshitoyan2019mat2vec, title={Unsupervised word embeddings capture latent "
    "knowledge from materials science literature}, author={Tshitoyan, Vahe and others}, "
    "journal={Nature}, volume={571}, pages={95--98}, year={2019}}"
)

_MAGPIE_PROPS = (
    "Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column", "Row",
    "CovalentRadius", "Electronegativity", "NsValence", "NpValence", "NdValence",
    "NfValence", "NValence", "NsUnfilled", "NpUnfilled", "NdUnfilled", "NfUnfilled",
    "NUnfilled", "GSvolume_pa", "GSbandgap", "GSmagmom", "SpaceGroupNumber",
)  # fmt: skip


def _symbols() -> list[str]:
    from pymatgen.core import Element

    return [Element.from_Z(z).symbol for z in range(1, MAX_Z + 1)]


def _megnet16() -> tuple[np.ndarray, list[str]]:
    from .megnet.weights import pretrained_embedding

    emb = pretrained_embedding(MEGNET_WEIGHTS.stem)  # the checksummed loader of the weights
    table = np.full((MAX_Z + 1, emb.shape[1]), np.nan, dtype=np.float32)
    table[1 : emb.shape[0]] = emb[1:]
    return table, [f"megnet16_{j}" for j in range(emb.shape[1])]


def _magpie() -> tuple[np.ndarray, list[str]]:
    from matminer.utils.data import MagpieData

    props = MagpieData().all_elemental_props
    table = np.full((MAX_Z + 1, len(_MAGPIE_PROPS)), np.nan)
    for z, sym in enumerate(_symbols(), start=1):
        table[z] = [props[p].get(sym, np.nan) for p in _MAGPIE_PROPS]
    covered = ~np.isnan(table).all(axis=1)
    mean = np.nanmean(table[covered], axis=0)
    std = np.nanstd(table[covered], axis=0)
    std[std == 0] = 1.0
    table = (table - mean) / std
    table[covered] = np.nan_to_num(table[covered], nan=0.0)
    # matminer imputes elements it has no data for (Nh-Og: identical made-up rows); they
    # must stay uncovered. Covered rows keep the values above (those of the benchmarks).
    raw = MagpieData(impute_nan=False).all_elemental_props
    for z, sym in enumerate(_symbols(), start=1):
        if all(np.isnan(raw[p].get(sym, np.nan)) for p in _MAGPIE_PROPS):
            table[z] = np.nan
    return table.astype(np.float32), [f"magpie_{p}" for p in _MAGPIE_PROPS]


def _matscholar() -> tuple[np.ndarray, list[str]]:
    from matminer.utils.data import MatscholarElementData

    source = MatscholarElementData()
    data, props = source.all_element_data, list(source.prop_names)
    width = len(props)
    table = np.full((MAX_Z + 1, width), np.nan)
    for z, sym in enumerate(_symbols(), start=1):
        if sym in data:
            table[z] = [data[sym][p] for p in props]
    covered = ~np.isnan(table).all(axis=1)
    table = (table - table[covered].mean(axis=0)) / table[covered].std(axis=0)
    # matminer gives elements without an embedding (Rf-Og) the mean vector: not covered
    known = MatscholarElementData(impute_nan=False).all_element_data
    for z, sym in enumerate(_symbols(), start=1):
        if sym not in known:
            table[z] = np.nan
    return table.astype(np.float32), [f"matscholar_{j}" for j in range(width)]


def _onehot() -> tuple[np.ndarray, list[str]]:
    table = np.full((MAX_Z + 1, MAX_Z), np.nan, dtype=np.float32)
    table[1:] = np.eye(MAX_Z, dtype=np.float32)
    return table, [f"is_{s}" for s in _symbols()]


def _atomic_number() -> tuple[np.ndarray, list[str]]:
    table = np.arange(MAX_Z + 1, dtype=np.float32)[:, None].copy()
    table[0] = np.nan
    return table, ["Z"]


_LOADERS: dict[str, Callable[[], tuple[np.ndarray, list[str]]]] = {
    "megnet16": _megnet16,
    "magpie": _magpie,
    "matscholar": _matscholar,
    "onehot": _onehot,
    "atomic_number": _atomic_number,
}
_CITATIONS: dict[str, tuple[str, ...]] = {
    "magpie": (_MAGPIE_CITATION,),
    "matscholar": (_MATSCHOLAR_CITATION,),
}


def register_element_table(
    name: str,
    loader: Callable[[], tuple[np.ndarray, list[str]]] | None,
    citations: Sequence[str] = (),
) -> None:
    """Make ``load_element_table(name)`` work (called by the parents for their level 0).

    Parameters
    ----------
    name : str
    loader : callable or None
        Returns ``(table (MAX_Z + 1, d) float32 with NaN rows, feature names)``; called once
        per process. None keeps the current loader (e.g. a built-in table) and only records
        the citations.
    citations : sequence of str
        BibTeX entries of the table's source.
    """
    if loader is not None:
        _LOADERS[name] = loader
        _cached.cache_clear()
    elif name not in _LOADERS:
        raise ValueError(f"element table {name!r} has no loader")
    _CITATIONS[name] = tuple(citations)


def _discover_parent_tables() -> None:
    """Let the parent registry register the parents' tables (``import skatomsets`` is lazy).

    Imported by name at the first lookup, never at import time: this module depends on no
    parent, the parents depend on it.
    """
    import importlib

    importlib.import_module(f"{__package__}.parents")


def element_tables() -> tuple[str, ...]:
    """Names accepted by :func:`load_element_table` (built in and registered by parents)."""
    _discover_parent_tables()
    return tuple(_LOADERS)


def element_table_citations(name: str) -> list[str]:
    """BibTeX entries of the source of table ``name`` (empty if none is known)."""
    _discover_parent_tables()
    return list(_CITATIONS.get(name, ()))


def __getattr__(name: str) -> Any:
    if name == "ELEMENT_TABLES":  # live: parents register their tables after import
        return element_tables()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _cached(name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    table, names = _LOADERS[name]()
    table.setflags(write=False)
    return table, tuple(names)


def load_element_table(name: str) -> tuple[np.ndarray, list[str]]:
    """Load a per-element feature table by name.

    Parameters
    ----------
    name : str
        One of :func:`element_tables` (``ELEMENT_TABLES``).

    Returns
    -------
    table : ndarray of shape (MAX_Z + 1, n_features), float32, read-only
        Row Z = features of element Z; NaN rows for elements not covered.
    feature_names : list of str
    """
    if name not in _LOADERS:
        _discover_parent_tables()
    if name not in _LOADERS:
        raise ValueError(f"unknown element table {name!r}; choose one of {element_tables()}")
    table, names = _cached(name)
    return table, list(names)


def shipped_table_path(name: str) -> Path | None:
    """Where the shipped copy of a parent's element table ``name`` is, or None if none."""
    path = SHIPPED_TABLES_DIR / f"{name}.npz"
    return path if path.is_file() else None


def shipped_element_table(name: str) -> np.ndarray | None:
    """The shipped copy of a parent's element table ``name`` (float32), or None if none.

    The copy equals what the parent computes from its default weights (the checksum of those
    weights is stored beside it; ``tests/test_element_tables_shipped.py`` compares them), so
    the joined-element models are the same with or without the parent's optional package.
    """
    path = shipped_table_path(name)
    if path is None:
        return None
    with np.load(path) as data:
        return np.asarray(data["table"], dtype=np.float32)
