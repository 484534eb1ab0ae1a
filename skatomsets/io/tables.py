"""A user's own data: tables and structure folders, checked row by row, and the task type.

What ``skatomsets train DATA`` and ``skatomsets predict MODEL INPUT...`` read
(:mod:`skatomsets.cli`), usable from Python as well:

- :func:`load_training_data` reads a CSV / TSV / parquet table (a materials column and a
  target column) or a folder of structure files with a table of targets;
- :func:`prediction_inputs` reads formulas, structure files, folders of them, or one table;
- :func:`infer_task` decides regression vs classification (and says why);
- :func:`check_rows` featurizes every row once, in chunks, and records the rows a
  featurizer refuses.

Every row is checked and **every** problem is kept (:attr:`Materials.problems`), each
located as an editor shows it: ``file:line, column 'c': problem`` (the line counted in the
file, header included, CIF text spanning lines included), ``folder/x.cif: problem`` or
``input 2 'Xx3': problem``. :meth:`Materials.raise_if_invalid` raises one
:class:`~skatomsets.exceptions.InvalidRowsError` listing them (the first
:data:`SHOW_PROBLEMS`, then a count); :meth:`Materials.drop_invalid` leaves them out.

Materials columns are found by name when not given: a formula column is named
``composition`` or ``formula``, a structure column ``structure`` or ``cif`` (case does not
matter). A structure cell holds CIF text, POSCAR text, a pymatgen JSON dict, or the path of a
structure file, relative to the table's folder.
"""

from __future__ import annotations

import csv
import gzip
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InvalidRowsError, SkatomsetsInputError
from .structures import is_structure_name, parse_structure, read_structure, structure_files

__all__ = [
    "FORMULA_COLUMNS",
    "STRUCTURE_COLUMNS",
    "Materials",
    "check_classes",
    "check_featurizer",
    "check_rows",
    "infer_task",
    "load_training_data",
    "predict_table",
    "prediction_inputs",
    "read_table",
]

FORMULA_COLUMNS = ("composition", "formula")
STRUCTURE_COLUMNS = ("structure", "cif")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".parquet", ".pq")
#: How many bad rows an error lists before it counts the rest.
SHOW_PROBLEMS = 20


@dataclass
class Materials:
    """Materials read from the user's files, ready for a model.

    ``X`` holds every row (``None`` where the material could not be read); ``problems``
    maps a row to what is wrong with it (``"column 'c': problem"``), ``where`` says where
    each row is (``file:line``, a file name, ``input 2``).
    """

    X: np.ndarray  # object array: formula strings or Structures (None: unreadable)
    kind: str  # "composition" or "structure"
    source: str  # where they came from, for messages
    labels: list[str]  # what identifies each row in printed output
    where: list[str]  # where each row is, for messages (file:line, file name, input k)
    frame: pd.DataFrame | None = None  # the table they came from (predict output)
    column: str | None = None
    y: np.ndarray | None = None
    target_name: str | None = None
    notes: list[str] = field(default_factory=list)
    problems: dict[int, list[str]] = field(default_factory=dict)
    extras: pd.DataFrame | None = None  # extra numeric inputs (one column per feature)

    def add_problem(self, row: int, problem: str, column: str | None = None) -> None:
        """Record that ``row`` is bad (``column`` names the cell, when one is at fault)."""
        text = f"column {column!r}: {problem}" if column is not None else problem
        self.problems.setdefault(int(row), []).append(text)

    @property
    def valid(self) -> np.ndarray:
        """Positions of the rows without a problem."""
        bad = np.zeros(len(self.X), dtype=bool)
        bad[list(self.problems)] = True
        return np.flatnonzero(~bad)

    def problem_lines(self) -> list[str]:
        """``where, problem`` per bad row, in row order."""
        return [f"{self.where[r]}, {'; '.join(self.problems[r])}" for r in sorted(self.problems)]

    def raise_if_invalid(self, hint: str = "") -> None:
        """Raise one :class:`InvalidRowsError` listing every bad row (if there is any)."""
        if not self.problems:
            return
        n = len(self.problems)
        raise InvalidRowsError(
            f"{n} of {len(self.X)} rows cannot be used{hint}:",
            self.problem_lines(),
            SHOW_PROBLEMS,
        )

    def inputs(self, rows: np.ndarray | None = None) -> Any:
        """What a model takes for ``rows`` (default: the valid ones): the materials, or a
        DataFrame of the materials and the extra numeric inputs."""
        rows = self.valid if rows is None else rows
        X = self.X[rows]
        if self.extras is None:
            return X
        frame = self.extras.iloc[rows].reset_index(drop=True).astype(float)
        frame.insert(0, self.kind, X)
        return frame


