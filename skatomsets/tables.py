"""The user's own data for the command line: tables, structure folders, task type, CV.

Used by ``skatomsets train DATA`` and ``skatomsets predict MODEL INPUT...``
(:mod:`skatomsets.cli`); every problem is a ``ValueError`` (mostly a typed
:class:`~skatomsets.exceptions.SkatomsetsInputError`) or ``FileNotFoundError`` with one clear
message, which the command line prints as one line (exit code 2).

Materials columns are found by name when not given: a formula column is named
``composition`` or ``formula``, a structure column ``structure`` or ``cif`` (case does not
matter). A structure cell holds CIF text, POSCAR text, a pymatgen JSON dict, or the path of a
structure file, relative to the table's folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InvalidTargetError, SkatomsetsInputError
from .io_structures import is_structure_name, parse_structure, read_structure, structure_files
from .protocols import FoldResult, fit_fold, run_jobs

FORMULA_COLUMNS = ("composition", "formula")
STRUCTURE_COLUMNS = ("structure", "cif")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".parquet", ".pq")
#: Integer / bool / string targets with at most this many distinct values are classes.
MAX_AUTO_CLASSES = 10


@dataclass
class Materials:
    """Materials read from the user's files, ready for a model."""

    X: np.ndarray  # object array: formula strings or Structures
    kind: str  # "composition" or "structure"
    source: str  # where they came from, for messages
    labels: list[str]  # what identifies each row in printed output
    frame: pd.DataFrame | None = None  # the table they came from (predict output)
    column: str | None = None
    y: np.ndarray | None = None
    target_name: str | None = None
    notes: list[str] = field(default_factory=list)


def object_array(items: Sequence[Any]) -> np.ndarray:
    """A 1-D object array (``np.asarray`` would unpack Structures into sites)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def is_table(path: Path) -> bool:
    """Whether ``path`` names a CSV / TSV / parquet file (by its ending)."""
    return path.name.lower().endswith(TABLE_SUFFIXES)


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
    sep = "\t" if name.endswith(".tsv") else ","
    try:
        return pd.read_csv(path, sep=sep)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"cannot read {path} as a table: {exc}") from None


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


def _structures_of(values: Sequence[Any], base_dir: Path, progress: bool) -> list[Any]:
    rows: Any = range(len(values))
    if progress and len(values) >= 50:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="reading structures", unit="structure")
    return [parse_structure(values[i], base_dir=base_dir, row=i) for i in rows]


def _formulas_of(values: pd.Series, source: str, column: str) -> np.ndarray:
    missing = values.isna().to_numpy()
    if missing.any():
        raise SkatomsetsInputError(
            f"the formula column {column!r} of {source} is empty", int(np.flatnonzero(missing)[0])
        )
    return object_array([str(v) for v in values])


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
    values = frame[column]
    if kind == "composition":
        X = _formulas_of(values, str(path), column)
        labels = [str(v) for v in values]
    else:
        X = object_array(_structures_of(values.tolist(), path.parent, progress))
        labels = [_label_of(v, s) for v, s in zip(values.tolist(), X, strict=True)]
    return Materials(X, kind, f"{path}, column {column!r}", labels, frame, column)


def _label_of(value: Any, structure: Any) -> str:
    """A short label: the file name for a path, else the structure's reduced formula."""
    if isinstance(value, str) and "\n" not in value.strip() and not value.lstrip().startswith("{"):
        return value.strip()
    return structure.composition.reduced_formula


def pick_target(
    frame: pd.DataFrame, target: str | None, exclude: Sequence[str], source: str
) -> str:
    """The target column: given, else ``target``, else the only column left."""
    if target is not None:
        return _check_column(frame, target, "the target", source)
    if "target" in frame.columns and "target" not in exclude:
        return "target"
    rest = [c for c in frame.columns if c not in exclude]
    if len(rest) == 1:
        return rest[0]
    raise ValueError(f"name the target column of {source} with --target; candidates: {rest}")


