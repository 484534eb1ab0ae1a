"""Weighted set readouts on flat batches (segment operations, no loop over sets).

Inputs of every readout: ``x`` (m, d) member features of a whole batch, ``weights`` (m,)
member weights, ``segment`` (m,) index of the owning set and ``n_sets`` the batch size.

Every readout also reads sets given as a mix of distinct rows (``from_mix``): ``x`` (u, d)
the features of the ``u`` distinct member rows and ``mix`` (b, u) each set's normalised
weight on each of them (``estimators._data``, the training fast path for element sets).
Members with equal rows are then one member with their summed weight, which both readouts
are invariant to, so ``from_mix`` is the same function as ``forward``, computed with dense
matrix products instead of gathers and scatters over members.
"""

from __future__ import annotations

from collections.abc import Callable

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

    def from_mix(self, x: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        """The readout of sets given as ``mix`` (b, u) over distinct rows ``x`` (u, d)."""
        return torch.mm(mix, x)


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
        def attend(q: torch.Tensor) -> torch.Tensor:
            e = (x * q[segment]).sum(dim=-1)
            a = segment_softmax(e, segment, n_sets, weights)
            return segment_sum(a[:, None] * x, segment, n_sets)

        return self._attend_steps(attend, n_sets)

    def from_mix(self, x: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        """The readout of sets given as ``mix`` (b, u) over distinct rows ``x`` (u, d).

        Each step is two dense products, ``(b, d) @ (d, u)`` for the attention logits and
        ``(b, u) @ (u, d)`` for the attended sum; rows a set does not hold (weight 0) are
        masked out of the softmax maximum, so they cannot underflow the ones it holds.
        """
        absent = mix <= 0

        def attend(q: torch.Tensor) -> torch.Tensor:
            e = torch.mm(q, x.t()).masked_fill(absent, float("-inf"))
            z = mix * torch.exp(e - e.amax(dim=1, keepdim=True))
            a = z / z.sum(dim=1, keepdim=True).clamp_min(torch.finfo(z.dtype).tiny)
            return torch.mm(a, x)

        return self._attend_steps(attend, mix.shape[0])

    def _attend_steps(
        self, attend: Callable[[torch.Tensor], torch.Tensor], n_sets: int
    ) -> torch.Tensor:
        """``q*_T`` from ``attend`` (query ``q_t`` (b, d) -> attended sum ``r_t`` (b, d)).

        The LSTM cell of ``self.lstm`` (its parameters, gate order i, f, g, o), computed
        with two exact shortcuts that take 2.25x fewer multiplications than calling it:
        the first step starts from ``q*_0 = 0`` and a zero state, so its gates are the
        biases alone; later steps feed ``q*_{t-1} = [q_{t-1}, r_{t-1}]`` with the hidden
        state ``q_{t-1}``, so ``W_ih [q, r] + W_hh q = (W_ih[:, :d] + W_hh) q + W_ih[:, d:] r``.
        """
        d, lstm = self.in_features, self.lstm
        bias = lstm.bias_ih + lstm.bias_hh
        w_q = (lstm.weight_ih[:, :d] + lstm.weight_hh).t()
        w_r = lstm.weight_ih[:, d:].t()
        return set2set_steps(bias, w_q, w_r, bias.expand(n_sets, 4 * d), self.steps, attend)


def set2set_steps(
    bias: torch.Tensor,
    w_q: torch.Tensor,
    w_r: torch.Tensor,
    first: torch.Tensor,
    steps: int,
    attend: Callable[[torch.Tensor], torch.Tensor],
    addmm: Callable[..., torch.Tensor] = torch.addmm,
) -> torch.Tensor:
    """The LSTM steps of :meth:`WeightedSet2Set._attend_steps`: ``q*_T``, gates on the last dim.

    ``first`` is the gates of step 1 (``bias`` broadcast to the batch); later steps' gates
    are ``addmm(addmm(bias, q, w_q), r, w_r)``. With ``torch.baddbmm`` and a leading
    member dimension on every tensor, this is the stacked ensemble's readout
    (:mod:`skatomsets.estimators._ensemble`).
    """
    gates = first
    q = r = c = None
    for step in range(steps):
        if step:
            gates = addmm(addmm(bias, q, w_q), r, w_r)
        i, f, g, o = gates.chunk(4, dim=-1)
        c_new = torch.sigmoid(i) * torch.tanh(g)
        c = c_new if c is None else torch.sigmoid(f) * c + c_new
        q = torch.sigmoid(o) * torch.tanh(c)
        r = attend(q)
    return torch.cat([q, r], dim=-1)
