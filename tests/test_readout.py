"""Weighted readouts against hand computations; permutation and batch invariance."""

from __future__ import annotations

import numpy as np
import torch

from skatomsets.nn.readout import WeightedMean, WeightedSet2Set
from skatomsets.nn.segment import segment_softmax


def test_weighted_mean_by_hand():
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 5.0]])
    w = torch.tensor([1.0, 3.0, 2.0])
    seg = torch.tensor([0, 0, 1])
    out = WeightedMean(2)(x, w, seg, 2)
    torch.testing.assert_close(out, torch.tensor([[2.5, 5.0], [5.0, 5.0]]))


def test_weighted_softmax_by_hand():
    e = torch.tensor([0.0, float(np.log(2.0)), 1.0])
    w = torch.tensor([1.0, 0.5, 7.0])
    a = segment_softmax(e, torch.tensor([0, 0, 1]), 2, weights=w)
    # set 0: 1*1 and 0.5*2 -> equal attention; set 1 alone -> 1
    torch.testing.assert_close(a, torch.tensor([0.5, 0.5, 1.0]))


def _set2set_reference(module: WeightedSet2Set, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Eqs. 5-9 of the paper for ONE set, written out with numpy and the module's LSTM weights."""
    d = x.shape[1]
    lstm = module.lstm
    W_ih, W_hh = lstm.weight_ih.detach().numpy(), lstm.weight_hh.detach().numpy()
    b = (lstm.bias_ih + lstm.bias_hh).detach().numpy()
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h, c, q_star = np.zeros(d), np.zeros(d), np.zeros(2 * d)
    for _ in range(3):
        gates = W_ih @ q_star + W_hh @ h + b
        i, f, g, o = np.split(gates, 4)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        e = x @ h
        a = w * np.exp(e) / np.sum(w * np.exp(e))
        r = a @ x
        q_star = np.concatenate([h, r])
    return q_star


def test_weighted_set2set_matches_the_equations():
    torch.manual_seed(0)
    module = WeightedSet2Set(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    w = np.array([0.2, 0.3, 0.5, 0.4, 0.6], dtype=np.float32)
    seg = torch.tensor([0, 0, 0, 1, 1])
    out = module(torch.from_numpy(x), torch.from_numpy(w), seg, 2).detach().numpy()
    np.testing.assert_allclose(out[0], _set2set_reference(module, x[:3], w[:3]), rtol=1e-5)
    np.testing.assert_allclose(out[1], _set2set_reference(module, x[3:], w[3:]), rtol=1e-5)


def test_set2set_weights_enter_the_attention():
    torch.manual_seed(0)
    module = WeightedSet2Set(2)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    seg = torch.tensor([0, 0])
    a = module(x, torch.tensor([0.9, 0.1]), seg, 1)
    b = module(x, torch.tensor([0.1, 0.9]), seg, 1)
    assert not torch.allclose(a, b)
    # duplicating a member with half the weight each is the same set
    c = module(
        torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
        torch.tensor([0.45, 0.45, 0.1]),
        torch.tensor([0, 0, 0]),
        1,
    )
    torch.testing.assert_close(a, c)


def test_readouts_are_permutation_and_batch_invariant():
    torch.manual_seed(0)
    x = torch.randn(7, 4)
    w = torch.rand(7) + 0.1
    seg = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    perm = torch.tensor([5, 2, 0, 6, 1, 4, 3])
    for module in (WeightedMean(4), WeightedSet2Set(4)):
        full = module(x, w, seg, 2)
        permuted = module(x[perm], w[perm], seg[perm], 2)
        torch.testing.assert_close(full, permuted)
        alone = module(x[3:], w[3:], torch.zeros(4, dtype=torch.long), 1)
        torch.testing.assert_close(full[1:], alone)


def test_set2set_shortcut_gives_the_lstm_cells_gradients():
    """The readout skips the first step's zero products and merges W_ih[:, :d] with W_hh;
    its outputs and parameter gradients equal the plain nn.LSTMCell recurrence."""
    torch.manual_seed(0)
    module = WeightedSet2Set(6).double()
    x = torch.randn(30, 6, dtype=torch.float64)
    w = torch.rand(30, dtype=torch.float64) + 0.1
    seg = torch.sort(torch.randint(0, 5, (30,))).values
    plain_h = plain_c = x.new_zeros((5, 6))
    q_star = x.new_zeros((5, 12))
    for _ in range(3):
        plain_h, plain_c = module.lstm(q_star, (plain_h, plain_c))
        a = segment_softmax((x * plain_h[seg]).sum(-1), seg, 5, w)
        r = torch.zeros(5, 6, dtype=torch.float64).index_add_(0, seg, a[:, None] * x)
        q_star = torch.cat([plain_h, r], dim=-1)
    fast = module(x, w, seg, 5)
    torch.testing.assert_close(fast, q_star, rtol=1e-12, atol=1e-12)
    params = list(module.parameters())
    for g_fast, g_plain in zip(
        torch.autograd.grad(fast.square().sum(), params),
        torch.autograd.grad(q_star.square().sum(), params),
        strict=True,
    ):
        torch.testing.assert_close(g_fast, g_plain, rtol=1e-10, atol=1e-12)
