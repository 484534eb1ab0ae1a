"""Content-keyed cache of MEGNet features, in memory and optionally on disk.

Every structure is keyed by a hash of what the model sees: the lattice matrix, the
fractional coordinates and, per site, the atomic numbers and occupancies (site properties,
labels and oxidation states are ignored). Features live in *namespaces*
``"<model checksum>/<feature>"`` so a different parent network, or a different feature, can
never be served from the cache by mistake.

The in-memory store is shared by every featurizer in the process, so cloned featurizers in
a grid search (``GridSearchCV`` clones and refits them for every candidate and fold) reuse
each other's results. With a directory, results are also written to disk in shards
(``.npz`` files holding many structures) with an atomic ``os.replace`` and a SHA-256 of the
content that is checked when the shard is read; a shard that fails the check is ignored
with a warning, deleted (so that the next process does not trip on it again) and its
structures are recomputed and written anew. Temporary files left by a killed writer
(``.tmp-*.npz`` older than :data:`STALE_TMP_SECONDS`) are removed when a process first uses
the directory.
A directory that cannot be written (read-only, full disk) gives one warning per directory and
the cache carries on in memory: the computed features are returned, never lost.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._csr import offsets_of

__all__ = ["FeatureCache", "clear_memory_cache", "structure_key"]

_MEMORY: dict[str, dict[str, np.ndarray]] = {}
_SEEN_SHARDS: dict[str, set[str]] = {}  # shard folder -> shard files already read
_UNWRITABLE: set[str] = set()  # directories already warned about (cannot write)
_SWEPT: set[str] = set()  # shard folders already cleaned of abandoned temporary files
_LOCK = threading.Lock()

#: Age (seconds) after which a ``.tmp-*.npz`` left in a cache folder counts as abandoned
#: (a live write takes well under a second; a killed writer never renames its file).
STALE_TMP_SECONDS = 600.0


def clear_memory_cache() -> None:
    """Drop every feature held in the in-process MEGNet cache."""
    with _LOCK:
        _MEMORY.clear()
        _SEEN_SHARDS.clear()
        _UNWRITABLE.clear()
        _SWEPT.clear()


def structure_key(structure: Any) -> str:
    """Hex digest identifying a structure as the MEGNet graph sees it.

    Parameters
    ----------
    structure : pymatgen.core.Structure

    Returns
    -------
    str
        32 hex characters (BLAKE2b-128 of lattice, fractional coordinates and species).
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(structure.lattice.matrix, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(structure.frac_coords, dtype=np.float64).tobytes())
    if structure.is_ordered:
        h.update(np.asarray([site.specie.Z for site in structure], dtype=np.int64).tobytes())
    else:
        desc = [
            tuple(sorted((sp.Z, float(occ)) for sp, occ in site.species.items()))
            for site in structure
        ]
        h.update(b"disordered" + repr(desc).encode())
    return h.hexdigest()


