"""Loader for gzipped (or plain) JSON lists of crystal-structure records.

The files hold a JSON list of records; each record has a ``structure`` field (a pymatgen
``Structure.as_dict()``), an identifier (``mbid``, ``material_id`` or ``id``), one or more
target fields and, optionally, a ``test_fold`` (e.g. MatBench's official folds). This is the
layout of the real-data folder ``../shared/data/structures`` used by the benchmarks, but
nothing here assumes that folder exists: the loader takes a path.

:func:`load_structure_set` returns a DataFrame ready for
:func:`skatomsets.protocols.run_matbench_folds` (``input_col="structure"``).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

__all__ = ["STRUCTURE_FOLD_SEED", "load_structure_set"]

#: Seed of the folds assigned when a file has no ``test_fold`` (the MatBench v0.1 seed).
STRUCTURE_FOLD_SEED = 18012019
_ID_FIELDS = ("mbid", "material_id", "id")


def _read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON list in ``path`` (gzip detected from the magic bytes)."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            records = json.load(fh)
    except (json.JSONDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a (gzipped) JSON file: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"{path}: expected a JSON list of records (objects)")
    return records


def load_structure_set(
    path: str | os.PathLike[str],
    target: str,
    n_folds: int = 5,
    seed: int = STRUCTURE_FOLD_SEED,
) -> pd.DataFrame:
    """Load a JSON list of structure records as a DataFrame with CV folds.

    Parameters
    ----------
    path : str or path-like
        A ``.json`` or ``.json.gz`` file holding a list of records, each with a
        ``structure`` field (``Structure.as_dict()``) and the ``target`` field.
    target : str
        The record field to use as the target (e.g. ``"e_form"``, ``"log10_K_VRH"``, ``"n"``).
    n_folds : int, default=5
        Number of folds assigned when the file has no ``test_fold`` field.
    seed : int, default=18012019
        ``random_state`` of the ``KFold(n_folds, shuffle=True)`` used when the file has no
        ``test_fold`` field (the MatBench v0.1 seed by default).

    Returns
    -------
    DataFrame
        Columns ``id`` (the record's ``mbid``, ``material_id`` or ``id``, else the row
        number as a string), ``structure`` (pymatgen ``Structure`` objects), ``target``
        (float) and ``test_fold`` (int, the fold in which the row is a test row: the
        file's own ``test_fold`` when every record has one, else KFold-assigned).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a JSON list of records, a record lacks ``structure`` or
        ``target``, a target is not a finite number, or ``n_folds`` is invalid.

    Examples
    --------
    >>> import json, tempfile, os
    >>> from pymatgen.core import Lattice, Structure
    >>> s = Structure(Lattice.cubic(4.2), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> recs = [{"structure": s.as_dict(), "y": float(i)} for i in range(10)]
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.json")
    >>> with open(path, "w") as fh:
    ...     json.dump(recs, fh)
    >>> df = load_structure_set(path, "y")
    >>> list(df.columns), sorted(df.test_fold.unique().tolist())
    (['id', 'structure', 'target', 'test_fold'], [0, 1, 2, 3, 4])
    """
    from pymatgen.core import Structure

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"structure data file not found: {path}")
    if not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    records = _read_records(path)
    if not records:
        raise ValueError(f"{path}: no records")
    fields = sorted({k for r in records for k in r if k != "structure"})
    if not any(target in r for r in records):
        raise ValueError(f"{path}: unknown target field {target!r}; available fields: {fields}")
    ids, structures, y = [], [], np.empty(len(records))
    for i, rec in enumerate(records):
        if "structure" not in rec:
            raise ValueError(f"{path}: record {i} has no 'structure' field")
        if target not in rec:
            raise ValueError(f"{path}: record {i} has no {target!r} field")
        try:
            y[i] = float(rec[target])
        except (TypeError, ValueError):
            raise ValueError(
                f"{path}: record {i}: target {target!r} is not a number: {rec[target]!r}"
            ) from None
        if not np.isfinite(y[i]):
            raise ValueError(f"{path}: record {i}: target {target!r} is not finite ({y[i]})")
        try:
            structures.append(Structure.from_dict(rec["structure"]))
        except Exception as exc:
            raise ValueError(f"{path}: record {i}: cannot read structure: {exc}") from None
        ids.append(str(next((rec[k] for k in _ID_FIELDS if k in rec), i)))
    if len(records) < n_folds and not all("test_fold" in r for r in records):
        raise ValueError(f"{path}: {len(records)} records are too few for {n_folds} folds")
    if all("test_fold" in r for r in records):
        test_fold = np.array([int(r["test_fold"]) for r in records], dtype=int)
    else:
        test_fold = np.empty(len(records), dtype=int)
        kf = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
        for k, (_, test) in enumerate(kf.split(np.zeros(len(records)))):
            test_fold[test] = k
    return pd.DataFrame(
        {
            "id": ids,
            "structure": pd.Series(structures, dtype=object),
            "target": y,
            "test_fold": test_fold,
        }
    )