def object_array(items: Sequence[Any]) -> np.ndarray:
    """A 1-D object array (``np.asarray`` would unpack Structures into sites)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def is_table(path: Path) -> bool:
    """Whether ``path`` names a CSV / TSV / parquet file (by its ending)."""
    return path.name.lower().endswith(TABLE_SUFFIXES)


def _separator(path: Path) -> str:
    return "\t" if path.name.lower().endswith(".tsv") else ","


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (gzipped or not), TSV or parquet file."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        try:
            return pd.read_parquet(path)
        except ImportError:
            raise ValueError(
                f"reading {path} needs a parquet engine: pip install pyarrow (or save it as CSV)"
            ) from None
    try:
        return pd.read_csv(path, sep=_separator(path))
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"cannot read {path} as a table: {exc}") from None


def record_lines(path: Path, n_rows: int) -> list[int] | None:
    """The line (1-based, as an editor counts) on which each data row of a CSV / TSV starts.

    Counts the header, blank lines (which pandas skips) and cells spanning several lines
    (CIF text). ``None`` for parquet files, or if the count disagrees with pandas'.
    """
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return None
    opener: Callable[..., Any] = gzip.open if name.endswith(".gz") else open
    starts: list[int] = []
    try:
        with opener(path, "rt", newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.reader(fh, delimiter=_separator(path))
            end = 0
            for record in reader:
                start, end = end + 1, reader.line_num
                if record:
                    starts.append(start)
    except (OSError, csv.Error):
        return None
    starts = starts[1:]  # the header
    return starts[:n_rows] if len(starts) >= n_rows else None


def _where_in_table(path: Path, n_rows: int) -> list[str]:
    lines = record_lines(path, n_rows)
    if lines is None:
        return [f"{path} row {i + 1}" for i in range(n_rows)]
    return [f"{path}:{line}" for line in lines]


def _by_name(frame: pd.DataFrame, names: Sequence[str]) -> list[str]:
    return [c for c in frame.columns if str(c).strip().lower() in names]


def _check_column(frame: pd.DataFrame, column: str, what: str, source: str) -> str:
    if column not in frame.columns:
        raise ValueError(
            f"{source} has no column {column!r} ({what}); its columns: {list(frame.columns)}"
        )
    return column


def materials_column(
    frame: pd.DataFrame,
    source: str,
    formula_column: str | None = None,
    structure_column: str | None = None,
    need_structures: bool = False,
    option: str = "--formula-column or --structure-column",
) -> tuple[str, str]:
    """``(column, kind)`` of the materials in ``frame``: given, else found by name.

    With both a formula and a structure column, a model that needs structures gets the
    structure column and any other model the formula column.
    """
    if structure_column is not None:
        return _check_column(frame, structure_column, "structures", source), "structure"
    if formula_column is not None:
        return _check_column(frame, formula_column, "formulas", source), "composition"
    found = {"composition": _by_name(frame, FORMULA_COLUMNS)}
    found["structure"] = _by_name(frame, STRUCTURE_COLUMNS)
    for kind, cols in found.items():
        if len(cols) > 1:
            raise ValueError(
                f"{source} has several {kind} columns {cols}; choose one with {option}"
            )
    order = ("structure", "composition") if need_structures else ("composition", "structure")
    for kind in order:
        if found[kind]:
            return found[kind][0], kind
    raise ValueError(
        f"{source} has no materials column: name one with {option} (found by name: "
        f"composition/formula, structure/cif); its columns: {list(frame.columns)}"
    )


def _error_text(exc: SkatomsetsInputError) -> str:
    """An input error's message without its ``row N: `` prefix."""
    return str(exc).removeprefix(f"row {exc.row}: ")


