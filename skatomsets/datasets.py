"""Datasets: built-in MatBench tasks, MatBench CSVs by path, the online MatBench route, folds.

Every loader returns a :class:`pandas.DataFrame` with the columns ``mbid``, ``composition``
(or ``structure``), ``target`` and ``test_fold`` (the official MatBench v0.1 fold in which
the row is a test row), so :func:`matbench_cv` turns any of them into a scikit-learn CV
splitter with the official folds.
"""

from __future__ import annotations

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
    "assign_matbench_folds",
    "is_classification",
    "load_dataset",
    "load_matbench",
    "load_matbench_csv",
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
