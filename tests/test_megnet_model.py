"""Tests of the PyTorch MEGNet against megnet's own value and the numpy reference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.core import Structure
from pymatgen.util import testing as pmg_testing

from skatomsets.megnet import (
    MEGNet,
    MEGNetConfig,
    WeightsChecksumError,
    build_graphs,
    from_npz,
    load_parent,
    load_pretrained,
    save_parent,
)
from skatomsets.megnet.weights import _data_dir

REFERENCE = Path(__file__).parent / "data" / "megnet_reference.npz"
_PMG = getattr(pmg_testing, "MatSciTest", None) or pmg_testing.PymatgenTest


def pmg_structure(name: str) -> Structure:
    """A pymatgen test structure (``MatSciTest`` replaces ``PymatgenTest`` in new pymatgen)."""
    return _PMG.get_structure(name)


KEYS = ("V0", "V1", "V2", "V3", "u1", "u2", "u3", "v_r", "f", "prediction")


@pytest.fixture(scope="module")
def model() -> MEGNet:
    return load_pretrained()


@pytest.fixture(scope="module")
def model64() -> MEGNet:
    return load_pretrained().double()


@pytest.fixture(scope="module")
def reference() -> tuple[list[Structure], list[dict[str, np.ndarray]]]:
    with np.load(REFERENCE) as z:
        names = list(z["names"])
        structures = [
            Structure.from_dict(json.loads(str(z[f"s{k}_structure"]))) for k in range(len(names))
        ]
        feats = [{key: z[f"s{k}_{key}"] for key in KEYS} for k in range(len(names))]
    return structures, feats


def _features(m: MEGNet, structures: list[Structure], dtype=torch.float32) -> dict:
    with torch.no_grad():
        out = m.features(build_graphs(structures).to_torch(dtype=dtype))
    return {k: v.numpy() for k, v in out.items()}


def test_li2o_matches_megnet(model: MEGNet) -> None:
    li2o = pmg_structure("Li2O")
    with torch.no_grad():
        pred = model(build_graphs([li2o]).to_torch())
    assert pred.shape == (1,)
    assert float(pred[0]) == pytest.approx(-2.0152957, abs=1e-5)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-8), (torch.float32, 2e-4)])
def test_matches_numpy_reference(model, model64, reference, dtype, tol) -> None:
    structures, feats = reference
    m = model64 if dtype == torch.float64 else model
    for s, ref in zip(structures, feats, strict=True):
        out = _features(m, [s], dtype)
        for key in KEYS:
            got = out[key].reshape(ref[key].shape)
            np.testing.assert_allclose(got, ref[key], atol=tol, rtol=tol, err_msg=key)


def test_batch_equals_one_at_a_time(model64, reference) -> None:
    structures, _ = reference
    batch = _features(model64, structures, torch.float64)
    offsets = np.cumsum([0] + [len(s) for s in structures])
    for k, s in enumerate(structures):
        single = _features(model64, [s], torch.float64)
        for key in ("u1", "u3", "v_r", "f", "prediction"):
            np.testing.assert_allclose(batch[key][k], single[key][0], atol=1e-10, err_msg=key)
        for key in ("V0", "V1", "V3"):
            np.testing.assert_allclose(
                batch[key][offsets[k] : offsets[k + 1]], single[key], atol=1e-10, err_msg=key
            )


def test_site_permutation_invariance(model64) -> None:
    s = pmg_structure("LiFePO4")
    perm = np.random.default_rng(0).permutation(len(s))
    t = Structure.from_sites([s[i] for i in perm])
    a, b = _features(model64, [s], torch.float64), _features(model64, [t], torch.float64)
    for key in ("u1", "u2", "u3", "v_r", "f", "prediction"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-10, err_msg=key)
    np.testing.assert_allclose(a["V2"][perm], b["V2"], atol=1e-10)


def test_partial_keys_stop_early(model64, reference) -> None:
    structures, _ = reference
    g = build_graphs(structures[:2]).to_torch(dtype=torch.float64)
    with torch.no_grad():
        out = model64.features(g, keys=("V1",))
        full = model64.features(g)
    assert set(out) == {"V1"}
    torch.testing.assert_close(out["V1"], full["V1"])
    with pytest.raises(KeyError, match="V7"):
        model64.features(g, keys=("V7",))


def test_save_load_parent_roundtrip(model, tmp_path) -> None:
    path = save_parent(model, tmp_path / "parent.pt")
    loaded = load_parent(path)
    assert loaded.checksum() == model.checksum()
    assert loaded.config == model.config
    g = build_graphs([pmg_structure("Li2O")]).to_torch()
    with torch.no_grad():
        torch.testing.assert_close(loaded(g), model(g))


def test_random_config_roundtrip(tmp_path) -> None:
    torch.manual_seed(0)
    cfg = MEGNetConfig(n_blocks=2, head_units=(8,), n_targets=3)
    m = MEGNet(cfg).eval()
    loaded = load_parent(save_parent(m, tmp_path / "p.pt"))
    g = build_graphs([pmg_structure("CsCl")] * 2).to_torch()
    with torch.no_grad():
        assert loaded(g).shape == (2, 3)
        torch.testing.assert_close(loaded(g), m(g))


def test_checksum_is_verified(tmp_path) -> None:
    name = "formation_energy_mp-2019.4.1"
    src = _data_dir()
    shutil.copy(src / f"{name}.json", tmp_path / f"{name}.json")
    with np.load(src / f"{name}.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["dense_21/dense_21/bias:0"] = arrays["dense_21/dense_21/bias:0"] + 1.0
    np.savez(tmp_path / f"{name}.npz", **arrays)
    with pytest.raises(WeightsChecksumError):
        from_npz(tmp_path / f"{name}.npz")
    shifted = from_npz(tmp_path / f"{name}.npz", verify=False)
    g = build_graphs([pmg_structure("Li2O")]).to_torch()
    with torch.no_grad():
        assert float(shifted(g)[0]) == pytest.approx(-2.0152957 + 1.0, abs=1e-5)


def test_fast_bond_update_matches_concatenation(model64, reference) -> None:
    """The first φe layer is applied without building [v_src, v_dst, e, u]; check it."""
    from skatomsets.megnet.model import _run

    structures, _ = reference
    g = build_graphs(structures).to_torch(dtype=torch.float64)
    block = model64.blocks[1]
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(g.n_sites, 32, generator=gen, dtype=torch.float64)
    e = torch.randn(len(g.src), 32, generator=gen, dtype=torch.float64)
    u = torch.randn(g.n_graphs, 32, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        _, e_new, _ = block(v, e, u, g)
        naive = _run(
            block.phi_e, torch.cat([v[g.src], v[g.dst], e, u[g.bond_graph]], 1), linear_last=True
        )
    torch.testing.assert_close(e_new, naive, atol=1e-10, rtol=1e-10)


def test_backward_runs(reference) -> None:
    structures, _ = reference
    m = load_pretrained().train()
    g = build_graphs(structures[:3]).to_torch()
    loss = m(g).square().sum()
    loss.backward()
    grads = [p.grad for p in m.parameters()]
    assert all(gr is not None and torch.isfinite(gr).all() for gr in grads)
    assert m.embedding.weight.grad.abs().sum() > 0
