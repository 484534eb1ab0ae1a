"""The distinct-member-row training path (``TensorData`` vocabulary, ``AtomSetsModule`` mix).

Element-embedding sets repeat a few member rows; training batches then carry the distinct
rows, each member's code and each set's weight per distinct row, and the module runs ``phi``
once per distinct row. These tests pin that it is the same function (to float tolerance),
that it is used exactly where it pays and is allowed, and that nothing else changes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer, RaggedSets
from skatomsets.estimators import _data
from skatomsets.estimators._data import TensorData
from skatomsets.nn import AtomSetsModule

ELEMENTS = "Fe O Na Cl Si Li P Cr Ni C Ba Ti Al Mg Ca K Cu Zn Mn Co S N".split()


@pytest.fixture(scope="module")
def sets() -> RaggedSets:
    """96 random compositions of 2-5 of 22 elements (distinct sets, 22 distinct rows)."""
    rng = np.random.default_rng(0)
    formulas = []
    for _ in range(96):
        elements = rng.choice(ELEMENTS, rng.integers(2, 6), replace=False)
        formulas.append("".join(f"{e}{rng.integers(1, 9)}" for e in elements))
    return ElementEmbeddingFeaturizer("megnet16").fit_transform(formulas)


@pytest.fixture(scope="module")
def target(sets) -> np.ndarray:
    # a smooth function of the composition, so that a fit learns something
    return (sets.values[:, 0] * sets.weights).sum() + np.add.reduceat(
        sets.values[:, 1] * sets.weights, sets.offsets[:-1]
    )


def test_vocabulary_rebuilds_every_member_row(sets):
    table, codes = TensorData(sets).vocabulary()
    assert len(table) == len(ELEMENTS)
    np.testing.assert_array_equal(table[codes], sets.values)


def test_vocabulary_is_none_for_all_distinct_rows():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(5000, 8)).astype(np.float32)
    X = RaggedSets(values, np.arange(0, 5001, 5))
    data = TensorData(X)
    assert data.vocabulary() is None
    batch, _ = next(data.batches(16, rng=np.random.default_rng(0)))
    assert batch.table is None and batch.mix is None


def test_training_batches_carry_the_mix_and_evaluation_batches_do_not(sets):
    data = TensorData(sets)
    seen = 0
    for batch, _ in data.batches(16, rng=np.random.default_rng(1)):
        assert batch.mix.shape == (len(batch), len(batch.table))
        np.testing.assert_allclose(batch.mix.sum(1).numpy(), 1.0, rtol=1e-6)
        # every member row is a table row
        assert (batch.values[:, None, :] == batch.table[None]).all(-1).any(-1).all()
        # each set's weighted mean of its members is its mix times the table
        w = (
            batch.weights
            / torch.zeros(len(batch)).index_add_(0, batch.segment, batch.weights)[batch.segment]
        )
        mean = torch.zeros(len(batch), sets.n_features).index_add_(
            0, batch.segment, w[:, None] * batch.values
        )
        torch.testing.assert_close(batch.mix @ batch.table, mean, rtol=1e-5, atol=1e-6)
        seen += len(batch)
    assert seen == len(sets)
    batch, _ = next(data.batches(16))
    assert batch.table is None and batch.mix is None


def test_vocabulary_is_skipped_when_a_batch_has_fewer_members_than_twice_it(sets, monkeypatch):
    data = TensorData(sets)
    batch, _ = next(data.batches(1, rng=np.random.default_rng(0)))
    assert batch.table is None  # ~3.5 members per batch, 22 distinct rows: not worth it
    monkeypatch.setattr(_data, "USE_VOCABULARY", False)
    batch, _ = next(data.batches(64, rng=np.random.default_rng(0)))
    assert batch.table is None


@pytest.mark.parametrize("readout", ["mean", "set2set"])
@pytest.mark.parametrize("embedding_dim", [None, 8])
def test_module_gives_the_same_outputs_and_gradients_through_the_mix(sets, embedding_dim, readout):
    if embedding_dim:
        Z = np.repeat(np.arange(1, 8, dtype=np.float32), 3)[: sets.n_members]
        X = RaggedSets(np.resize(Z, sets.n_members)[:, None], sets.offsets, sets.weights)
    else:
        X = sets
    batch, _ = next(TensorData(X).batches(64, rng=np.random.default_rng(0)))
    assert batch.mix is not None
    torch.manual_seed(0)
    module = AtomSetsModule(X.n_features, embedding_dim=embedding_dim, readout=readout).train()
    plain = _data.SetBatch(batch.values, batch.weights, batch.segment, batch.offsets)
    torch.testing.assert_close(module(batch), module(plain), rtol=1e-5, atol=1e-5)
    # gradients in float64 (in float32 the rounding of sums that cancel through batch
    # normalisation differs by ~1e-3 of a gradient's scale; the mix itself is float32)
    module = module.double()
    as64 = {
        k: v.double() for k, v in vars(batch).items() if v is not None and v.is_floating_point()
    }
    batch64 = _data.SetBatch(**{**vars(batch), **as64})
    plain64 = _data.SetBatch(**{**vars(plain), **{k: as64[k] for k in ("values", "weights")}})
    params = list(module.parameters())
    # not .sum(): through batch normalisation its gradient upstream is 0 (pure rounding)
    grads_fast = torch.autograd.grad(module(batch64).square().sum(), params)
    grads_slow = torch.autograd.grad(module(plain64).square().sum(), params)
    for a, b in zip(grads_fast, grads_slow, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * float(b.abs().max()))


def test_dropout_in_training_ignores_the_mix(sets):
    batch, _ = next(TensorData(sets).batches(64, rng=np.random.default_rng(0)))
    plain = _data.SetBatch(batch.values, batch.weights, batch.segment, batch.offsets)
    module = AtomSetsModule(sets.n_features, dropout=0.2).train()
    torch.manual_seed(3)
    a = module(batch)
    torch.manual_seed(3)
    b = module(plain)
    assert torch.equal(a, b)  # the per-member path, same random numbers, same bits


def test_fit_follows_the_per_member_loss_curve(sets, target, monkeypatch):
    params = {
        "max_epochs": 8,
        "batch_size": 16,
        "n_ensemble": 1,
        "patience": None,
        "validation_fraction": None,
        "random_state": 0,
        "device": "cpu",
    }
    curves = {}
    for flag in (False, True):
        monkeypatch.setattr(_data, "USE_VOCABULARY", flag)
        reg = AtomSetsRegressor(**params).fit(sets, target)
        curves[flag] = np.array([row["train_loss"] for row in reg.history_[0]])
    assert len(curves[True]) == len(curves[False]) == 8
    assert curves[True][-1] < curves[True][0]  # it learned
    np.testing.assert_allclose(curves[True], curves[False], rtol=1e-3)


def test_batches_without_members_carry_the_same_mix_and_targets(sets):
    data = TensorData(sets, np.arange(len(sets), dtype=np.float32)[:, None])
    full = list(data.batches(16, rng=np.random.default_rng(5)))
    lean = list(data.batches(16, rng=np.random.default_rng(5), members=False))
    assert len(full) == len(lean)
    for (a, ya), (b, yb) in zip(full, lean, strict=True):
        assert b.values is None and b.weights is None and b.offsets is None
        assert len(a) == len(b)
        assert torch.equal(a.mix, b.mix) and torch.equal(ya, yb)
    # not used (the members are kept) when the table does not pay
    batch, _ = next(data.batches(1, rng=np.random.default_rng(0), members=False))
    assert batch.values is not None


def test_net_drops_the_members_only_for_a_module_that_trains_on_the_mix(sets, target, tiny):
    reg = AtomSetsRegressor(**{**tiny, "batch_size": 16}).fit(sets, target)
    net = reg.nets_[0]
    data = TensorData(sets, target.astype(np.float32)[:, None])
    net.module_.eval()  # the decision must not depend on the module's mode
    assert not net.get_iterator(data, training=True).members
    batch, _ = next(iter(net.get_iterator(data, training=True)))
    assert batch.values is None
    dropout = AtomSetsRegressor(**{**tiny, "batch_size": 16, "dropout": 0.1}).fit(sets, target)
    assert dropout.nets_[0].get_iterator(data, training=True).members
    set2set = AtomSetsRegressor(**{**tiny, "batch_size": 16, "readout": "set2set"})
    assert not set2set.fit(sets, target).nets_[0].get_iterator(data, training=True).members


def test_a_module_that_needs_members_says_so():
    module = AtomSetsModule(4, dropout=0.1).train()
    batch = _data.SetBatch(None, mix=torch.ones(2, 3) / 3, table=torch.zeros(3, 4))
    with pytest.raises(ValueError, match="needs the members"):
        module(batch)


def test_set2set_mix_ignores_rows_a_set_does_not_hold_even_with_huge_logits():
    """An absent row whose attention logit dwarfs the present ones must not zero the softmax."""
    torch.manual_seed(0)
    module = AtomSetsModule(4, readout="set2set", batch_norm=False).eval()
    table = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [3e3, 3e3, 3e3, 3e3]])
    mix = torch.tensor([[0.25, 0.75, 0.0]])
    fast = module(_data.SetBatch(None, mix=mix, table=table))
    members = _data.SetBatch(
        table[:2], torch.tensor([0.25, 0.75]), torch.tensor([0, 0]), torch.tensor([0, 2])
    )
    assert torch.isfinite(fast).all()
    torch.testing.assert_close(fast, module(members))


def test_vocabulary_is_skipped_when_the_whole_dataset_is_smaller_than_a_batch(sets):
    small = sets[:6]
    table, _ = TensorData(small).vocabulary()
    assert 2 * len(table) > small.n_members  # a batch of 64 holds all of them: no gain
    batch, _ = next(TensorData(small).batches(64, rng=np.random.default_rng(0)))
    assert batch.table is None
    # with the batch size the same sets would have had to reach, it is used
    doubled = RaggedSets.concat([small] * 4)
    batch, _ = next(TensorData(doubled).batches(64, rng=np.random.default_rng(0)))
    assert batch.table is not None


def test_batches_without_members_keep_the_extras_aligned(sets):
    extras = np.arange(2 * len(sets), dtype=np.float32).reshape(-1, 2)
    X = RaggedSets(sets.values, sets.offsets, sets.weights, extras=extras)
    data = TensorData(X, np.zeros((len(sets), 1), dtype=np.float32))
    full = list(data.batches(16, rng=np.random.default_rng(2)))
    lean = list(data.batches(16, rng=np.random.default_rng(2), members=False))
    assert lean[0][0].values is None
    for (a, _), (b, _) in zip(full, lean, strict=True):
        assert torch.equal(a.extras, b.extras)