def _quiet_parse(read: Callable[[], Any]) -> Any:
    """Run a structure reader; pymatgen's warnings are shown only if the read succeeds
    (a broken CIF gives one error, not eight warning lines before it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read()
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _read_rows(
    mats: Materials, read: Callable[[int], Any], column: str | None, progress: bool, unit: str
) -> None:
    """Fill ``mats.X`` with ``read(i)`` per row; an unreadable row becomes a problem."""
    rows: Any = range(len(mats.X))
    if progress and len(mats.X) >= 50:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="reading structures", unit=unit)
    for i in rows:
        if i in mats.problems:
            continue
        try:
            mats.X[i] = _quiet_parse(lambda i=i: read(i))
        except SkatomsetsInputError as exc:
            mats.add_problem(i, _error_text(exc), column)


def _materials_from_frame(
    frame: pd.DataFrame,
    path: Path,
    formula_column: str | None,
    structure_column: str | None,
    need_structures: bool,
    progress: bool,
    option: str = "--formula-column or --structure-column",
) -> Materials:
    column, kind = materials_column(
        frame, str(path), formula_column, structure_column, need_structures, option
    )
    values = frame[column].tolist()
    missing = frame[column].isna().to_numpy()
    mats = Materials(
        object_array([None] * len(frame)),
        kind,
        f"{path}, column {column!r}",
        ["" if m else str(v) for v, m in zip(values, missing, strict=True)],
        _where_in_table(path, len(frame)),
        frame,
        column,
    )
    for i in np.flatnonzero(missing):
        mats.add_problem(i, f"no {'formula' if kind == 'composition' else 'structure'}", column)
    if kind == "composition":
        for i in mats.valid:
            mats.X[i] = str(values[i])
    else:
        _read_rows(
            mats, lambda i: parse_structure(values[i], base_dir=path.parent, row=i), column,
            progress, "structure",
        )  # fmt: skip
        for i in mats.valid:
            mats.labels[i] = _label_of(values[i], mats.X[i])
    return mats


def _label_of(value: Any, structure: Any) -> str:
    """A short label: the file name for a path, else the structure's reduced formula."""
    if isinstance(value, str) and "\n" not in value.strip() and not value.lstrip().startswith("{"):
        return value.strip()
    return structure.composition.reduced_formula


def pick_target(
    frame: pd.DataFrame, target: str | None, exclude: Sequence[str], source: str
) -> str:
    """The target column: given, else ``target``, else the only column left.

    The materials column (``exclude``) is never a target: naming it is an error.
    """
    if target is not None:
        if target in exclude:
            raise ValueError(
                f"--target {target!r} is the materials column of {source}; name the column "
                f"of the property to learn (columns: {list(frame.columns)})"
            )
        return _check_column(frame, target, "the target", source)
    if "target" in frame.columns and "target" not in exclude:
        return "target"
    rest = [c for c in frame.columns if c not in exclude]
    if len(rest) == 1:
        return rest[0]
    raise ValueError(f"name the target column of {source} with --target; candidates: {rest}")


