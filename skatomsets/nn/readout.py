"""Weighted set readouts on flat batches (segment operations, no loop over sets).

Inputs of every readout: ``x`` (m, d) member features of a whole batch, ``weights`` (m,)
member weights, ``segment`` (m,) index of the owning set and ``n_sets`` the batch size.
"""

from __future__ import annotations

import torch
from torch import nn

from .segment import segment_softmax, segment_sum

__all__ = ["WeightedMean", "WeightedSet2Set"]


class WeightedMean(nn.Module):
    """Weighted mean readout (AtomSets eq. 4): ``sum_i w_i x_i / sum_i w_i``.

    Parameters
    ----------
    in_features : int
        Member feature width ``d``; the output width is also ``d``.
    """

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = in_features

    def forward(
        self, x: torch.Tensor, weights: torch.Tensor, segment: torch.Tensor, n_sets: int
    ) -> torch.Tensor:
        total = segment_sum(weights[:, None] * x, segment, n_sets)
        norm = segment_sum(weights, segment, n_sets)
        return total / norm[:, None]


class WeightedSet2Set(nn.Module):
    """Weighted Set2Set readout (AtomSets eqs. 5-9).

    For ``t = 1..steps``::

        q_t      = LSTM(q*_{t-1})
        e_{i,t}  = x_i . q_t
        a_{i,t}  = w_i exp(e_{i,t}) / sum_j w_j exp(e_{j,t})      (weights enter here, eq. 7)
        r_t      = sum_i a_{i,t} x_i
        q*_t     = [q_t, r_t]

    starting from ``q*_0 = 0``; the output is ``q*_T`` of width ``2 d``.

    Parameters
    ----------
    in_features : int
        Member feature width ``d``.
    steps : int, default=3
        Number of attention steps ``T`` (the paper uses 3).
    """

    def __init__(self, in_features: int, steps: int = 3) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = 2 * in_features
        self.steps = steps
        self.lstm = nn.LSTMCell(2 * in_features, in_features)

    def forward(
        self, x: torch.Tensor, weights: torch.Tensor, segment: torch.Tensor, n_sets: int
    ) -> torch.Tensor:
        d = self.in_features
        h = x.new_zeros((n_sets, d))
        c = x.new_zeros((n_sets, d))
        q_star = x.new_zeros((n_sets, 2 * d))
        for _ in range(self.steps):
            h, c = self.lstm(q_star, (h, c))
            e = (x * h[segment]).sum(dim=-1)
            a = segment_softmax(e, segment, n_sets, weights)
            r = segment_sum(a[:, None] * x, segment, n_sets)
            q_star = torch.cat([h, r], dim=-1)
        return q_star