def _payload_digest(keys: np.ndarray, offsets: np.ndarray, values: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (keys.astype("U32"), offsets.astype(np.int64), values):
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class FeatureCache:
    """Per-structure feature arrays, keyed by :func:`structure_key` within a namespace.

    Parameters
    ----------
    directory : str or Path, optional
        Where to keep shards on disk; ``None`` keeps the cache in memory only.

    Notes
    -----
    Arrays are stored per structure with their leading axis ragged (site features have one
    row per site, structure features one row).
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = None if directory is None else Path(directory)

    # ------------------------------------------------------------------ memory
    def _store(self, namespace: str) -> dict[str, np.ndarray]:
        with _LOCK:
            return _MEMORY.setdefault(namespace, {})

    def get(self, namespace: str, keys: Sequence[str]) -> list[np.ndarray | None]:
        """Cached arrays for ``keys`` (None where missing)."""
        store = self._store(namespace)
        out = [store.get(k) for k in keys]
        if self.directory is not None and any(v is None for v in out):
            self._load_new_shards(namespace, store)
            out = [store.get(k) if v is None else v for k, v in zip(keys, out, strict=True)]
        return out

    def put(self, namespace: str, keys: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
        """Store one array per key (in memory, and as one shard on disk)."""
        if not keys:
            return
        store = self._store(namespace)
        with _LOCK:
            for k, a in zip(keys, arrays, strict=True):
                store[k] = a
        if self.directory is not None:
            try:
                self._write_shard(namespace, keys, arrays)
            except OSError as exc:  # read-only or full directory: keep the results anyway
                self._warn_unwritable(exc)

    def _warn_unwritable(self, exc: OSError) -> None:
        where = str(self.directory)
        with _LOCK:
            if where in _UNWRITABLE:
                return
            _UNWRITABLE.add(where)
        warnings.warn(
            f"cannot write to the MEGNet feature cache directory {where} ({exc}); features are "
            "kept in memory only for this process",
            UserWarning,
            stacklevel=4,
        )

    # ------------------------------------------------------------------ disk
    def _dir(self, namespace: str) -> Path:
        assert self.directory is not None
        return self.directory.joinpath(*namespace.split("/"))

    def _seen(self, folder: Path) -> set[str]:
        with _LOCK:
            return _SEEN_SHARDS.setdefault(str(folder.resolve()), set())

    def _sweep_once(self) -> None:
        """Once per directory and process: delete abandoned ``.tmp-*.npz`` files."""
        assert self.directory is not None
        where = str(self.directory.resolve())
        with _LOCK:
            if where in _SWEPT:
                return
            _SWEPT.add(where)
        _remove_stale_tmp(self.directory)

    def _write_shard(
        self, namespace: str, keys: Sequence[str], arrays: Sequence[np.ndarray]
    ) -> None:
        self._sweep_once()
        folder = self._dir(namespace)
        folder.mkdir(parents=True, exist_ok=True)
        keys_arr = np.asarray(keys, dtype="U32")
        offsets = offsets_of(arrays)
        values = np.ascontiguousarray(np.concatenate([np.asarray(a) for a in arrays]))
        digest = _payload_digest(keys_arr, offsets, values)
        name = f"shard-{digest[:24]}.npz"
        target = folder / name
        if target.exists() and name in self._seen(folder):
            return  # read and verified, or written, by this process: nothing to repair
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=keys_arr, offsets=offsets, values=values, sha256=digest)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._seen(folder).add(name)

    def _load_new_shards(self, namespace: str, store: dict[str, np.ndarray]) -> None:
        folder = self._dir(namespace)
        if not folder.is_dir():
            return
        self._sweep_once()
        seen = self._seen(folder)
        for path in sorted(folder.glob("shard-*.npz")):
            if path.name in seen:
                continue
            seen.add(path.name)
            try:
                with np.load(path, allow_pickle=False) as z:
                    keys, offsets, values = z["keys"], z["offsets"], z["values"]
                    expected = str(z["sha256"])
                ok = _payload_digest(keys, offsets, values) == expected and path.name.startswith(
                    f"shard-{expected[:24]}"
                )
            except Exception as exc:  # unreadable / truncated file
                warnings.warn(
                    f"ignoring unreadable MEGNet cache shard {path} ({exc}); it is deleted and "
                    "its structures recomputed",
                    stacklevel=3,
                )
                _unlink_quietly(path)
                seen.discard(path.name)
                continue
            if not ok:
                warnings.warn(
                    f"ignoring MEGNet cache shard {path}: its content does not match its "
                    "checksum (corrupted or modified); it is deleted and its structures "
                    "recomputed",
                    stacklevel=3,
                )
                _unlink_quietly(path)
                seen.discard(path.name)
                continue
            with _LOCK:
                for i, k in enumerate(keys.tolist()):
                    store.setdefault(k, values[offsets[i] : offsets[i + 1]])


def _unlink_quietly(path: Path) -> None:
    """Delete a bad shard so that it is rewritten on recompute (ignored if not allowed)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _remove_stale_tmp(directory: Path) -> None:
    """Delete ``.tmp-*.npz`` files a killed writer left behind (older than the threshold)."""
    now = time.time()
    for tmp in directory.rglob(".tmp-*.npz"):
        try:
            if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                tmp.unlink()
        except OSError:
            pass
