"""Turn user inputs (formulas, Compositions, Structures, files) into what featurizers read.

This is the first step of the data flow, and the only place that parses materials:

- :func:`parse_compositions` (featurizers that work from elements) returns atomic numbers
  and fractions for all materials in three flat arrays (:class:`ElementSets`, the CSR
  layout of :mod:`skatomsets._csr`);
- :func:`parse_structures` (featurizers and estimators that need crystal structures)
  returns pymatgen Structures, reading ``Structure.as_dict()`` dicts, structure files and
  CIF text (:mod:`skatomsets.io.structures`).

Both raise a typed error naming the row for anything they cannot read. Inputs are never
modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._csr import offsets_from_counts
from ..exceptions import (
    EmptyCompositionError,
    GraphConstructionError,
    InvalidFormulaError,
    UnknownElementError,
)

__all__ = ["MAX_Z", "ElementSets", "as_sequence", "parse_compositions", "parse_structures"]

#: Largest atomic number of the periodic table (oganesson): the largest Z a material may
#: hold, and the last row of every element table (``(MAX_Z + 1, d)``, indexed by Z). A
#: network's own element range may be smaller (the shipped MEGNet embeds Z = 1..94, see
#: :data:`skatomsets.megnet.graph.PRETRAINED_MAX_Z`).
MAX_Z = 118


@dataclass(frozen=True)
class ElementSets:
    """Atomic numbers and atomic fractions of many materials, flat.

    What :func:`parse_compositions` returns: the parsed compositions (integer Z, exact
    float64 fractions), which the element featurizer turns into a
    :class:`~skatomsets.sets.RaggedSets` by one table lookup. It never leaves that step.

    Attributes
    ----------
    z : ndarray of shape (n_members,), int64
        Atomic numbers, material after material.
    fractions : ndarray of shape (n_members,), float64
        Atomic fraction of each element within its material (sums to 1 per material).
    offsets : ndarray of shape (n_materials + 1,), int64
        Elements of material i are ``z[offsets[i]:offsets[i+1]]``.
    """

    z: np.ndarray
    fractions: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1


def as_sequence(X: Any) -> list[Any]:
    """A list view of a list, tuple, numpy array, pandas Series or one-column DataFrame."""
    if hasattr(X, "iloc"):
        if getattr(X, "ndim", 1) == 2:
            if X.shape[1] != 1:
                raise InvalidFormulaError(
                    f"expected one column of materials, got a DataFrame with {X.shape[1]} columns"
                )
            X = X.iloc[:, 0]
        return X.tolist()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise InvalidFormulaError(
                f"expected a 1-D sequence of materials, got an array of shape {X.shape}"
                + _unpacked_structures_hint(X)
            )
        return X.tolist()
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise InvalidFormulaError(
            f"expected a sequence of materials (list, array or Series), got {type(X).__name__}"
        )
    return list(X)


def _unpacked_structures_hint(X: np.ndarray) -> str:
    """Why a 2-D object array of pymatgen sites happened, and how to avoid it."""
    first = X.flat[0] if X.size else None
    if type(first).__name__ not in ("PeriodicSite", "Site"):
        return ""
    return (
        "; its items are pymatgen sites: np.array(list_of_structures) unpacks every Structure "
        "into its sites when they have the same number of sites. Pass the list itself, or "
        "build the array with np.empty(n, dtype=object) and fill it"
    )


def _read_structure_file(item: Any, row: int) -> Any:
    """A ``Structure`` for a Path, a string naming a structure file, or CIF text; else ``item``.

    See :func:`skatomsets.io.structures.as_structure` (``.cif``, ``.vasp``, POSCAR...).
    """
    from .structures import as_structure

    structure = as_structure(item, row)
    return item if structure is None else structure


def _element_amounts(item: Any, row: int) -> dict[int, float]:
    """Atomic number -> amount for one material; raises a typed error naming ``row``."""
    from pymatgen.core import Composition, Element, IStructure
    from pymatgen.core.periodic_table import DummySpecies

    if isinstance(item, np.str_):
        item = str(item)
    item = _read_structure_file(item, row)
    if isinstance(item, dict):
        item = _from_dict(item, row)
    if isinstance(item, IStructure):
        comp = item.composition
    elif isinstance(item, Composition):
        comp = item
    elif isinstance(item, str):
        if not item.strip():
            raise EmptyCompositionError("empty formula string", row)
        try:
            comp = Composition(item)
        except (ValueError, KeyError) as exc:
            msg = str(exc)
            if "negative" in msg:
                raise InvalidFormulaError(f"negative amount in formula {item!r}", row) from None
            raise InvalidFormulaError(
                f"cannot parse formula {item!r}: {msg}; it is not a structure file either "
                "(.cif, POSCAR, .vasp)",
                row,
            ) from None
    else:
        raise InvalidFormulaError(
            f"expected a formula string, Composition or Structure, got {type(item).__name__}",
            row,
        )
    out: dict[int, float] = {}
    for sp, amount in comp.items():
        if isinstance(sp, DummySpecies):
            raise UnknownElementError(f"{sp.symbol!r} is not a chemical element", row)
        el = sp if isinstance(sp, Element) else getattr(sp, "element", None)
        if not isinstance(el, Element):
            raise UnknownElementError(f"{sp!r} is not a chemical element", row)
        amount = float(amount)
        if not np.isfinite(amount) or amount < 0:
            raise InvalidFormulaError(f"invalid amount {amount} of {el.symbol}", row)
        if amount > 0:
            out[el.Z] = out.get(el.Z, 0.0) + amount
    if not out:
        raise EmptyCompositionError("composition has no atoms (all amounts are zero)", row)
    return out


def _from_dict(item: dict, row: int) -> Any:
    """A ``Structure.as_dict()`` dict as a Structure, or an element -> amount dict checked
    amount by amount (pymatgen reads a NaN amount as absent, and fails with a bare
    ``TypeError`` on strings or None) as a Composition."""
    from pymatgen.core import Composition

    from .structures import is_structure_dict, structure_from_dict

    if is_structure_dict(item):
        return structure_from_dict(item, row, InvalidFormulaError)
    for key, amount in item.items():
        if isinstance(amount, (bool, np.bool_)) or not isinstance(amount, (int, float, np.number)):
            raise InvalidFormulaError(
                f"amount of {key!r} must be a number, got {type(amount).__name__} "
                f"{_plain(amount)!r}",
                row,
            )
        if not np.isfinite(amount):
            raise InvalidFormulaError(
                f"amount of {key!r} is {float(amount)} (NaN or infinite)", row
            )
        if amount < 0:
            raise InvalidFormulaError(f"negative amount {_plain(amount)} of {key!r}", row)
    try:
        return Composition(item)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidFormulaError(f"invalid composition {item!r}: {exc}", row) from None


def _plain(v: Any) -> Any:
    """A numpy scalar as the Python value (messages show ``'high'``, not ``np.str_('high')``)."""
    return v.item() if isinstance(v, np.generic) else v


def parse_compositions(X: Any) -> ElementSets:
    """Parse formulas, Compositions or Structures into flat element sets.

    Parameters
    ----------
    X : sequence
        Formula strings (``"Fe2O3"``), pymatgen ``Composition`` or ``Structure`` objects (or
        element -> amount dicts, or ``Structure.as_dict()`` dicts), structure files (a
        ``pathlib.Path`` or a string naming an existing ``.cif`` / POSCAR / ``.vasp`` file,
        see :mod:`skatomsets.io.structures`), as a list, tuple, numpy array or pandas Series.
        A ``Structure`` is reduced to its composition, each site counting with its occupancy,
        so a disordered site gives fractional amounts. Elements with zero amount are dropped.

    Returns
    -------
    ElementSets
        Atomic numbers (sorted within each material) and atomic fractions.

    Raises
    ------
    InvalidFormulaError, UnknownElementError, EmptyCompositionError
        Naming the row and the problem.
    """
    items = as_sequence(X)
    cache: dict[str, dict[int, float]] = {}
    zs: list[np.ndarray] = []
    fr: list[np.ndarray] = []
    lengths = np.empty(len(items), dtype=np.int64)
    for row, item in enumerate(items):
        if isinstance(item, str):
            amounts = cache.get(item)
            if amounts is None:
                amounts = cache[item] = _element_amounts(item, row)
        else:
            amounts = _element_amounts(item, row)
        z = np.fromiter(sorted(amounts), dtype=np.int64, count=len(amounts))
        a = np.array([amounts[k] for k in z.tolist()], dtype=np.float64)
        zs.append(z)
        fr.append(a / a.sum())
        lengths[row] = len(z)
    offsets = offsets_from_counts(lengths)
    if not items:
        return ElementSets(np.zeros(0, np.int64), np.zeros(0), offsets)
    return ElementSets(np.concatenate(zs), np.concatenate(fr), offsets)


def parse_structures(X: Any) -> list[Any]:
    """Crystal structures from Structures, ``Structure.as_dict()`` dicts or structure files.

    Parameters
    ----------
    X : sequence
        pymatgen ``Structure`` / ``IStructure`` objects, their ``as_dict()`` dicts,
        structure files (a ``pathlib.Path`` or a string naming an existing ``.cif`` / POSCAR
        / ``.vasp`` file) or CIF text, as a list, tuple, numpy array or pandas Series.

    Returns
    -------
    list of pymatgen.core.IStructure
        Structures are passed through as they are (not copied).

    Raises
    ------
    GraphConstructionError
        Naming the row, for anything that is not a structure (e.g. a formula: structure
        features need crystal structures) or a dict pymatgen cannot read.
    StructureFileError
        Naming the row and the file, for a structure file that is missing or unreadable.
    """
    from pymatgen.core import IStructure

    from .structures import as_structure, is_structure_dict, structure_from_dict

    out = []
    for row, item in enumerate(as_sequence(X)):
        if isinstance(item, IStructure):
            out.append(item)
        elif is_structure_dict(item):
            out.append(structure_from_dict(item, row, GraphConstructionError))
        elif (structure := as_structure(item, row)) is not None:
            out.append(structure)
        else:
            what = type(item).__name__ + (f" {item!r}" if isinstance(item, str) else "")
            raise GraphConstructionError(
                f"expected a pymatgen Structure, got {what}, which is neither a Structure "
                "nor an existing structure file (.cif, POSCAR, .vasp); MEGNet features need "
                "crystal structures, not formulas",
                row,
            )
    return out
