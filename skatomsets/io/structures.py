"""Crystal structures from files: CIF, POSCAR / CONTCAR and VASP files, and CIF text.

:func:`read_structures` is the one reader: it takes structure files, folders of them, or a
mix, and returns pymatgen ``Structure`` objects in a stable order. Every featurizer that
accepts a ``Structure`` also accepts a ``pathlib.Path`` or a string naming an existing
structure file (and CIF text), through :func:`as_structure`, so

>>> MEGNetSiteFeaturizer(level=1).fit_transform(["a.cif", "b.cif"])  # doctest: +SKIP

works like passing the two Structures. Reading a file costs about a millisecond; when the
same files are featurized many times (cross-validation, grid searches) read them once with
:func:`read_structures` and pass the Structures.

What counts as a structure file: a name ending in ``.cif``, ``.mcif``, ``.vasp`` or
``.poscar`` (optionally compressed: ``.gz``, ``.bz2``, ``.xz``), or starting with ``POSCAR``
or ``CONTCAR``. Files are read exactly as written (no conversion to a primitive cell, no
sorting of sites; pymatgen's note that it rounded fractional coordinates is silenced,
its other warnings are kept). Errors (:class:`~skatomsets.exceptions.StructureFileError`)
name the file and the row.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..exceptions import SkatomsetsInputError, StructureFileError

__all__ = [
    "STRUCTURE_SUFFIXES",
    "as_structure",
    "is_structure_dict",
    "is_structure_name",
    "parse_structure",
    "read_structure",
    "read_structures",
    "structure_files",
    "structure_from_dict",
]

#: File-name endings read as structures (also with ``.gz``, ``.bz2``, ``.xz``).
STRUCTURE_SUFFIXES = (".cif", ".mcif", ".vasp", ".poscar")
_PREFIXES = ("POSCAR", "CONTCAR")
_COMPRESSED = (".gz", ".bz2", ".xz")


def is_structure_name(name: str | os.PathLike[str]) -> bool:
    """Whether a file name looks like a structure file (by its name only; see module doc)."""
    base = os.path.basename(os.fspath(name))
    low = base.lower()
    for ext in _COMPRESSED:
        low = low.removesuffix(ext)
    return low.endswith(STRUCTURE_SUFFIXES) or base.startswith(_PREFIXES)


def _is_cif(path: Path) -> bool:
    low = path.name.lower()
    for ext in _COMPRESSED:
        low = low.removesuffix(ext)
    return low.endswith((".cif", ".mcif"))


def read_structure(path: str | os.PathLike[str], row: int | None = None) -> Any:
    """Read one structure file (CIF, POSCAR / CONTCAR, ``.vasp``) into a ``Structure``.

    Parameters
    ----------
    path : str or path-like
    row : int, optional
        Position of this file among the inputs, named in errors.

    Returns
    -------
    pymatgen.core.Structure
        The first structure of the file, as written (not made primitive).

    Raises
    ------
    StructureFileError
        If the file does not exist or holds no readable structure.
    """
    from pymatgen.core import Structure
    from pymatgen.io.vasp import Poscar

    path = Path(path)
    if not path.is_file():
        raise StructureFileError(f"no such structure file: {path}", row)
    try:
        with warnings.catch_warnings():  # harmless note on CIFs written with few digits
            warnings.filterwarnings("ignore", message=".*rounded to ideal values")
            if _is_cif(path):
                return Structure.from_file(path, primitive=False)
            return Poscar.from_file(path, check_for_potcar=False).structure
    except Exception as exc:  # pymatgen raises many kinds; one clear message
        raise StructureFileError(f"cannot read a structure from {path}: {exc}", row) from None


def structure_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The structure files directly inside ``folder``, sorted by name.

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and is_structure_name(p.name))


def _expand(paths: str | os.PathLike[str] | Iterable[Any]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = structure_files(p)
            if not found:
                raise StructureFileError(
                    f"no structure files (.cif, POSCAR*, CONTCAR*, .vasp) in the folder {p}"
                )
            out.extend(found)
        else:
            out.append(p)
    return out


def read_structures(
    paths: str | os.PathLike[str] | Iterable[Any], progress: bool = False
) -> list[Any]:
    """Read structure files and folders of them into a list of ``Structure`` objects.

    Parameters
    ----------
    paths : path or iterable of paths
        Structure files, folders (every structure file directly inside, sorted by name), or a
        mix; order is kept.
    progress : bool, default=False
        Show a tqdm progress bar over the files.

    Returns
    -------
    list of pymatgen.core.Structure

    Raises
    ------
    StructureFileError
        Naming the row (position in the expanded file list) and the file.

    Examples
    --------
    >>> structures = read_structures("my_cifs/")  # doctest: +SKIP
    """
    files = _expand(paths)
    if progress:
        from tqdm.auto import tqdm

        files = tqdm(files, desc="reading structures", unit="file")
    return [read_structure(f, row) for row, f in enumerate(files)]


def is_structure_dict(item: Any) -> bool:
    """Whether ``item`` looks like a ``Structure.as_dict()`` dict (has lattice and sites)."""
    return isinstance(item, dict) and "lattice" in item and "sites" in item


def structure_from_dict(
    item: dict, row: int | None = None, error: type[SkatomsetsInputError] = StructureFileError
) -> Any:
    """A ``Structure`` from its ``as_dict()`` dict; ``error`` (naming the row) if it cannot be.

    Parameters
    ----------
    item : dict
    row : int, optional
        Named in the error.
    error : SkatomsetsInputError subclass, default=StructureFileError
        What to raise: each reader keeps the error type of its kind of input.
    """
    from pymatgen.core import Structure

    try:
        return Structure.from_dict(item)
    except Exception as exc:
        raise error(f"cannot read structure dict: {exc}", row) from None


def _looks_like_cif_text(text: str) -> bool:
    return "\n" in text and ("_cell_length_a" in text or text.lstrip().startswith("data_"))


def as_structure(item: Any, row: int | None = None) -> Any:
    """A ``Structure`` for a structure file or CIF text, else ``None``.

    Used by the featurizers wherever they accept a Structure: a ``pathlib.Path`` (read, or
    an error if it does not exist), a string naming an existing structure file
    (:func:`is_structure_name`), or a multi-line string holding CIF text becomes a
    Structure; a Structure is returned as is; anything else gives ``None`` (the caller
    decides: a formula, a dict, an error).

    Raises
    ------
    StructureFileError
        For a path that does not exist or cannot be read, or for a string with a structure
        file ending (``.cif``...) that names no existing file.
    """
    from pymatgen.core import Structure

    if isinstance(item, Structure):
        return item
    if isinstance(item, os.PathLike):
        return read_structure(item, row)
    if not isinstance(item, str):
        return None
    if _looks_like_cif_text(item):
        return parse_structure(item, row=row)
    if is_structure_name(item):
        if os.path.isfile(item):
            return read_structure(item, row)
        if not os.path.basename(item).startswith(_PREFIXES):  # "POSCAR..." may be a formula
            raise StructureFileError(
                f"{item!r} is neither a formula nor an existing structure file "
                f"(no such file in {os.getcwd()})",
                row,
            )
    return None


def parse_structure(
    value: Any, base_dir: str | os.PathLike[str] | None = None, row: int | None = None
) -> Any:
    """One structure from a table cell: a Structure, a dict, CIF / POSCAR / JSON text or a path.

    Parameters
    ----------
    value : Structure, dict or str
        A pymatgen ``Structure``, its ``as_dict()`` (or that dict as JSON text), CIF text,
        POSCAR text, or the path of a structure file.
    base_dir : path, optional
        Folder that relative paths are relative to (e.g. the folder of the CSV file).
    row : int, optional
        Named in errors.

    Raises
    ------
    StructureFileError
        If the value is empty or cannot be read as a structure.
    """
    import json

    from pymatgen.core import Structure

    if isinstance(value, Structure):
        return value
    if isinstance(value, dict):
        return structure_from_dict(value, row)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise StructureFileError(f"empty or missing structure ({value!r})", row)
    text = value.strip()
    try:
        if text.startswith("{"):
            return Structure.from_dict(json.loads(text))
        if _looks_like_cif_text(text):
            return Structure.from_str(text, fmt="cif", primitive=False)
        if "\n" in text:
            return Structure.from_str(text, fmt="poscar")
    except Exception as exc:
        raise StructureFileError(f"cannot read a structure from the text: {exc}", row) from None
    path = Path(text)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    return read_structure(path, row)
