"""Datasets: built-in MatBench tasks, MatBench CSVs by path, the online MatBench route, folds,
and JSON lists of crystal-structure records (:func:`load_structure_set`).

Every loader returns a :class:`pandas.DataFrame` with the columns ``mbid``, ``composition``
(or ``structure``), ``target`` and ``test_fold`` (the official MatBench v0.1 fold in which
the row is a test row), so :func:`matbench_cv` turns any of them into a scikit-learn CV
splitter with the official folds.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a frame is read (a fast `skatomsets` start)
    import pandas as pd

__all__ = [
    "BUILTIN_DATASETS",
    "CLASSIFICATION_TASKS",
    "MATBENCH_SEED",
    "MATBENCH_TASKS",
    "MATBENCH_UNITS",
    "STRUCTURE_FOLD_SEED",
    "assign_matbench_folds",
    "is_classification",
    "load_dataset",
    "load_matbench",
    "load_matbench_csv",
    "load_structure_set",
    "matbench_cv",
]

_BUILTIN_DIR = Path(__file__).parent / "data" / "matbench"
#: Seed of the official MatBench v0.1 folds.
MATBENCH_SEED = 18012019
#: All 13 MatBench v0.1 tasks, smallest first (the one task list; `benchmarks.config.ALL_TASKS`).
MATBENCH_TASKS = (
    "matbench_steels", "matbench_jdft2d", "matbench_phonons", "matbench_expt_gap",
    "matbench_dielectric", "matbench_expt_is_metal", "matbench_glass", "matbench_log_gvrh",
    "matbench_log_kvrh", "matbench_perovskites", "matbench_mp_gap", "matbench_mp_is_metal",
    "matbench_mp_e_form",
)  # fmt: skip
#: Tasks whose target is a class label.
CLASSIFICATION_TASKS = ("matbench_expt_is_metal", "matbench_glass", "matbench_mp_is_metal")
#: Tasks shipped inside the package (compositions, with the official folds).
BUILTIN_DATASETS = tuple(
    sorted(p.name.removesuffix(".csv.gz") for p in _BUILTIN_DIR.glob("matbench_*.csv.gz"))
)
#: Seed of the folds a structure file without ``test_fold`` gets (the MatBench v0.1 seed).
STRUCTURE_FOLD_SEED = MATBENCH_SEED
_ID_FIELDS = ("mbid", "material_id", "id")
#: Units of the MatBench targets, as ``skatomsets train`` prints them.
MATBENCH_UNITS = {
    "matbench_steels": "MPa",
    "matbench_jdft2d": "meV/atom",
    "matbench_phonons": "cm^-1",
    "matbench_expt_gap": "eV",
    "matbench_dielectric": "(refractive index, no unit)",
    "matbench_log_gvrh": "log10(GPa)",
    "matbench_log_kvrh": "log10(GPa)",
    "matbench_perovskites": "eV/unit cell",
    "matbench_mp_gap": "eV",
    "matbench_mp_e_form": "eV/atom",
}
#: Environment variable naming a folder of ``matbench_<task>.csv.gz`` files.
DATA_ENV = "SKATOMSETS_MATBENCH_DIR"


def task_name(name: str) -> str:
    """The full MatBench task name (``"steels"`` -> ``"matbench_steels"``), checked."""
    name = name if name.startswith("matbench_") else f"matbench_{name}"
    if name not in MATBENCH_TASKS:
        raise ValueError(f"unknown MatBench task {name!r}; choose one of {MATBENCH_TASKS}")
    return name


def is_classification(task: str) -> bool:
    """Whether a MatBench task is a classification task."""
    return task_name(task) in CLASSIFICATION_TASKS


def load_matbench_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a MatBench CSV (``mbid, composition, target, test_fold``), gzipped or not.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a required column is missing.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no MatBench CSV at {path}")
    import pandas as pd

    df = pd.read_csv(path)
    missing = {"composition", "target"} - set(df.columns)
    if missing:
        raise ValueError(f"{path} lacks the column(s) {sorted(missing)}")
    if "test_fold" not in df.columns:
        task = path.name.split(".")[0]
        df["test_fold"] = assign_matbench_folds(
            df["target"], classification=task in CLASSIFICATION_TASKS
        )
    return df


def load_dataset(name: str) -> pd.DataFrame:
    """Load a dataset shipped with skatomsets (no download).

    Parameters
    ----------
    name : str
        One of :data:`BUILTIN_DATASETS` (the ``matbench_`` prefix may be omitted).

    Examples
    --------
    >>> df = load_dataset("matbench_steels")
    >>> len(df), list(df.columns)
    (312, ['mbid', 'composition', 'target', 'test_fold'])
    """
    task = task_name(name)
    if task not in BUILTIN_DATASETS:
        raise ValueError(
            f"{task} is not built in (built in: {BUILTIN_DATASETS}); use "
            "load_matbench(task, data_dir=...) or load_matbench(task) with matbench installed"
        )
    return load_matbench_csv(_BUILTIN_DIR / f"{task}.csv.gz")


def assign_matbench_folds(target: Any, classification: bool) -> np.ndarray:
    """The official MatBench v0.1 test fold of each row.

    MatBench v0.1 uses ``KFold`` (regression) or ``StratifiedKFold`` (classification) with 5
    splits, ``shuffle=True`` and ``random_state=18012019`` over the rows in MatBench id order.

    Parameters
    ----------
    target : array-like of shape (n_samples,)
        Targets in MatBench id order.
    classification : bool

    Returns
    -------
    ndarray of int, shape (n_samples,)
    """
    y = np.asarray(target)
    from sklearn.model_selection import KFold, StratifiedKFold

    cv = (StratifiedKFold if classification else KFold)(
        n_splits=5, shuffle=True, random_state=MATBENCH_SEED
    )
    folds = np.empty(len(y), dtype=np.int64)
    for k, (_, test) in enumerate(cv.split(np.zeros(len(y)), y if classification else None)):
        folds[test] = k
    return folds


def load_matbench(
    task: str, data_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> pd.DataFrame:
    """Load a MatBench v0.1 task with its official folds.

    Looks, in order, in ``data_dir``, in the folder named by the environment variable
    ``SKATOMSETS_MATBENCH_DIR``, among the built-in datasets, and finally (if ``download``)
    fetches the task through matminer's ``load_dataset`` (the MatBench download route; needs
    network access), computing the official folds.

    Parameters
    ----------
    task : str
        A MatBench task name, e.g. ``"matbench_expt_gap"`` or ``"expt_gap"``.
    data_dir : path, optional
        Folder with ``matbench_<task>.csv.gz`` files.
    download : bool, default=True
        Allow the online route when no local copy is found.

    Returns
    -------
    DataFrame
        ``mbid``, ``composition`` (or ``structure`` for structure tasks fetched online),
        ``target``, ``test_fold``.
    """
    task = task_name(task)
    for folder in (data_dir, os.environ.get(DATA_ENV)):
        if folder is not None:
            path = Path(folder) / f"{task}.csv.gz"
            if path.exists():
                return load_matbench_csv(path)
            if data_dir is not None and folder == data_dir:
                raise FileNotFoundError(f"no {task}.csv.gz in {folder}")
    if task in BUILTIN_DATASETS:
        return load_dataset(task)
    if not download:
        raise FileNotFoundError(
            f"{task} is not available locally; pass data_dir= or set {DATA_ENV}"
        )
    return _download_matbench(task)


def _download_matbench(task: str, loader: Any = None) -> pd.DataFrame:
    """Fetch ``task`` with matminer (the route MatBench itself uses) and add the folds."""
    if loader is None:
        from matminer.datasets import load_dataset as loader
    raw = loader(task)
    return matbench_frame_from_matminer(raw, task)


def matbench_frame_from_matminer(raw: pd.DataFrame, task: str) -> pd.DataFrame:
    """Normalise a matminer MatBench frame to ``mbid, composition|structure, target, test_fold``.

    matminer returns the rows in MatBench id order with the input column (``composition`` or
    ``structure``) first and the target last.
    """
    task = task_name(task)
    input_col = "composition" if "composition" in raw.columns else "structure"
    target_col = [c for c in raw.columns if c != input_col][-1]
    n = len(raw)
    short = task.removeprefix("matbench_").replace("_", "")
    import pandas as pd

    df = pd.DataFrame(
        {
            "mbid": [f"mb-{short}-{i + 1:0{max(3, len(str(n)))}d}" for i in range(n)],
            input_col: raw[input_col].to_numpy(),
            "target": raw[target_col].to_numpy(),
        }
    )
    if task in CLASSIFICATION_TASKS:
        df["target"] = df["target"].astype(int)
    df["test_fold"] = assign_matbench_folds(df["target"], task in CLASSIFICATION_TASKS)
    return df


def matbench_cv(df: pd.DataFrame) -> Any:
    """A scikit-learn CV splitter yielding the official MatBench folds of ``df``.

    Examples
    --------
    >>> cv = matbench_cv(load_dataset("steels"))
    >>> cv.get_n_splits()
    5
    """
    if "test_fold" not in df.columns:
        raise ValueError("the DataFrame has no test_fold column")
    from sklearn.model_selection import PredefinedSplit

    return PredefinedSplit(df["test_fold"].to_numpy())


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
    import pandas as pd
    from pymatgen.core import Structure
    from sklearn.model_selection import KFold

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
