"""The CSR (compressed sparse row) layout shared by every ragged container.

Many variable-length groups (the members of sets, the elements of compositions, the sites,
bonds and species entries of crystal graphs, the rows of a cache shard) are stored flat, one
group after another, with an ``offsets`` array of shape ``(n_groups + 1,)``: group ``i`` is
rows ``offsets[i]:offsets[i + 1]``, ``offsets[0] == 0`` and ``offsets[-1]`` is the number of
rows. The helpers below are the only place where offsets are computed, gathered, shifted or
expanded; all are vectorised (no Python loop per group) and return ``int64`` arrays.

Users: :class:`~skatomsets.sets.RaggedSets`, :func:`~skatomsets.io.materials.parse_compositions`,
:class:`~skatomsets.megnet.graph.GraphBatch` (and ``take_graphs`` of the MEGNet estimators),
the feature cache shards (:mod:`skatomsets.megnet.cache`), the parents and the featurizers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "concat_offsets",
    "expand",
    "gather",
    "offsets_from_counts",
    "offsets_of",
    "ranges",
    "segment_ids",
    "split",
]


def offsets_from_counts(counts: Any) -> np.ndarray:
    """Offsets ``[0, c0, c0 + c1, ...]`` of groups with ``counts`` rows each.

    Parameters
    ----------
    counts : array-like of int, shape (n_groups,)

    Returns
    -------
    ndarray of int64, shape (n_groups + 1,)
    """
    counts = np.asarray(counts, dtype=np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def offsets_of(arrays: Sequence[Any]) -> np.ndarray:
    """Offsets of the arrays' rows once concatenated (``len`` of each array)."""
    counts = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    return offsets_from_counts(counts)


def ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(start, start + count)`` of every pair, and their offsets.

    Parameters
    ----------
    starts, counts : ndarray of int, shape (k,)

    Returns
    -------
    index : ndarray of int64, shape (counts.sum(),)
    offsets : ndarray of int64, shape (k + 1,)
        ``index[offsets[j]:offsets[j + 1]]`` is the ``j``-th range.
    """
    offsets = offsets_from_counts(counts)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - offsets[:-1], counts)
    return np.arange(offsets[-1], dtype=np.int64) + shift, offsets


def gather(offsets: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of groups ``idx`` (any order, repeats allowed) and the new offsets.

    ``values[rows]`` with the returned ``rows`` is the ragged array holding groups ``idx``,
    in that order, and the returned offsets describe it.

    Parameters
    ----------
    offsets : ndarray of int64, shape (n_groups + 1,)
    idx : ndarray of int, shape (k,)

    Returns
    -------
    rows : ndarray of int64
    new_offsets : ndarray of int64, shape (k + 1,)
    """
    starts = offsets[idx]
    return ranges(starts, offsets[idx + 1] - starts)


def segment_ids(offsets: np.ndarray) -> np.ndarray:
    """Index of the owning group of every row, shape ``(offsets[-1],)``, int64."""
    offsets = np.asarray(offsets)
    return np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))


def expand(per_group: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """A per-group array repeated for every row of its group (along the first axis)."""
    return np.repeat(per_group, np.diff(offsets), axis=0)


def concat_offsets(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of ragged arrays joined one after the other, and each part's row shift.

    Parameters
    ----------
    parts : sequence of ndarray of int64
        The offsets of each part (each starting at 0).

    Returns
    -------
    offsets : ndarray of int64
        Offsets of the joined array (``sum(len(p) - 1) + 1`` entries).
    shifts : ndarray of int64, shape (len(parts),)
        First row of each part in the joined array (add it to row indices of that part).
    """
    ends = np.fromiter((p[-1] for p in parts), dtype=np.int64, count=len(parts))
    shifts = offsets_from_counts(ends)[:-1]
    joined = [np.zeros(1, dtype=np.int64)]
    joined += [np.asarray(p[1:], dtype=np.int64) + s for p, s in zip(parts, shifts, strict=True)]
    return np.concatenate(joined), shifts


def split(values: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """One view of ``values`` per group (``np.split`` at the inner offsets)."""
    return np.split(values, np.asarray(offsets)[1:-1])
