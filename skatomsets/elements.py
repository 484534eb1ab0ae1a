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
``chgnet64``
    The 64-dim element embedding (rows Z = 1..94) of the pretrained CHGNet v0.3.0 universal
    potential (Deng et al., Nat. Mach. Intell. 2023; trained on ~1.5 million MPtrj
    structures): level 0 of :class:`~skatomsets.featurizers.CHGNetSiteFeaturizer`, read from
    the weights in the optional ``chgnet`` package (``pip install 'skatomsets[chgnet]'``).
``onehot``
    One-hot encoding of Z (118 columns).
``atomic_number``
    A single column holding Z itself: the input of a *trainable* embedding
    (``AtomSetsRegressor(embedding_dim=...)``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from .inputs import MAX_Z

__all__ = ["ELEMENT_TABLES", "MEGNET_WEIGHTS", "load_element_table"]

_DATA = Path(__file__).parent / "data"
#: The shipped pretrained MEGNet weights (npz of the Keras arrays).
MEGNET_WEIGHTS = _DATA / "megnet" / "formation_energy_mp-2019.4.1.npz"

#: Names accepted by :func:`load_element_table`.
ELEMENT_TABLES = ("megnet16", "chgnet64", "magpie", "matscholar", "onehot", "atomic_number")

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


def _chgnet64() -> tuple[np.ndarray, list[str]]:
    from .parents.chgnet import CHGNetParent

    table, _ = CHGNetParent().element_table()
    return table, [f"chgnet64_{j}" for j in range(table.shape[1])]


def _atomic_number() -> tuple[np.ndarray, list[str]]:
    table = np.arange(MAX_Z + 1, dtype=np.float32)[:, None].copy()
    table[0] = np.nan
    return table, ["Z"]


_LOADERS = {
    "megnet16": _megnet16,
    "chgnet64": _chgnet64,
    "magpie": _magpie,
    "matscholar": _matscholar,
    "onehot": _onehot,
    "atomic_number": _atomic_number,
}


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
        One of :data:`ELEMENT_TABLES`.

    Returns
    -------
    table : ndarray of shape (MAX_Z + 1, n_features), float32, read-only
        Row Z = features of element Z; NaN rows for elements not covered.
    feature_names : list of str
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown element table {name!r}; choose one of {ELEMENT_TABLES}")
    table, names = _cached(name)
    return table, list(names)
