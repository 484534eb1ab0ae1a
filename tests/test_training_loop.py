"""The lean training epoch (``estimators/_fastloop.py``) gives bitwise the results of skorch's loop.

The lean loop trains the networks fitted one after another (the MEGNet estimators, and the
set and MLP estimators with ``_ensemble.VECTORISED = False``), so every test here runs the
estimators on that path.

Each case fits the same estimator twice, once with the lean loop and once with skorch's own
``NeuralNet.run_single_epoch`` (``LEAN_LOOP = False``), and compares the histories (every
batch's loss and size, every epoch's scores), the weights and the predictions exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
)
from skatomsets.datasets import load_matbench_csv
from skatomsets.estimators import _ensemble, _fastloop
from skatomsets.estimators._base import _SetNet
from skatomsets.estimators._data import TensorData
from skatomsets.estimators._fastloop import FusedAdamStep
from skatomsets.nn import AtomSetsModule


@pytest.fixture(autouse=True)
def _one_network_after_another(monkeypatch):
    monkeypatch.setattr(_ensemble, "VECTORISED", False)


@pytest.fixture(scope="module")
def steels(shared_data):
    df = load_matbench_csv(shared_data / "matbench" / "matbench_steels.csv.gz").iloc[:120]
    sets = ElementEmbeddingFeaturizer("megnet16").fit_transform(df["composition"])
    return sets, df["target"].to_numpy()


def _history_rows(est):
    rows = []
    for hist in est.history_:
        for epoch in hist:
            row = {k: v for k, v in epoch.items() if k not in ("dur", "batches")}
            row["batches"] = [dict(b) for b in epoch["batches"]]
            rows.append(row)
    return rows


def _fit_both(monkeypatch, make, X, y, **fit_kw):
    out = []
    for lean in (False, True):
        monkeypatch.setattr(_fastloop, "LEAN_LOOP", lean)
        est = make().fit(X, y, **fit_kw)
        out.append(est)
    return out


def _assert_identical(ref, new, X):
    assert _history_rows(ref) == _history_rows(new)
    for a, b in zip(ref.nets_, new.nets_, strict=True):
        sa, sb = a.module_.state_dict(), b.module_.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    pa, pb = ref._forward_all(X), new._forward_all(X)
    assert np.array_equal(pa, pb)


def test_lean_loop_is_used(steels, monkeypatch):
    calls = []
    original = _fastloop.LeanLoopMixin._lean_train_epoch

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_fastloop.LeanLoopMixin, "_lean_train_epoch", spy)
    sets, y = steels
    AtomSetsRegressor(max_epochs=3, n_ensemble=1, random_state=0, device="cpu").fit(sets, y)
    assert len(calls) == 3


@pytest.mark.parametrize(
    "params",
    [
        # the small-data defaults (batch 16, validation split, early stopping, ensemble)
        {"max_epochs": 12, "patience": 4, "n_ensemble": 2},
        # cosine schedule (an LRScheduler callback with on_batch_end), weight decay, set2set
        {
            "max_epochs": 6,
            "lr_schedule": "cosine",
            "weight_decay": 1e-4,
            "readout": "set2set",
            "batch_size": 32,
            "n_ensemble": 1,
        },
        # no validation split, dropout (random numbers drawn during the epoch)
        {"max_epochs": 5, "validation_fraction": None, "dropout": 0.1, "n_ensemble": 1},
    ],
)
def test_regressor_bitwise(steels, monkeypatch, params):
    sets, y = steels
    ref, new = _fit_both(
        monkeypatch,
        lambda: AtomSetsRegressor(random_state=0, device="cpu", **params),
        sets,
        y,
    )
    _assert_identical(ref, new, sets)


def test_regressor_sample_weight_bitwise(steels, monkeypatch):
    sets, y = steels
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    ref, new = _fit_both(
        monkeypatch,
        lambda: AtomSetsRegressor(max_epochs=5, n_ensemble=1, random_state=0, device="cpu"),
        sets,
        y,
        sample_weight=w,
    )
    _assert_identical(ref, new, sets)


def test_classifier_bitwise(steels, monkeypatch):
    sets, y = steels
    labels = (y > np.median(y)).astype(int)
    ref, new = _fit_both(
        monkeypatch,
        lambda: AtomSetsClassifier(max_epochs=6, n_ensemble=1, random_state=1, device="cpu"),
        sets,
        labels,
    )
    _assert_identical(ref, new, sets)


def test_mlp_bitwise(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 7)).astype(np.float32)
    y = X @ rng.standard_normal(7) + 0.1 * rng.standard_normal(150)
    ref, new = _fit_both(
        monkeypatch,
        lambda: AtomSetsMLPRegressor(
            max_epochs=8, n_ensemble=1, batch_size=16, random_state=0, device="cpu"
        ),
        X,
        y,
    )
    _assert_identical(ref, new, X)


class _BatchHooks(Callback):
    """A callback using every per-batch hook (the lean loop must call them like skorch)."""

    def initialize(self):
        self.events = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        self.events.append(("begin", training, len(batch[0])))

    def on_grad_computed(self, net, named_parameters, batch=None, training=None, **kwargs):
        norm = sum(float(p.grad.norm()) for _, p in named_parameters)
        self.events.append(("grad", training, norm))

    def on_batch_end(self, net, batch=None, training=None, loss=None, y_pred=None, **kwargs):
        self.events.append(("end", training, float(loss.detach()), tuple(y_pred.shape)))
        # the batch's history row is complete when on_batch_end runs
        if training:
            row = net.history[-1, "batches", -1]
            self.events.append(("row", row["train_loss"], row["train_batch_size"]))


def _net_with_callback(sets, y, lean, monkeypatch, **kw):
    monkeypatch.setattr(_fastloop, "LEAN_LOOP", lean)
    data = TensorData(sets, ((y - y.mean()) / y.std()).astype(np.float32)[:, None])
    cb = _BatchHooks()
    net = _SetNet(
        module=AtomSetsModule,
        module__n_features=sets.n_features,
        criterion=torch.nn.L1Loss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=3,
        batch_size=16,
        train_split=None,
        callbacks=[("hooks", cb)],
        device="cpu",
        verbose=0,
        **kw,
    )
    net.shuffle_rng_ = np.random.default_rng(0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net.initialize()
        net.partial_fit(data)
    return net, cb


@pytest.mark.parametrize("optimizer_kw", [{"optimizer__fused": True}, {"optimizer__amsgrad": True}])
def test_callbacks_and_fallbacks_bitwise(steels, monkeypatch, optimizer_kw):
    sets, y = steels
    ref, cb_ref = _net_with_callback(sets, y, False, monkeypatch, **optimizer_kw)
    new, cb_new = _net_with_callback(sets, y, True, monkeypatch, **optimizer_kw)
    assert cb_ref.events == cb_new.events
    assert len(cb_new.events) > 0
    assert [e["train_loss"] for e in ref.history] == [e["train_loss"] for e in new.history]
    for a, b in zip(ref.module_.parameters(), new.module_.parameters(), strict=True):
        assert torch.equal(a, b)


def test_fused_adam_step_applies_only_to_plain_fused_adam():
    p = torch.nn.Parameter(torch.ones(3))

    def stepped(opt):
        p.grad = torch.ones(3)
        opt.step()
        return FusedAdamStep(opt).ok

    assert stepped(torch.optim.Adam([p], fused=True))
    assert not stepped(torch.optim.Adam([p], fused=True, amsgrad=True))
    assert not stepped(torch.optim.Adam([p]))  # foreach / for-loop Adam: left to torch
    assert not stepped(torch.optim.AdamW([p], fused=True))
    assert not stepped(torch.optim.SGD([p], lr=0.1))
    assert not FusedAdamStep(torch.optim.Adam([torch.nn.Parameter(torch.ones(2))], fused=True)).ok
    opt = torch.optim.Adam([p], fused=True)
    opt.register_step_post_hook(lambda *a: None)
    assert not stepped(opt)


def test_module_layer_shortcut_keeps_hooks_and_bits(steels):
    """The functional layer calls give the module calls' bits, and hooks still fire."""
    from skatomsets.nn import modules

    sets, _ = steels
    data = TensorData(sets)
    batch, _ = next(data.batches(64))
    torch.manual_seed(0)
    module = AtomSetsModule(sets.n_features, dropout=0.0).train()
    fast = module(batch)
    seen = []
    handle = module.phi[0].register_forward_hook(lambda m, a, o: seen.append(o.shape))
    try:
        slow = module(batch)  # phi[0] has a hook: module calls throughout phi
    finally:
        handle.remove()
    assert seen == [(batch.values.shape[0], 64)]
    assert torch.equal(fast, slow)
    with torch.nn.modules.module.register_module_forward_hook(lambda m, a, o: None):
        assert modules._global_hooks()
        assert torch.equal(module(batch), fast)


