"""Crystal graphs as training data: the graph counterpart of :class:`._data.TensorData`.

:class:`GraphData` holds a whole dataset as one flat
:class:`~skatomsets.megnet.graph.GraphBatch` (built once per ``fit``) plus the encoded
targets. Each epoch it shuffles the graphs with ONE vectorised gather (:func:`take_graphs`)
and then cuts contiguous slices, handed to the network as
:class:`~skatomsets.megnet.graph.TorchGraphBatch` mini-batches; there is no Python loop over
structures anywhere on the training path.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from .. import _csr
from ..megnet.graph import GraphBatch, TorchGraphBatch
from ._data import _bounds

__all__ = ["EVAL_BATCH_SIZE", "GraphData", "GraphInput", "take_graphs"]

#: Graphs per evaluation batch (``GraphData.eval_batch_size``). Sets are evaluated 2048 rows
#: at a time (``TensorData.eval_batch_size``); a graph carries tens of bonds per site, and the
#: bond tensors of 2048 graphs would not fit a CPU cache.
EVAL_BATCH_SIZE = 256

#: A mini-batch of graphs as the network receives it (the estimators' name for it).
GraphInput = TorchGraphBatch


def take_graphs(g: GraphBatch, idx: np.ndarray) -> GraphBatch:
    """Graphs ``idx`` (any order, repeats allowed) as a new batch, in one vectorised gather.

    Parameters
    ----------
    g : GraphBatch
    idx : ndarray of int
        Graph indices.

    Returns
    -------
    GraphBatch
        Site, bond and species indices renumbered to the new batch.
    """
    idx = np.asarray(idx, dtype=np.int64)
    so, bo, eo = g.site_offsets, g.bond_offsets, g.species_offsets
    site_idx, site_off = _csr.gather(so, idx)
    bond_idx, bond_off = _csr.gather(bo, idx)
    spec_idx, spec_off = _csr.gather(eo, idx)
    shift = site_off[:-1] - so[idx]  # old global site -> new global site, per graph
    bond_shift = _csr.expand(shift, bond_off)
    return GraphBatch(
        species_z=g.species_z[spec_idx],
        species_site=g.species_site[spec_idx] + _csr.expand(shift, spec_off),
        species_frac=g.species_frac[spec_idx],
        site_weight=g.site_weight[site_idx],
        src=g.src[bond_idx] + bond_shift,
        dst=g.dst[bond_idx] + bond_shift,
        distance=g.distance[bond_idx],
        state=g.state[idx],
        site_offsets=site_off,
        bond_offsets=bond_off,
        species_offsets=spec_off,
    )


class GraphData:
    """A dataset of crystal graphs (and optional encoded targets), batched by slicing.

    Parameters
    ----------
    X : GraphBatch
        All graphs of the dataset, built once.
    y : ndarray or None
        Targets, already encoded (float32 scaled regression targets or int64 class codes).
    sample_weight : ndarray of shape (n_graphs,) or None
        Per-graph weights; when given, each batch's target is the pair ``(y, weights)``.
    """

    #: rows per evaluation batch, whatever the training batch size (one rule, read by
    #: ``_net._SetNet.get_iterator``)
    eval_batch_size: int = EVAL_BATCH_SIZE

    def __init__(
        self, X: GraphBatch, y: np.ndarray | None = None, sample_weight: np.ndarray | None = None
    ) -> None:
        if not isinstance(X, GraphBatch):
            raise TypeError(f"expected a GraphBatch, got {type(X).__name__}")
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self) -> int:
        return self.X.n_graphs

    def subset(self, idx: np.ndarray) -> GraphData:
        """The graphs ``idx`` as a new dataset."""
        w = self.sample_weight
        return GraphData(
            take_graphs(self.X, idx),
            None if self.y is None else self.y[idx],
            None if w is None else w[idx],
        )

    def batches(
        self, batch_size: int, rng: np.random.Generator | None = None
    ) -> Iterator[tuple[TorchGraphBatch, torch.Tensor | None]]:
        """Yield ``(TorchGraphBatch, y_or_None)``; shuffled once per call when ``rng`` is given.

        Without ``rng`` the graphs keep their order (the estimators evaluate with
        ``batch_size=eval_batch_size``). When shuffling, a trailing batch of one graph is
        merged into the one before it.
        """
        X, y, w = self.X, self.y, self.sample_weight
        if rng is not None and len(self) > 1:
            perm = rng.permutation(len(self))
            X = take_graphs(X, perm)
            y = None if y is None else y[perm]
            w = None if w is None else w[perm]
        y_t = None if y is None else torch.from_numpy(np.ascontiguousarray(y))
        w_t = None if w is None else torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
        for a, b in _bounds(len(self), batch_size, merge_single=rng is not None):
            t = None if y_t is None else (y_t[a:b] if w_t is None else (y_t[a:b], w_t[a:b]))
            yield X[a:b].to_torch(), t