def _target_values(mats: Materials, frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    for i in np.flatnonzero(values.isna().to_numpy()):
        mats.add_problem(i, "no target value (empty cell)", column)
    return values.to_numpy()


def _numeric_extras(mats: Materials, frame: pd.DataFrame, names: Sequence[str]) -> None:
    """``mats.extras``: the columns ``names`` as numbers; other cells are bad rows."""
    table = pd.DataFrame(index=frame.index)
    for name in names:
        numbers = pd.to_numeric(frame[name], errors="coerce")
        for i in np.flatnonzero(~np.isfinite(numbers.to_numpy(dtype=float))):
            cell = frame[name].iloc[i]
            what = "empty" if pd.isna(cell) else f"{cell!r} is not a finite number"
            mats.add_problem(i, what, name)
        table[name] = numbers
    mats.extras = table


def _extra_columns(
    mats: Materials, frame: pd.DataFrame, features: Sequence[str] | None, used: Sequence[str]
) -> None:
    """Take the ``features`` columns as extra numeric inputs; note the columns left out."""
    from pandas.api.types import is_numeric_dtype

    features = list(features or [])
    for name in features:
        _check_column(frame, name, "--features", mats.source.split(",")[0])
        if name in used:
            raise ValueError(f"--features {name!r} is the materials or the target column")
    if features:
        _numeric_extras(mats, frame, features)
    rest = [c for c in frame.columns if c not in (*used, *features)]
    numeric = [str(c) for c in rest if is_numeric_dtype(frame[c])]
    text = [str(c) for c in rest if not is_numeric_dtype(frame[c])]
    if numeric:
        mats.notes.append(
            f"columns not used: {', '.join(numeric)} (numbers: --features "
            f"{','.join(numeric)} uses them as extra inputs of the model)"
        )
    if text:
        mats.notes.append(f"columns not used: {', '.join(text)} (not numbers)")


def load_training_data(
    data: Path,
    target: str | None = None,
    formula_column: str | None = None,
    structure_column: str | None = None,
    targets: Path | None = None,
    file_column: str | None = None,
    need_structures: bool = False,
    progress: bool = True,
    features: Sequence[str] | None = None,
    limit: int | None = None,
) -> Materials:
    """Materials and targets from a table, or a folder of structure files plus a target table.

    Every row is read; rows without a material or a target, and structures that cannot be
    read, are recorded in :attr:`Materials.problems` (nothing is raised for them).

    Parameters
    ----------
    data : Path
        A CSV / TSV / parquet file with a materials column and a target column, or a folder
        of structure files (``.cif``, POSCAR...).
    target : str, optional
        Target column (default: ``target``, or the only column besides the materials).
    formula_column, structure_column : str, optional
        The materials column (default: found by name).
    targets : Path, optional
        For a folder: the table of targets, with a column naming each file (by name or by
        name without its ending); files without a row are left out (and said so).
    file_column : str, optional
        That column (default: the first column whose values all name files of the folder).
    need_structures : bool
        The model needs structures (choose the structure column when there are both).
    progress : bool
        Progress bar while reading many structures.
    features : sequence of str, optional
        Numeric columns to use as extra inputs of the model (:attr:`Materials.extras`);
        the numeric columns not named are listed in :attr:`Materials.notes`.
    limit : int, optional
        Read only the first ``limit`` rows of the table.

    Returns
    -------
    Materials
    """
    if data.is_dir():
        mats = _load_folder(data, targets, target, file_column, progress, limit)
    else:
        if targets is not None:
            raise ValueError("--targets goes with a folder of structure files, not with a table")
        if not is_table(data):
            raise ValueError(
                f"{data} is not a table: give a .csv, .tsv or .parquet file or a folder of "
                "structure files"
            )
        frame = read_table(data).iloc[:limit]
        if len(frame) == 0:
            raise ValueError(f"{data} has no rows")
        mats = _materials_from_frame(
            frame, data, formula_column, structure_column, need_structures, progress
        )
        mats.target_name = pick_target(frame, target, [mats.column], str(data))
        mats.y = _target_values(mats, frame, mats.target_name)
    assert mats.frame is not None and mats.target_name is not None
    _extra_columns(mats, mats.frame, features, [mats.column, mats.target_name])
    return mats


def _load_folder(
    folder: Path,
    targets: Path | None,
    target: str | None,
    file_column: str | None,
    progress: bool,
    limit: int | None = None,
) -> Materials:
    files = structure_files(folder)
    if not files:
        raise ValueError(f"no structure files (.cif, POSCAR*, CONTCAR*, .vasp) in {folder}")
    if targets is None:
        raise ValueError(
            f"{folder} is a folder of {len(files)} structure files: give their targets with "
            "--targets TABLE (a column naming the file, a column of targets)"
        )
    if not targets.is_file():
        raise FileNotFoundError(f"no such targets file: {targets}")
    table = read_table(targets).iloc[:limit]
    if len(table) == 0:
        raise ValueError(f"{targets} has no rows")
    by_name = {p.name: p for p in files}
    by_name.update({_stem(p): p for p in files if _stem(p) not in by_name})
    if file_column is None:
        # the column naming the most files (every row, ideally; the others are bad rows)
        shares = {c: table[c].astype(str).isin(list(by_name)).mean() for c in table.columns}
        best = max(shares, key=shares.__getitem__)
        if shares[best] < 0.5:
            raise ValueError(
                f"no column of {targets} names the files of {folder} (by name or by name "
                f"without ending, e.g. {files[0].name!r}); give it with --file-column"
            )
        file_column = best
    _check_column(table, file_column, "file names", str(targets))
    target = pick_target(table, target, [file_column], str(targets))
    names = table[file_column].astype(str).tolist()
    where = _where_in_table(targets, len(table))
    mats = Materials(
        object_array([None] * len(table)),
        "structure",
        f"{folder} ({len(table)} files), targets {targets} column {target!r}",
        list(names),
        where,
        table,
        file_column,
        target_name=target,
    )
    for row, name in enumerate(names):
        if name not in by_name:
            mats.add_problem(row, f"no structure file {name!r} in {folder}", file_column)
        else:
            mats.labels[row] = by_name[name].name
    mats.y = _target_values(mats, table, target)
    paths = [by_name.get(n) for n in names]
    _read_rows(mats, lambda i: read_structure(paths[i], i), None, progress, "file")
    for row, path in enumerate(paths):  # a structure's problem is located by its file
        if path is not None:
            mats.where[row] = str(path)
    left = len(files) - len({p for p in paths if p is not None})
    if left:
        mats.notes.append(f"{left} structure files of {folder} have no row in {targets}: left out")
    return mats


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".gz", ".bz2", ".xz"):
        name = name.removesuffix(ext)
    return name.rsplit(".", 1)[0] if "." in name else name