def _target_values(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    values = frame[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise InvalidTargetError(
            f"the target column {column!r} of {source} is empty (drop rows without a target)",
            int(np.flatnonzero(missing)[0]),
        )
    return values.to_numpy()


def load_training_data(
    data: Path,
    target: str | None = None,
    formula_column: str | None = None,
    structure_column: str | None = None,
    targets: Path | None = None,
    file_column: str | None = None,
    need_structures: bool = False,
    progress: bool = True,
) -> Materials:
    """Materials and targets from a table, or a folder of structure files plus a target table.

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
    """
    if data.is_dir():
        return _load_folder(data, targets, target, file_column, progress)
    if targets is not None:
        raise ValueError("--targets goes with a folder of structure files, not with a table")
    if not is_table(data):
        raise ValueError(
            f"{data} is not a table: give a .csv, .tsv or .parquet file or a folder of "
            "structure files"
        )
    frame = read_table(data)
    if len(frame) == 0:
        raise ValueError(f"{data} has no rows")
    mats = _materials_from_frame(
        frame, data, formula_column, structure_column, need_structures, progress
    )
    mats.target_name = pick_target(frame, target, [mats.column], str(data))
    mats.y = _target_values(frame, mats.target_name, str(data))
    return mats


def _load_folder(
    folder: Path, targets: Path | None, target: str | None, file_column: str | None, progress: bool
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
    table = read_table(targets)
    by_name = {p.name: p for p in files}
    by_name.update({_stem(p): p for p in files if _stem(p) not in by_name})
    if file_column is None:
        for c in table.columns:
            if len(table) and table[c].astype(str).isin(list(by_name)).all():
                file_column = c
                break
        else:
            raise ValueError(
                f"no column of {targets} names the files of {folder} in every row (by name or "
                f"by name without ending, e.g. {files[0].name!r}); give it with --file-column"
            )
    _check_column(table, file_column, "file names", str(targets))
    names = table[file_column].astype(str).tolist()
    for row, name in enumerate(names):
        if name not in by_name:
            raise SkatomsetsInputError(f"{targets}: no structure file {name!r} in {folder}", row)
    target = pick_target(table, target, [file_column], str(targets))
    y = _target_values(table, target, str(targets))
    paths = [by_name[n] for n in names]
    rows: Any = range(len(paths))
    if progress and len(paths) >= 50:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="reading structures", unit="file")
    X = object_array([read_structure(paths[i], i) for i in rows])
    left = len(files) - len(set(paths))
    notes = (
        [f"{left} structure files of {folder} have no row in {targets}: left out"] if left else []
    )
    return Materials(
        X, "structure", f"{folder} ({len(paths)} files), targets {targets} column {target!r}",
        [p.name for p in paths], table, file_column, y, target, notes,
    )  # fmt: skip


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".gz", ".bz2", ".xz"):
        name = name.removesuffix(ext)
    return name.rsplit(".", 1)[0] if "." in name else name


def infer_task(y: np.ndarray, task: str, name: str) -> tuple[bool, np.ndarray, str]:
    """``(classification, y, reason)`` for ``--task auto|regression|classification``.

    auto: bool or text targets, and integer targets with at most :data:`MAX_AUTO_CLASSES`
    distinct values, are classes; anything else is regression.
    """
    numeric = pd.to_numeric(pd.Series(y), errors="coerce")
    is_number = not numeric.isna().any()
    kind = np.asarray(y).dtype.kind
    n_distinct = len(pd.unique(pd.Series(y)))
    if task == "regression":
        if not is_number or kind == "b":
            bad = int(np.flatnonzero(numeric.isna().to_numpy())[0]) if not is_number else None
            raise InvalidTargetError(
                f"--task regression needs numbers in the target column {name!r}"
                + (f", got {y[bad]!r}" if bad is not None else ", got True/False"),
                bad,
            )
        return False, numeric.to_numpy(dtype=float), "--task regression"
    if task == "classification":
        return True, np.asarray(y), "--task classification"
    if kind == "b" or not is_number:
        what = "True/False" if kind == "b" else "text"
        return True, np.asarray(y), f"auto: {n_distinct} distinct {what} values"
    values = numeric.to_numpy(dtype=float)
    integral = kind in "iu" or (np.isfinite(values).all() and (values == np.round(values)).all())
    if integral and n_distinct <= MAX_AUTO_CLASSES:
        labels = values.astype(np.int64)
        return True, labels, f"auto: {n_distinct} distinct integer values"
    return False, values, f"auto: {n_distinct} distinct numeric values"


def check_classes(y: np.ndarray, n_splits: int) -> None:
    """Every class needs ``n_splits`` rows for stratified folds."""
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


def score(est: Any, X: np.ndarray, y: np.ndarray, classification: bool) -> tuple[float, list]:
    """MAE, or ROC-AUC (one-vs-rest macro for more than two classes), and the predictions."""
    from sklearn.metrics import mean_absolute_error, roc_auc_score

    if not classification:
        pred = est.predict(X)
        return float(mean_absolute_error(y, pred)), [float(p) for p in pred]
    proba = est.predict_proba(X)
    classes = est.classes_
    if len(classes) == 2:
        return float(roc_auc_score(y == classes[1], proba[:, 1])), proba[:, 1].tolist()
    present = np.isin(classes, y)
    p = proba[:, present] / proba[:, present].sum(axis=1, keepdims=True)
    value = roc_auc_score(y, p, multi_class="ovr", labels=classes[present])
    return float(value), classes[proba.argmax(1)].tolist()


def _own_score(
    est: Any, X: np.ndarray, y: np.ndarray, classification: bool
) -> tuple[str, float, list, list]:
    value, pred = score(est, X, y, classification)
    return "roc_auc" if classification else "mae", value, pred, []


def cv_fold_jobs(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    classification: bool,
    n_splits: int = 5,
    random_state: int | None = 0,
    folds: Sequence[int] | None = None,
    progress: bool = False,
) -> list[tuple[Any, tuple, dict]]:
    """Shuffled (Stratified)KFold as jobs for :func:`skatomsets.protocols.run_jobs`: a clone
    of ``model`` fitted per fold, scored on the rest."""
    from functools import partial

    from sklearn.model_selection import KFold, StratifiedKFold

    cv = (StratifiedKFold if classification else KFold)(
        n_splits=n_splits, shuffle=True, random_state=random_state
    )
    scorer = partial(_own_score, classification=classification)
    jobs = []
    for k, (train, test) in enumerate(cv.split(np.zeros(len(y)), y if classification else None)):
        if folds is None or k in folds:
            jobs.append((fit_fold, (model, X, y, k, train, test, scorer), {"progress": progress}))
    return jobs


def cross_validate(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    classification: bool,
    n_splits: int = 5,
    random_state: int | None = 0,
    folds: Sequence[int] | None = None,
    callback: Callable[[FoldResult], None] | None = None,
    n_jobs: int | None = None,
) -> list[FoldResult]:
    """Run :func:`cv_fold_jobs` (in ``n_jobs`` processes), results in fold order."""
    jobs = cv_fold_jobs(model, X, y, classification, n_splits, random_state, folds)
    return run_jobs(jobs, n_jobs, None if callback is None else (lambda _i, res: callback(res)))


# ------------------------------------------------------------------------------ predict
def prediction_inputs(
    inputs: Sequence[str],
    column: str | None,
    need_structures: bool,
    progress: bool = True,
) -> Materials:
    """Materials to predict: formulas, structure files, folders of them, or one table.

    A table must be the only input; its materials column is ``column`` or found by name.
    """
    tables = [s for s in inputs if Path(s).is_file() and is_table(Path(s))]
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
        if path.is_dir():
            files = structure_files(path)
            if not files:
                raise ValueError(f"no structure files (.cif, POSCAR*, CONTCAR*, .vasp) in {path}")
            items.extend(files)
            labels.extend(str(f) for f in files)
            kinds.add("structure")
        elif path.is_file() and is_structure_name(path.name):
            items.append(path)
            labels.append(text)
            kinds.add("structure")
        elif is_structure_name(text) and not path.name.startswith(("POSCAR", "CONTCAR")):
            raise FileNotFoundError(f"no such structure file: {text}")
        elif is_table(path) and not path.is_file():
            raise FileNotFoundError(f"no such table: {text}")
        elif path.is_file():
            raise ValueError(
                f"{text} is a file but neither a table (.csv, .tsv, .parquet) nor a structure "
                "file (.cif, POSCAR*, CONTCAR*, .vasp)"
            )
        else:
            items.append(text)
            labels.append(text)
            kinds.add("composition")
    if need_structures and "composition" in kinds:
        first = next(t for t, i in zip(labels, items, strict=True) if isinstance(i, str))
        raise ValueError(
            f"this model needs crystal structures (CIF / POSCAR files or a folder of them), "
            f"but {first!r} is a formula (or a file that does not exist)"
        )
    rows: Any = range(len(items))
    if progress and len(items) >= 50 and "structure" in kinds:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="reading structures", unit="file")
    X = object_array(
        [read_structure(items[i], i) if isinstance(items[i], Path) else items[i] for i in rows]
    )
    kind = "structure" if kinds == {"structure"} else "composition"
    return Materials(X, kind, "the command line", labels)


def _column_kind(values: pd.Series | None) -> str:
    """``structure`` when the first cell looks like CIF text, a structure file or a dict."""
    if values is None or len(values) == 0:
        return "composition"
    first = str(values.iloc[0]).strip()
    if "\n" in first or first.startswith("{") or is_structure_name(first):
        return "structure"
    return "composition"
