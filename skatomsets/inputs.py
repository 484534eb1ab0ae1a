"""Turn user inputs (formulas, Compositions, Structures) into flat element sets.

This is the first step of the data flow: every featurizer that works from elements calls
:func:`parse_compositions`, which returns atomic numbers and fractions for all materials in
three flat arrays (the same CSR layout as :class:`~skatomsets.sets.RaggedSets`), with a
typed error naming the row for anything it cannot read. Inputs are never modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .exceptions import EmptyCompositionError, InvalidFormulaError, UnknownElementError

__all__ = ["MAX_Z", "ElementSets", "as_sequence", "parse_compositions"]

#: Largest atomic number a formula may contain (oganesson).
MAX_Z = 118


@dataclass(frozen=True)
class ElementSets:
    """Atomic numbers and atomic fractions of many materials, flat.

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
            )
        return X.tolist()
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise InvalidFormulaError(
            f"expected a sequence of materials (list, array or Series), got {type(X).__name__}"
        )
    return list(X)


def _read_structure_file(item: Any, row: int) -> Any:
    """A ``Structure`` for a Path, a string naming a structure file, or CIF text; else ``item``.

    See :func:`skatomsets.io_structures.as_structure` (``.cif``, ``.vasp``, POSCAR...).
    """
    from .io_structures import as_structure

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
    from pymatgen.core import Composition, Structure

    if "lattice" in item and "sites" in item:
        try:
            return Structure.from_dict(item)
        except Exception as exc:
            raise InvalidFormulaError(f"cannot read structure dict: {exc}", row) from None
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
        see :mod:`skatomsets.io_structures`), as a list, tuple, numpy array or pandas Series.
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
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if not items:
        return ElementSets(np.zeros(0, np.int64), np.zeros(0), offsets)
    return ElementSets(np.concatenate(zs), np.concatenate(fr), offsets)
