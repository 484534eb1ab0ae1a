"""Training data as tensors, and fast batching (no per-sample Python loop).

A :class:`SetBatch` is what the torch modules receive: one flat mini-batch of weighted sets
(or of fixed-length rows). :class:`TensorData` holds a whole dataset in that layout and
cuts it into batches by slicing: once per epoch the order is shuffled with one vectorised
gather, after which every batch is a contiguous view.

Distinct member rows (the training fast path). Sets whose member features come from a small
vocabulary (element embeddings: V0, megnet16, or the atomic numbers of a trainable
embedding) repeat the same few rows over and over: 84 distinct rows among the 319,252
members of mp_e_form's fold-0 training rows. For training batches,
:meth:`TensorData.batches` then also hands the module that vocabulary (``SetBatch.table``)
and each set's normalised weight per vocabulary row (``mix``, dense, ``(b, n_distinct)``,
built once per dataset), so that a set module can run its per-member MLP once per distinct
row instead of once per member and take the weighted mean as one matrix product
(``mix @ phi(table)``). It is the same function (summed in a different order: equal to
float tolerance), used only when it is cheaper: fewer distinct rows than half the members
of an average batch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter

import numpy as np
import torch

from .. import _csr
from ..sets import RaggedSets

__all__ = [
    "MAX_MIX_ENTRIES",
    "MAX_VOCABULARY",
    "USE_VOCABULARY",
    "BatchIterator",
    "SetBatch",
    "TensorData",
]


@dataclass
class SetBatch:
    """One mini-batch handed to a module's ``forward``.

    Attributes
    ----------
    values : Tensor (m, d)
        Member features (set models) or rows (MLP models, then ``m`` = batch size).
    weights, segment, offsets : Tensor or None
        Member weights, owning-set index within the batch, and set offsets (set models only).
    extras : Tensor (b, k) or None
        Extra per-set inputs, already standardised (set models with extra inputs only).
    table, mix : Tensor or None
        Training batches of sets with few distinct member rows (see the module docstring):
        the distinct rows ``(u, d)`` (the whole training set's, the same tensor in every
        batch) and each set's summed normalised weight per distinct row ``(b, u)`` (rows
        sum to 1). ``values`` holds the members too, unless the batches were made with
        ``members=False`` (then ``values``, ``weights``, ``segment`` and ``offsets`` are
        None).
    """

    values: torch.Tensor | None
    weights: torch.Tensor | None = None
    segment: torch.Tensor | None = None
    offsets: torch.Tensor | None = None
    extras: torch.Tensor | None = None
    table: torch.Tensor | None = None
    mix: torch.Tensor | None = None

    def __len__(self) -> int:
        if self.offsets is not None:
            return self.offsets.shape[0] - 1
        rows = self.values if self.values is not None else self.mix
        return 0 if rows is None else rows.shape[0]

    def _tensors(self) -> tuple[torch.Tensor | None, ...]:
        """The fields in declaration order (what the constructor takes positionally)."""
        return _setbatch_fields(self)

    def to(self, device: str | torch.device) -> SetBatch:
        """Move every tensor to ``device`` (non-blocking where possible); self if already there."""
        dev = torch.device(device)
        tensors = self._tensors()
        if all(t is None or t.device == dev for t in tensors):
            return self
        return SetBatch(*(None if t is None else t.to(device, non_blocking=True) for t in tensors))

    def to_float(self, dtype: torch.dtype) -> SetBatch:
        """The same batch with every floating-point tensor cast to ``dtype`` (indices kept)."""
        return SetBatch(
            *(
                t.to(dtype) if t is not None and t.is_floating_point() else t
                for t in self._tensors()
            )
        )


#: ``SetBatch``'s fields as one getter, built once (``SetBatch.to`` runs on every training step).
_setbatch_fields = attrgetter(*(f.name for f in fields(SetBatch)))


class TensorData:
    """A dataset (inputs and optional targets) held as tensors, cut into batches by slicing.

    Parameters
    ----------
    X : RaggedSets or ndarray of shape (n_samples, n_features)
    y : ndarray or None
        Targets, already encoded (float32 scaled regression targets or int64 class codes).
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights; when given, each batch's target is the pair ``(y, weights)``.
    """

    #: rows per evaluation batch, whatever the training batch size (set rows are small; one
    #: rule, read by ``_net._SetNet.get_iterator``)
    eval_batch_size: int = 2048

    def __init__(
        self,
        X: RaggedSets | np.ndarray,
        y: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> None:
        if isinstance(X, RaggedSets) and not (
            X.values.flags.writeable
            and X.weights.flags.writeable
            and (X.extras is None or X.extras.flags.writeable)
        ):
            X = RaggedSets._trusted(
                X.values.copy(),
                X.offsets.copy(),
                X.weights.copy(),
                X.feature_names,
                None if X.extras is None else X.extras.copy(),
                X.extra_names,
            )
        elif isinstance(X, np.ndarray) and not X.flags.writeable:
            X = X.copy()
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self._vocab: tuple[np.ndarray, np.ndarray] | bool | None = False  # not computed yet
        self._mix: tuple[torch.Tensor, torch.Tensor] | None = None

    def __len__(self) -> int:
        return len(self.X)

    def subset(self, idx: np.ndarray) -> TensorData:
        """The samples ``idx`` as a new dataset."""
        w = self.sample_weight
        return TensorData(
            self.X[idx], None if self.y is None else self.y[idx], None if w is None else w[idx]
        )

    def vocabulary(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The distinct member rows and each member's index into them, or None (computed once).

        None when the inputs are not sets or have more than :data:`MAX_VOCABULARY` distinct
        member rows (decided on a sample first, so site features with all-distinct rows
        cost little).
        """
        if self._vocab is False:
            self._vocab = _vocabulary(self.X) if isinstance(self.X, RaggedSets) else None
        return self._vocab  # type: ignore[return-value]

    def batches(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        device: str | torch.device | None = None,
        targets_to_device: bool = False,
        members: bool = True,
    ):
        """Yield ``(SetBatch, target)``; shuffled once per call when ``rng`` is given.

        ``target`` is the y tensor slice, None without targets, or ``(y, sample_weight)``
        when the dataset has sample weights. When shuffling (training), a last batch of a
        single sample is merged into the one before it, so that batch normalisation always
        sees at least two samples. With a ``device`` (a GPU), the epoch's inputs (and the
        targets with ``targets_to_device``) are copied there once, and every batch is a view
        of them: one host-to-device copy per epoch instead of several per batch.

        ``members=False`` is for a module that trains on ``table`` / ``mix`` alone (see
        :class:`SetBatch`): when those are given, the members are neither shuffled nor put
        in the batches (the epoch's largest gather saved).
        """
        X, y, w = self.X, self.y, self.sample_weight
        mixed = self._table_and_mix(batch_size) if rng is not None else None
        no_members = mixed is not None and not members
        extras = X.extras if isinstance(X, RaggedSets) else None
        if rng is not None and len(X) > 1:
            perm = rng.permutation(len(X))
            if mixed is not None:
                mixed = (mixed[0], mixed[1].index_select(0, torch.from_numpy(perm)))
            if no_members:  # only the per-set arrays follow the shuffle
                extras = None if extras is None else extras[perm]
            else:
                X = X[perm]
                extras = X.extras if isinstance(X, RaggedSets) else None
            y = None if y is None else y[perm]
            w = None if w is None else w[perm]
        y_t = None if y is None else torch.from_numpy(np.ascontiguousarray(y))
        w_t = None if w is None else torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
        if device is not None and torch.device(device).type == "cpu":
            device = None

        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return t if t is None or device is None else t.to(device, non_blocking=True)

        if targets_to_device:
            y_t, w_t = move(y_t), move(w_t)

        def target(a: int, b: int):
            if y_t is None:
                return None
            return y_t[a:b] if w_t is None else (y_t[a:b], w_t[a:b])

        n = len(X)
        bounds = _bounds(n, batch_size, merge_single=rng is not None)
        extras_t = None if extras is None else move(torch.from_numpy(extras))
        if no_members and mixed is not None:
            table, mix = move(mixed[0]), move(mixed[1])
            for a, b in bounds:
                batch = SetBatch(
                    None,
                    extras=None if extras_t is None else extras_t[a:b],
                    table=table,
                    mix=mix[a:b],
                )
                yield batch, target(a, b)
        elif isinstance(X, RaggedSets):
            values = move(torch.from_numpy(X.values))
            weights = move(torch.from_numpy(X.weights))
            offsets = X.offsets
            # per-batch segment ids and offsets for the whole epoch in two vectorised
            # passes; each batch is then a view (the same values as computing them per batch)
            segment, batch_offsets = _batch_local_index(offsets, bounds)
            segment_t = move(torch.from_numpy(segment))
            batch_offsets_t = move(torch.from_numpy(batch_offsets))
            table, mix = (None, None) if mixed is None else (move(mixed[0]), move(mixed[1]))
            for i, (a, b) in enumerate(bounds):
                lo, hi = int(offsets[a]), int(offsets[b])
                batch = SetBatch(
                    values[lo:hi],
                    weights[lo:hi],
                    segment_t[lo:hi],
                    batch_offsets_t[a + i : b + i + 1],
                    None if extras_t is None else extras_t[a:b],
                    table,
                    None if mix is None else mix[a:b],
                )
                yield batch, target(a, b)
        else:
            rows = move(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
            for a, b in bounds:
                yield SetBatch(rows[a:b]), target(a, b)

    def _table_and_mix(
        self, batch_size: int, min_rows: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(table, mix)`` of the whole dataset when they pay (module docstring), else None.

        They pay with fewer distinct rows than half an average batch's members, or (for
        the stacked ensembles of ``_ensemble``, where per-operation overhead dominates and
        the member path needs a gather and padding per batch) with at most ``min_rows``
        distinct rows; ``mix`` is built once and kept (at most :data:`MAX_MIX_ENTRIES`
        entries).
        """
        if not USE_VOCABULARY or not isinstance(self.X, RaggedSets) or len(self.X) == 0:
            return None
        # the members of an average batch (the whole dataset when it is smaller than one)
        members_per_batch = min(batch_size, len(self.X)) * self.X.n_members / len(self.X)
        if members_per_batch < 2 * 2 and not min_rows:  # little to gain on tiny sets
            return None
        vocab = self.vocabulary()
        if vocab is None or 2 * len(vocab[0]) > max(members_per_batch, 2 * min_rows):
            return None
        if len(self.X) * len(vocab[0]) > MAX_MIX_ENTRIES:
            return None
        if self._mix is None:
            table, codes = vocab
            mix = _mix(self.X, codes, len(table))
            self._mix = (torch.from_numpy(table), torch.from_numpy(mix))
        return self._mix


#: Use the distinct-member-row path for training batches when it pays (module docstring).
USE_VOCABULARY = True
#: At most this many distinct member rows are looked for.
MAX_VOCABULARY = 4096
#: At most this many entries (sets x distinct rows) in an epoch's dense ``mix`` (1 GiB float32).
MAX_MIX_ENTRIES = 2**28


def _vocabulary(X: RaggedSets) -> tuple[np.ndarray, np.ndarray] | None:
    """``(table, codes)`` with ``X.values == table[codes]``, or None if too many rows differ."""
    values = np.ascontiguousarray(X.values)
    m = len(values)
    if m == 0 or values.ndim != 2:
        return None
    keys = values.view(np.dtype((np.void, values.dtype.itemsize * values.shape[1]))).ravel()
    sample = keys[:: max(1, m // 20000)]
    if len(np.unique(sample)) > MAX_VOCABULARY:
        return None
    distinct, first, codes = np.unique(keys, return_index=True, return_inverse=True)
    if len(distinct) > MAX_VOCABULARY:
        return None
    return np.ascontiguousarray(values[first]), codes.astype(np.int64).ravel()


def _mix(X: RaggedSets, codes: np.ndarray, n_distinct: int) -> np.ndarray:
    """``(n_sets, n_distinct)`` float32: each set's normalised weight on each distinct row."""
    n = len(X)
    seg = _csr.segment_ids(X.offsets)
    w = X.weights.astype(np.float64)
    total = np.bincount(seg, weights=w, minlength=n)
    flat = np.bincount(seg * n_distinct + codes, weights=w / total[seg], minlength=n * n_distinct)
    return flat.astype(np.float32).reshape(n, n_distinct)


def _batch_local_index(
    offsets: np.ndarray, bounds: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Each member's set index within its batch, and every batch's offsets from 0.

    Returns ``segment`` (one int64 per member: its set's index minus the batch's first set)
    and ``batch_offsets``, where batch ``i`` covering sets ``a:b`` owns entries
    ``a + i : b + i + 1`` (``offsets[a : b + 1] - offsets[a]``).
    """
    starts = np.fromiter((a for a, _ in bounds), dtype=np.int64, count=len(bounds))
    ends = np.fromiter((b for _, b in bounds), dtype=np.int64, count=len(bounds))
    sizes = ends - starts
    lengths = np.diff(offsets)
    set_start = np.repeat(starts, sizes)  # per set: first set of its batch
    segment = np.repeat(np.arange(len(lengths), dtype=np.int64) - set_start, lengths)
    owner = np.repeat(np.arange(len(bounds), dtype=np.int64), sizes + 1)
    pos = np.arange(len(owner), dtype=np.int64) - owner  # a..b for each batch
    batch_offsets = offsets[pos].astype(np.int64) - offsets[starts[owner]]
    return segment, batch_offsets


def _bounds(n: int, batch_size: int, merge_single: bool) -> list[tuple[int, int]]:
    """Start and end of each batch; optionally fold a trailing 1-sample batch into the last."""
    bounds = [(a, min(a + batch_size, n)) for a in range(0, n, batch_size)]
    if merge_single and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


@dataclass(eq=False)
class BatchIterator:
    """Re-iterable view of a :class:`TensorData` as mini-batches (what skorch loops over)."""

    data: TensorData
    batch_size: int
    rng: np.random.Generator | None = None
    device: str | torch.device | None = None
    targets_to_device: bool = False
    members: bool = True

    def __iter__(self):
        kwargs = {} if self.members else {"members": False}
        if self.device is None:
            return self.data.batches(self.batch_size, self.rng, **kwargs)
        return self.data.batches(
            self.batch_size,
            self.rng,
            device=self.device,
            targets_to_device=self.targets_to_device,
            **kwargs,
        )

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)
