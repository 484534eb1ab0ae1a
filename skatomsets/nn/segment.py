"""Segment operations on flat batches: the one place where ragged rows are reduced.

Rows of ``x`` belong to segments (sets, graphs, sites) given by an index array; these
functions reduce them with ``index_add_`` / ``scatter_reduce`` in one call each, without a
Python loop over segments. Used by the set readouts and by the MEGNet network alike.
"""

from __future__ import annotations

import torch

__all__ = ["segment_mean", "segment_softmax", "segment_sum"]


def segment_sum(x: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    """Sum the rows of ``x`` into ``n`` segments given by ``index``."""
    out = x.new_zeros((n, *x.shape[1:]))
    return out.index_add_(0, index, x)


def segment_mean(x: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    """Mean of the rows of ``x`` in each of ``n`` segments (0 for an empty segment)."""
    total = segment_sum(x, index, n)
    count = torch.bincount(index, minlength=n).clamp_(min=1).to(x.dtype)
    return total / count.unsqueeze(-1)


def segment_softmax(
    logits: torch.Tensor,
    index: torch.Tensor,
    n: int,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Softmax of ``logits`` (shape (m,)) within each segment, optionally weighted.

    With weights: ``w_i exp(e_i) / sum_j w_j exp(e_j)`` (AtomSets eq. 7). Numerically stable
    (the segment maximum is subtracted first).
    """
    seg_max = logits.new_full((n,), float("-inf")).scatter_reduce(
        0, index, logits, reduce="amax", include_self=True
    )
    z = torch.exp(logits - seg_max[index])
    if weights is not None:
        z = weights * z
    denom = segment_sum(z, index, n)
    return z / denom[index].clamp_min(torch.finfo(z.dtype).tiny)