def infer_task(
    y: np.ndarray, task: str, name: str, mats: Materials | None = None
) -> tuple[bool, np.ndarray, str]:
    """``(classification, y, reason)`` for ``--task auto|regression|classification``.

    auto: True/False targets, text targets, and integer targets with exactly 2 distinct
    values (a 0/1 flag) are classes; every other numeric target (integers with 3 or more
    values, such as hardness or counts, included) is regression. A mostly numeric column
    (at least half numbers) with a few other values is regression, and those rows are bad.

    Values that cannot be targets of the chosen task (text, NaN or inf for regression) are
    recorded as problems of ``mats`` when given, else raise
    :class:`~skatomsets.exceptions.InvalidTargetError` naming the first such row. Rows that
    are already bad in ``mats`` are not looked at.
    """
    from ..exceptions import InvalidTargetError

    y = np.asarray(y)
    rows = np.arange(len(y)) if mats is None else mats.valid
    sub = pd.Series(y[rows])
    numeric = pd.to_numeric(sub, errors="coerce").to_numpy(dtype=float)
    is_num = ~np.isnan(numeric)
    kind = y.dtype.kind
    n_distinct = len(pd.unique(sub))

    def regression(reason: str) -> tuple[bool, np.ndarray, str]:
        values = np.full(len(y), np.nan)
        values[rows] = numeric
        bad = rows[~np.isfinite(numeric)]
        for i in bad:
            what = "not a number" if not is_num[rows.searchsorted(i)] else "not finite"
            value = y[i].item() if isinstance(y[i], np.generic) else y[i]
            problem = f"target {value!r} is {what} (regression needs numbers)"
            if mats is None:
                raise InvalidTargetError(f"{problem} in the target column {name!r}", int(i))
            mats.add_problem(i, problem, name)
        return False, values, reason

    if task == "regression":
        if kind == "b":
            raise InvalidTargetError(
                f"--task regression needs numbers in the target column {name!r}, got True/False"
            )
        return regression("--task regression")
    if task == "classification":
        return True, y, "--task classification"
    if kind == "b":
        return True, y, "auto: True/False values"
    n_num = int(is_num.sum())
    if n_num < len(sub) / 2 or len(sub) == 0:
        return True, y, f"auto: {n_distinct} distinct values, mostly text"
    if n_num < len(sub):
        return regression(
            f"auto: {n_num} of {len(sub)} values are numbers, so the {len(sub) - n_num} "
            "other(s) are bad rows; --task classification if the values are class labels"
        )
    finite = numeric[np.isfinite(numeric)]
    integral = kind in "iu" or bool((finite == np.round(finite)).all())
    if integral and n_distinct == 2:
        labels = np.zeros(len(y), dtype=np.int64)  # bad rows (left out) read 0
        labels[rows] = numeric.astype(np.int64)
        reason = "auto: 2 distinct integer values, a 0/1 flag (--task regression to change)"
        return True, labels, reason
    if integral:
        return regression(
            f"auto: {n_distinct} distinct integer values; integers are classes only with 2 "
            "values (--task classification for class labels)"
        )
    return regression(f"auto: {n_distinct} distinct numeric values")


