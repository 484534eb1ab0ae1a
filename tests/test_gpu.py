"""GPU (CUDA) path: fit / predict on CUDA, CUDA-saved models on CPU, MEGNet on CUDA.

Marked ``gpu``; every CUDA test is skipped (with the reason) when
``torch.cuda.is_available()`` is False, so the suite passes on CPU-only machines. Run them
on a GPU machine with ``python -m pytest -m gpu tests/test_gpu.py`` (or
``scripts/gpu_check.py``, which also prints the timings). The last tests run everywhere and
check, on CPU, that the device reaches the batching code.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
)
from skatomsets.estimators._data import BatchIterator, TensorData

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
pytestmark = pytest.mark.gpu

FORMULAS = ["Fe2O3", "NaCl", "Al2O3", "SiO2", "TiO2", "MgO", "CaTiO3", "LiFePO4", "GaAs", "ZnO"]


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    formulas = [FORMULAS[i] for i in rng.integers(0, len(FORMULAS), 200)]
    sets = ElementEmbeddingFeaturizer("megnet16").fit_transform(formulas)
    y = np.array([len(f) for f in formulas], float) + rng.normal(0, 0.1, 200)
    return sets, y


def _fast(**kw):
    return {"max_epochs": 8, "batch_size": 32, "n_ensemble": 2, "random_state": 0, **kw}


def _on_cuda(est):
    for net in est.nets_:
        assert all(p.device.type == "cuda" for p in net.module_.parameters())
        # BatchNorm running statistics are buffers: they must live on CUDA too
        assert all(b.device.type == "cuda" for b in net.module_.buffers())


@cuda
@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_regressor_fit_predict_cuda(toy, device):
    sets, y = toy
    reg = AtomSetsRegressor(device=device, **_fast()).fit(sets, y)
    _on_cuda(reg)
    pred, std = reg.predict(sets, return_std=True)
    assert pred.shape == (len(y),) and np.isfinite(pred).all() and (std >= 0).all()
    assert np.isfinite(reg.domain_score(sets)).all()
    cpu = AtomSetsRegressor(device="cpu", **_fast()).fit(sets, y)
    # same seeds on another device: close, not bitwise (different kernels)
    assert np.corrcoef(cpu.predict(sets), pred)[0, 1] > 0.9


@cuda
def test_classifier_fit_predict_cuda(toy):
    sets, y = toy
    labels = (y > np.median(y)).astype(int)
    clf = AtomSetsClassifier(device="cuda", **_fast()).fit(sets, labels)
    _on_cuda(clf)
    proba = clf.predict_proba(sets)
    assert proba.shape == (len(y), 2)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-6)


@cuda
def test_mlp_fit_predict_cuda():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6)).astype(np.float32)
    y = X @ rng.standard_normal(6)
    reg = AtomSetsMLPRegressor(device="cuda", **_fast()).fit(X, y)
    _on_cuda(reg)
    assert np.isfinite(reg.predict(X)).all()


@cuda
def test_sample_weight_and_extras_cuda(toy):
    sets, y = toy
    w = np.random.default_rng(1).uniform(0.5, 2, len(y))
    reg = AtomSetsRegressor(device="cuda", **_fast(lr_schedule="cosine")).fit(
        sets, y, sample_weight=w
    )
    assert np.isfinite(reg.predict(sets)).all()


@cuda
def test_cuda_model_loads_on_cpu_only_process(toy, tmp_path):
    sets, y = toy
    reg = AtomSetsRegressor(device="cuda", **_fast()).fit(sets, y)
    expected = reg.predict(sets)
    model_path, data_path = tmp_path / "model.joblib", tmp_path / "data.pkl"
    joblib.dump(reg, model_path)
    with open(data_path, "wb") as fh:
        pickle.dump((sets, expected), fh)
    code = textwrap.dedent(
        f"""
        import pickle, warnings, joblib, numpy as np, torch
        assert not torch.cuda.is_available()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reg = joblib.load({str(model_path)!r})
        sets, expected = pickle.load(open({str(data_path)!r}, "rb"))
        for net in reg.nets_:
            assert all(p.device.type == "cpu" for p in net.module_.parameters())
        got = reg.predict(sets)
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-4), np.abs(got - expected).max()
        print("ok")
        """
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ok" in out.stdout


@cuda
def test_megnet_features_cuda_match_cpu(shared_data):
    import gzip
    import json

    from pymatgen.core import Structure

    from skatomsets.megnet.graph import build_graphs
    from skatomsets.megnet.weights import load_pretrained

    with gzip.open(shared_data / "structures" / "flla_2015.json.gz", "rt") as fh:
        records = json.load(fh)[:64]
    structures = [Structure.from_dict(r["structure"]) for r in records]
    model = load_pretrained()
    dtype = next(model.parameters()).dtype
    g = build_graphs(
        structures,
        cutoff=model.config.cutoff,
        max_z=model.config.n_elements - 1,
        allow_isolated=True,  # FLLA has a few sparse cells
    )
    keys = ("V0", "V1", "V2", "V3", "f")
    with torch.inference_mode():
        cpu = model.features(g.to_torch(dtype=dtype), keys=keys)
        model_cuda = load_pretrained().to("cuda")
        gpu = model_cuda.features(g.to_torch(dtype=dtype, device="cuda"), keys=keys)
    for k in keys:
        assert gpu[k].device.type == "cuda"
        np.testing.assert_allclose(gpu[k].cpu().numpy(), cpu[k].numpy(), atol=1e-5, rtol=1e-5)


@cuda
def test_megnet_featurizers_with_a_cuda_model_match_cpu(shared_data):
    """A MEGNet moved to CUDA featurizes there (graphs follow the model's device)."""
    import gzip
    import json

    from pymatgen.core import Structure

    from skatomsets import MEGNetSiteFeaturizer, MEGNetStructureFeaturizer
    from skatomsets.megnet.weights import load_pretrained

    with gzip.open(shared_data / "structures" / "dielectric_constant.json.gz", "rt") as fh:
        structures = [Structure.from_dict(r["structure"]) for r in json.load(fh)[:48]]
    cuda_model = load_pretrained().to("cuda")
    for level in (1, 3):
        cpu = MEGNetSiteFeaturizer(level, cache=False).fit_transform(structures)
        gpu = MEGNetSiteFeaturizer(level, model=cuda_model, cache=False).fit_transform(structures)
        np.testing.assert_allclose(gpu.values, cpu.values, atol=1e-5, rtol=1e-5)
    cpu_f = MEGNetStructureFeaturizer(cache=False).fit_transform(structures)
    gpu_f = MEGNetStructureFeaturizer(model=cuda_model, cache=False).fit_transform(structures)
    np.testing.assert_allclose(gpu_f, cpu_f, atol=1e-5, rtol=1e-5)


def test_megnet_parent_builds_graphs_on_the_models_device(monkeypatch):
    """CPU-checkable half of the above: ``to_torch`` is asked for the model's device."""
    from pymatgen.core import Lattice, Structure

    from skatomsets.megnet.graph import GraphBatch
    from skatomsets.parents.megnet import MEGNetParent

    seen = []
    original = GraphBatch.to_torch

    def spy(self, dtype=None, device=None):
        seen.append(device)
        return original(self, dtype=dtype, device=device)

    monkeypatch.setattr(GraphBatch, "to_torch", spy)
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    parent = MEGNetParent()
    parent.compute([nacl], [0], ("V1",))
    assert seen == [next(parent.model.parameters()).device]


# ------------------------------------------------------------------ CPU-checkable device path
def test_device_reaches_the_batches(toy):
    """``_SetNet.get_iterator`` hands its device to the batching (GPU: one copy per epoch)."""
    from skatomsets.estimators._base import _SetNet

    sets, y = toy
    data = TensorData(sets, y.astype(np.float32)[:, None])
    net = _SetNet(
        module=torch.nn.Identity, criterion=torch.nn.L1Loss, batch_size=16, device="cuda:1"
    )
    net.shuffle_rng_ = np.random.default_rng(0)
    train, valid = net.get_iterator(data, training=True), net.get_iterator(data)
    assert (train.device, train.targets_to_device) == ("cuda:1", True)
    assert (valid.device, valid.targets_to_device) == ("cuda:1", False)


def test_cpu_device_batches_unchanged(toy):
    sets, y = toy
    data = TensorData(sets, y.astype(np.float32)[:, None])
    plain = list(BatchIterator(data, 16, np.random.default_rng(0)))
    moved = list(BatchIterator(data, 16, np.random.default_rng(0), "cpu", True))
    for (xa, ya), (xb, yb) in zip(plain, moved, strict=True):
        for f in ("values", "weights", "segment", "offsets"):
            assert torch.equal(getattr(xa, f), getattr(xb, f))
        assert torch.equal(ya, yb)


@cuda
@pytest.mark.parametrize("members_path", [False, True])
def test_stacked_ensemble_on_cuda_follows_the_cpu_curves(toy, members_path, monkeypatch):
    """The members trained together on CUDA: same curves as on the CPU, weights on CUDA."""
    from skatomsets.estimators import _data

    if members_path:  # every member's own rows (site features), not the distinct rows
        monkeypatch.setattr(_data, "USE_VOCABULARY", False)
    sets, y = toy
    kw = _fast(n_ensemble=3, max_epochs=3, readout="set2set" if members_path else "mean")
    gpu = AtomSetsRegressor(device="cuda", **kw).fit(sets, y)
    cpu = AtomSetsRegressor(device="cpu", **kw).fit(sets, y)
    _on_cuda(gpu)
    assert len(gpu.nets_) == 3
    np.testing.assert_allclose(
        [[r["valid_mae"] for r in h] for h in gpu.history_],
        [[r["valid_mae"] for r in h] for h in cpu.history_],
        rtol=1e-3,
    )
    np.testing.assert_allclose(gpu.predict(sets), cpu.predict(sets), rtol=1e-2, atol=1e-3)


@cuda
def test_stacked_ensemble_early_stopping_on_cuda(toy):
    sets, y = toy
    reg = AtomSetsRegressor(
        device="cuda", **_fast(n_ensemble=4, max_epochs=60, patience=3, lr=0.05)
    ).fit(sets, y)
    for hist, best in zip(reg.history_, reg.best_epochs_, strict=True):
        assert len(hist) in (best + 3, 60)
    assert np.isfinite(reg.predict(sets)).all()