def test_evaluation_batches_follow_the_datasets_one_rule():
    """Evaluation batch size is the dataset's ``eval_batch_size`` (sets 2048, graphs 256),
    whatever the training batch size."""
    from pymatgen.core import Lattice, Structure

    from skatomsets import ElementEmbeddingFeaturizer
    from skatomsets.estimators._data import TensorData
    from skatomsets.estimators._graph_data import GraphData
    from skatomsets.estimators._net import _SetNet
    from skatomsets.megnet.graph import build_graphs

    sets = ElementEmbeddingFeaturizer("megnet16").fit_transform(["NaCl", "Fe2O3", "Cu"] * 1000)
    data = TensorData(sets, np.zeros((3000, 1), np.float32))
    for batch_size in (16, 4096):
        net = _SetNet(module=torch.nn.Identity, criterion=torch.nn.L1Loss, batch_size=batch_size)
        assert [len(b[0]) for b in net.get_iterator(data)] == [2048, 952]
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    graphs = GraphData(build_graphs([nacl] * 300), np.zeros(300))
    net = _SetNet(module=torch.nn.Identity, criterion=torch.nn.L1Loss, batch_size=4096)
    assert [len(b[0]) for b in net.get_iterator(graphs)] == [256, 44]


def test_fit_flushes_denormals_and_restores_the_mode(steels, monkeypatch):
    from skatomsets.estimators import _auto

    seen = []
    original = AtomSetsRegressor._fit_nets

    def spy(self, *args, **kwargs):
        seen.append(_auto._flushing_denormals())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AtomSetsRegressor, "_fit_nets", spy)
    sets, y = steels
    assert not _auto._flushing_denormals()
    AtomSetsRegressor(max_epochs=1, n_ensemble=1, random_state=0, device="cpu").fit(sets, y)
    assert seen == [True]
    assert not _auto._flushing_denormals()  # restored
    torch.set_flush_denormal(True)
    try:
        with _auto.denormals_flushed():
            assert _auto._flushing_denormals()
        assert _auto._flushing_denormals()  # a mode the user set is left on
    finally:
        torch.set_flush_denormal(False)