def check_classes(y: np.ndarray, n_splits: int) -> None:
    """Every class needs ``n_splits`` rows for stratified folds."""
    from ..exceptions import InvalidTargetError

    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise InvalidTargetError(f"only one class ({classes[0]!r}) in the target: nothing to learn")
    small = counts.argmin()
    if n_splits and counts[small] < n_splits:
        raise InvalidTargetError(
            f"class {classes[small]!r} has only {counts[small]} rows; {n_splits}-fold "
            "stratified cross-validation needs at least that many per class (--cv to change, "
            "--task regression if the target is a number)"
        )


def check_rows(
    transform: Callable[[Any], Any],
    mats: Materials,
    chunk_size: int | None = None,
    progress: bool = False,
    column: str | None = None,
) -> None:
    """Run ``transform`` (a fitted featurizer's) over every valid row, in chunks; record
    every row it refuses as a problem of ``mats``.

    A chunk that fails is run again without the row named by the error (one row at a time
    when the error names none), so each bad row costs one extra run of its chunk. What the
    featurizer caches (MEGNet / CHGNet features) is computed once for the fits after.
    ``chunk_size`` defaults to 64 structures (the progress bar moves) or 1024 formulas.
    """
    rows = mats.valid
    chunk_size = chunk_size or (64 if mats.kind == "structure" else 1024)
    chunks = [rows[i : i + chunk_size] for i in range(0, len(rows), chunk_size)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), desc="featurizing", unit="row", disable=len(chunks) < 2)
    for chunk in chunks:
        todo = [chunk]
        while todo:
            part = todo.pop()
            try:
                transform(mats.X[part])
            except SkatomsetsInputError as exc:
                if exc.row is not None and 0 <= exc.row < len(part):
                    mats.add_problem(part[exc.row], _error_text(exc), column)
                    todo.append(np.delete(part, exc.row))
                elif len(part) == 1:
                    mats.add_problem(part[0], _error_text(exc), column)
                else:
                    todo.extend(part[i : i + 1] for i in range(len(part)))
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()


