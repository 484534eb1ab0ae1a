"""The one record store of every resumable runner: one atomic JSON file per result.

Every benchmark runner and script (MatBench folds, tuning scores, protocol splits, the
structure sets, the parent comparison, the learning curves) keeps each finished result in
its own JSON file, written atomically (a temporary file, then :func:`os.replace`), and
reads it back through :func:`read_record`: a missing, corrupt (an interrupted write),
incomplete or stale record (made with other parameters or rows: its ``"signature"``
differs) reads as None and is recomputed. So an interrupted run resumes where it stopped.

The file names are the runners' (kept so that existing records still load):

=============================  ====================================================
MatBench fold                  ``OUT/<model>__<task>__fold<k>.json``
tuning candidate               ``OUT/tune__<model>__<task>__c<i>.json``
protocol split                 ``OUT/<protocol>__<model>__<task>__<split>.json``
structure-set fold             ``OUT/folds/<model>__<task>__fold<k>.json``
parent comparison fold         ``OUT/<task>__<model>__fold<k>.json``
learning-curve point           ``OUT/<dataset>/<model>/n<size>_d<draw>.json``
=============================  ====================================================
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..io.files import atomic_write_text

__all__ = [
    "RecordStore",
    "jsonable",
    "read_record",
    "require_out_dir",
    "write_record",
]


def jsonable(obj: Any) -> Any:
    """``obj`` after a JSON round trip (tuples become lists, unknown objects strings).

    Signatures are compared in this form, which is how they come back from disk.

    Examples
    --------
    >>> jsonable({"sizes": (1, 2), "b": None})
    {'b': None, 'sizes': [1, 2]}
    """
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def read_record(
    path: str | os.PathLike[str],
    signature: dict[str, Any] | None = None,
    required: Sequence[str] = (),
    valid: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any] | None:
    """A cached JSON record, or None when it cannot be reused.

    None when the file is missing or corrupt (e.g. an interrupted write), is not a JSON
    object, lacks one of the ``required`` keys, was made with another ``signature``
    (compared after a JSON round trip), or fails ``valid``.

    Parameters
    ----------
    path : path
    signature : dict, optional
        Must equal the record's ``"signature"``.
    required : sequence of str, default=()
    valid : callable, optional
        ``valid(record)`` -> bool, a runner's own check (e.g. a finite score).

    Returns
    -------
    dict or None
    """
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or any(k not in rec for k in required):
        return None
    if signature is not None and rec.get("signature") != jsonable(signature):
        return None
    if valid is not None and not valid(rec):
        return None
    return rec


def write_record(
    path: str | os.PathLike[str], record: dict[str, Any], indent: int | None = None
) -> None:
    """Write ``record`` as JSON atomically (parent folders created)."""
    atomic_write_text(path, json.dumps(record, indent=indent))


def require_out_dir(out_dir: str | os.PathLike[str] | None) -> Path:
    """The runners' output folder, created; there is no implicit default (no CWD writes)."""
    if out_dir is None:
        raise ValueError(
            "out_dir is required: the folder for the per-fold JSON files (the resume "
            "state); e.g. out_dir='benchmark_runs' (the CLI: --out-dir)"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


class RecordStore:
    """The records under one folder: ``root / "<part>__<part>__....json"``.

    Parameters
    ----------
    root : path
        The folder (created on the first write).

    Examples
    --------
    >>> import tempfile
    >>> store = RecordStore(tempfile.mkdtemp())
    >>> store.path("atomsets", "matbench_steels", "fold0").name
    'atomsets__matbench_steels__fold0.json'
    >>> store.write({"signature": {"lr": 0.1}, "score": 1.0}, "a", "fold0")
    >>> store.read("a", "fold0", signature={"lr": 0.1})["score"]
    1.0
    >>> store.read("a", "fold0", signature={"lr": 0.2}) is None  # stale
    True
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, *parts: Any) -> Path:
        """The file of the record named by ``parts`` (joined with ``__``)."""
        return self.root / ("__".join(str(p) for p in parts) + ".json")

    def read(
        self,
        *parts: Any,
        signature: dict[str, Any] | None = None,
        required: Sequence[str] = (),
        valid: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any] | None:
        """The record named by ``parts`` if it can be reused (:func:`read_record`), else None."""
        return read_record(self.path(*parts), signature, required, valid)

    def exists(self, *parts: Any, **kwargs: Any) -> bool:
        """Whether the record named by ``parts`` can be reused (keywords as :meth:`read`)."""
        return self.read(*parts, **kwargs) is not None

    def write(self, record: dict[str, Any], *parts: Any, indent: int | None = None) -> None:
        """Write the record named by ``parts`` atomically."""
        write_record(self.path(*parts), record, indent)

    def load_all(
        self, pattern: str = "*.json", required: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Every readable record matching ``pattern`` under ``root``, in file-name order.

        Unreadable files (an interrupted write) and records missing a ``required`` key are
        left out.
        """
        out = []
        for path in sorted(self.root.glob(pattern)):
            rec = read_record(path, required=required)
            if rec is not None:
                out.append(rec)
        return out