def check_featurizer(model: Any, mats: Materials, progress: bool = False) -> float | None:
    """Featurize every valid row once with (a clone of) the model's first Pipeline step, so
    that every row it refuses becomes a problem of ``mats`` before any fit; MEGNet / CHGNet
    features land in the in-memory cache that the fits then reuse.

    A model without a featurizer step (an estimator that parses its inputs itself) gets
    the formulas parsed (:func:`skatomsets.io.materials.parse_compositions`) instead.

    Returns the seconds it took (``None`` when there was nothing to run).
    """
    import time

    from sklearn.base import clone

    if not len(mats.valid):
        return None
    column = mats.column if mats.kind == "composition" and mats.frame is not None else None
    if not hasattr(model, "steps") or len(model.steps) < 2:
        if mats.kind != "composition":
            return None
        from .materials import parse_compositions

        t0 = time.perf_counter()
        check_rows(parse_compositions, mats, progress=progress, column=column)
        return time.perf_counter() - t0
    t0 = time.perf_counter()
    featurizer = clone(model.steps[0][1])
    if "progress" in featurizer.get_params():
        featurizer.set_params(progress=False)  # one bar over the chunks instead
    featurizer.fit(mats.X[mats.valid[:1]])
    check_rows(featurizer.transform, mats, progress=progress, column=column)
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------ predict
def use_extra_inputs(mats: Materials, names: Sequence[str]) -> None:
    """A model fitted with extra inputs: take the same columns of the table, by name."""
    if mats.frame is None:
        raise ValueError(
            f"this model was trained with the extra inputs {list(names)} (--features): give "
            "a table with those columns"
        )
    missing = [n for n in names if n not in mats.frame.columns]
    if missing:
        raise ValueError(
            f"this model was trained with the extra inputs {list(names)} (--features), but "
            f"{mats.source.split(',')[0]} has no column {missing[0]!r}"
        )
    _numeric_extras(mats, mats.frame, names)


def predict_table(
    model: Any, mats: Materials, progress: bool = False
) -> tuple[pd.DataFrame, Any, list[str]]:
    """Predict every row of ``mats`` that can be predicted.

    The model's featurizer checks every row first (:func:`check_rows`), then the valid rows
    are predicted together (:func:`skatomsets.uncertainty.prediction_frame`); a row the
    estimator refuses becomes a problem too. A model fitted with extra inputs reads the same
    columns of the table.

    Returns
    -------
    frame : DataFrame
        One row per input row: the input (a table's columns, CIF text shown as its file name
        or formula; columns named like the results are replaced), the results (empty for
        bad rows) and, when a row failed, an ``error`` column saying why.
    predictions : DataFrame or None
        The results of the predicted rows only (``None`` when none could be predicted).
    replaced : list of str
        The input's columns that the results replaced.
    """
    from ..exceptions import SkatomsetsInputError
    from ..uncertainty import final_estimator, prediction_frame

    extra = getattr(final_estimator(model), "extra_names_in_", None)
    if extra is not None:
        use_extra_inputs(mats, [str(c) for c in extra])
    column = mats.column if mats.frame is not None else None
    if hasattr(model, "steps") and len(model.steps) > 1:
        check_rows(model[0].transform, mats, progress=progress, column=column)
    elif mats.kind == "composition":  # an estimator that parses its inputs itself
        from .materials import parse_compositions

        check_rows(parse_compositions, mats, progress=progress, column=column)
    preds = None
    for _ in range(100):  # the estimator may refuse a row too (a non-finite output)
        rows = mats.valid
        if not len(rows):
            break
        try:
            preds = prediction_frame(model, mats.inputs(rows))
            break
        except SkatomsetsInputError as exc:
            if exc.row is None or not 0 <= exc.row < len(rows):
                raise
            mats.add_problem(rows[exc.row], _error_text(exc))
    rows = mats.valid
    if mats.frame is not None:
        base = mats.frame.reset_index(drop=True).copy()
        if mats.kind == "structure":  # CIF text would fill the screen: file name or formula
            base[mats.column] = mats.labels
    else:
        base = pd.DataFrame({"input": mats.labels})
    if preds is None:
        results = pd.DataFrame({"prediction": np.full(len(base), np.nan)})
    else:  # the predicted rows in place, empty cells for the others
        results = preds.set_axis(rows).reindex(range(len(base)))
    replaced = [c for c in [*results.columns, "error"] if c in base.columns]
    frame = pd.concat([base.drop(columns=replaced), results], axis=1)
    if mats.problems:
        errors = [""] * len(frame)
        for r, problems in mats.problems.items():
            errors[r] = "; ".join(problems)
        frame["error"] = errors
    return frame, preds, replaced


def prediction_inputs(
    inputs: Sequence[str],
    column: str | None,
    need_structures: bool,
    progress: bool = True,
) -> Materials:
    """Materials to predict: formulas, structure files, folders of them, or one table.

    A table must be the only input; its materials column is ``column`` or found by name.
    Rows that cannot be read are :attr:`Materials.problems`, not errors.
    """
    tables = [s for s in inputs if s and Path(s).is_file() and is_table(Path(s))]
    if tables:
        if len(inputs) > 1:
            raise ValueError(f"give a table ({tables[0]}) alone, not together with other inputs")
        path = Path(tables[0])
        frame = read_table(path)
        if column is not None:
            kind = (
                "structure"
                if need_structures
                else _column_kind(frame[column] if column in frame else None)
            )
            return _materials_from_frame(
                frame, path, *((None, column) if kind == "structure" else (column, None)),
                need_structures, progress,
            )  # fmt: skip
        return _materials_from_frame(
            frame, path, None, None, need_structures, progress, option="--column"
        )
    items: list[Any] = []
    labels: list[str] = []
    kinds = set()
    for text in inputs:
        path = Path(text)
        if text and path.is_dir():
            files = structure_files(path)
            if not files:
                raise ValueError(f"no structure files (.cif, POSCAR*, CONTCAR*, .vasp) in {path}")
            items.extend(files)
            labels.extend(str(f) for f in files)
            kinds.add("structure")
        elif text and path.is_file() and is_structure_name(path.name):
            items.append(path)
            labels.append(text)
            kinds.add("structure")
        elif is_structure_name(text) and not path.name.startswith(("POSCAR", "CONTCAR")):
            raise FileNotFoundError(f"no such structure file: {text}")
        elif is_table(path) and not path.is_file():
            raise FileNotFoundError(f"no such table: {text}")
        elif text and path.is_file():
            raise ValueError(
                f"{text} is a file but neither a table (.csv, .tsv, .parquet) nor a structure "
                "file (.cif, POSCAR*, CONTCAR*, .vasp)"
            )
        else:  # a formula (an empty string too: a bad row, not "the current folder")
            items.append(text)
            labels.append(text)
            kinds.add("composition")
    if need_structures and "composition" in kinds:
        first = next(t for t, i in zip(labels, items, strict=True) if isinstance(i, str))
        raise ValueError(
            f"this model needs crystal structures (CIF / POSCAR files or a folder of them), "
            f"but {first!r} is a formula (or a file that does not exist)"
        )
    kind = "structure" if kinds == {"structure"} else "composition"
    where = [f"input {i + 1} {label!r}" for i, label in enumerate(labels)]
    mats = Materials(object_array(items), kind, "the command line", labels, where)
    if "structure" in kinds:
        _read_rows(
            mats,
            lambda i: read_structure(items[i], i) if isinstance(items[i], Path) else items[i],
            None,
            progress,
            "file",
        )
    return mats


def _column_kind(values: pd.Series | None) -> str:
    """``structure`` when the first cell looks like CIF text, a structure file or a dict."""
    if values is None or len(values) == 0:
        return "composition"
    first = str(values.iloc[0]).strip()
    if "\n" in first or first.startswith("{") or is_structure_name(first):
        return "structure"
    return "composition"
