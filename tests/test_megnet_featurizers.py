"""Tests of the MEGNet site / structure featurizers (batching, caching, errors)."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from pymatgen.util import testing as pmg_testing
from sklearn.base import clone

from skatomsets.featurizers.megnet import MEGNetSiteFeaturizer, MEGNetStructureFeaturizer
from skatomsets.megnet import MEGNet, load_pretrained, save_parent
from skatomsets.megnet.cache import clear_memory_cache, structure_key

_PMG = getattr(pmg_testing, "MatSciTest", None) or pmg_testing.PymatgenTest
REFERENCE = Path(__file__).parent / "data" / "megnet_reference.npz"


@pytest.fixture(scope="module")
def reference() -> tuple[list[Structure], list[dict[str, np.ndarray]]]:
    with np.load(REFERENCE) as z:
        n = len(z["names"])
        structures = [Structure.from_dict(json.loads(str(z[f"s{k}_structure"]))) for k in range(n)]
        keys = ("V0", "V1", "V2", "V3", "u1", "u2", "u3", "v_r", "f", "prediction")
        feats = [{key: z[f"s{k}_{key}"] for key in keys} for k in range(n)]
    return structures, feats


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_memory_cache()
    yield
    clear_memory_cache()


@pytest.fixture
def forward_calls(monkeypatch) -> list[int]:
    """Number of graphs passed through the network, one entry per forward pass."""
    calls: list[int] = []
    original = MEGNet.features

    def counting(self, g, keys=None):
        calls.append(g.n_graphs)
        return original(self, g, keys)

    monkeypatch.setattr(MEGNet, "features", counting)
    return calls


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_site_features_match_reference(reference, level) -> None:
    structures, feats = reference
    sets = MEGNetSiteFeaturizer(level=level, batch_size=4).fit_transform(structures)
    assert len(sets) == len(structures)
    assert sets.n_features == (16 if level == 0 else 32)
    assert list(sets.feature_names[:1]) == [f"megnet_V{level}_0"]
    for k, ref in enumerate(feats):
        got = sets.values[sets.offsets[k] : sets.offsets[k + 1]]
        np.testing.assert_allclose(got, ref[f"V{level}"], atol=2e-4, rtol=2e-4)
    np.testing.assert_allclose(np.add.reduceat(sets.weights, sets.offsets[:-1]), 1.0, rtol=1e-6)


def test_structure_features_match_reference(reference) -> None:
    structures, feats = reference
    fz = MEGNetStructureFeaturizer(features=("u1", "v_r", "f", "prediction"), batch_size=2)
    X = fz.fit_transform(structures)
    assert X.shape == (len(structures), 32 + 32 + 96 + 1) and X.dtype == np.float32
    names = fz.get_feature_names_out()
    assert names[0] == "megnet_u1_0" and names[-1] == "megnet_prediction"
    assert fz.feature_labels() == list(names)
    ref = np.stack([np.concatenate([r["u1"], r["v_r"], r["f"], [r["prediction"]]]) for r in feats])
    np.testing.assert_allclose(X, ref, atol=2e-4, rtol=2e-4)
    assert X[0, -1] == pytest.approx(-2.0152957, abs=1e-5)


def test_memory_cache_survives_clone(reference, forward_calls) -> None:
    structures, _ = reference
    fz = MEGNetSiteFeaturizer(level=3, batch_size=4)
    a = fz.fit_transform(structures)
    assert sum(forward_calls) == len(structures)
    b = clone(fz).fit_transform(structures[::-1])  # grid search refits a clone
    c = MEGNetSiteFeaturizer(level=1).fit_transform(structures[:2])  # V1 came for free
    s = MEGNetStructureFeaturizer(features="f").fit_transform(structures)  # so did f
    assert sum(forward_calls) == len(structures)  # one forward pass served all of them
    np.testing.assert_array_equal(b[::-1].values, a.values)
    assert c.n_features == 32 and s.shape == (len(structures), 96)
    # and the other way round: a structure featurizer caches the site features
    clear_memory_cache()
    MEGNetStructureFeaturizer(features="u1").fit_transform(structures[:3])
    MEGNetSiteFeaturizer(level=1).fit_transform(structures[:3])
    assert sum(forward_calls) == len(structures) + 3


def test_duplicates_computed_once(reference, forward_calls) -> None:
    structures, _ = reference
    X = MEGNetStructureFeaturizer(cache=False).fit_transform([structures[0]] * 5 + structures[:2])
    assert forward_calls == [2]
    np.testing.assert_array_equal(X[0], X[4])


def test_no_cache_recomputes(reference, forward_calls) -> None:
    structures, _ = reference
    fz = MEGNetStructureFeaturizer(cache=False).fit()
    fz.transform(structures[:2])
    fz.transform(structures[:2])
    assert forward_calls == [2, 2]


def test_disk_cache_roundtrip_and_corruption(reference, tmp_path, forward_calls) -> None:
    structures, _ = reference
    fz = MEGNetSiteFeaturizer(level=2, cache=tmp_path)
    a = fz.fit_transform(structures)
    shards = sorted(tmp_path.rglob("shard-*.npz"))
    assert shards and not list(tmp_path.rglob(".tmp-*"))
    clear_memory_cache()
    b = MEGNetSiteFeaturizer(level=2, cache=str(tmp_path)).fit_transform(structures)
    assert forward_calls == [len(structures)]
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.weights, b.weights)
    # tamper with every shard: they are ignored with a warning and recomputed
    for path in shards:
        with np.load(path) as z:
            d = dict(z)
        d["values"] = d["values"] + 1.0
        np.savez(path, **d)
    (shards[0].parent / "shard-0000.npz").write_bytes(b"truncated")
    clear_memory_cache()
    with pytest.warns(UserWarning, match="MEGNet cache shard"):
        c = MEGNetSiteFeaturizer(level=2, cache=tmp_path).fit_transform(structures)
    assert forward_calls == [len(structures)] * 2
    np.testing.assert_array_equal(a.values, c.values)


def test_cache_is_keyed_by_model(reference, tmp_path) -> None:
    structures, _ = reference
    model = load_pretrained()
    with torch.no_grad():
        model.blocks[0].phi_v[-1].bias.add_(1.0)
    path = save_parent(model, tmp_path / "parent.pt")
    base = MEGNetSiteFeaturizer(level=1).fit_transform(structures[:2])
    other = MEGNetSiteFeaturizer(level=1, model=path).fit_transform(structures[:2])
    np.testing.assert_allclose(other.values, base.values + 1.0, atol=1e-5)
    module = MEGNetSiteFeaturizer(level=1, model=model).fit_transform(structures[:2])
    np.testing.assert_array_equal(module.values, other.values)


def test_structure_key_ignores_labels_but_not_geometry() -> None:
    s = _PMG.get_structure("Li2O")
    t = s.copy()
    t.add_oxidation_state_by_element({"Li": 1, "O": -2})
    assert structure_key(s) == structure_key(t)
    t.perturb(0.01)
    assert structure_key(s) != structure_key(t)


def test_errors_name_the_row() -> None:
    ok = _PMG.get_structure("CsCl")
    lonely = Structure(Lattice.cubic(20.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    fz = MEGNetSiteFeaturizer(chunk_size=2, batch_size=1).fit()
    with pytest.raises(ValueError, match=r"row 3: site 0 \(Na\) has no neighbour"):
        fz.transform([ok, ok, ok, lonely])
    sets = MEGNetSiteFeaturizer(allow_isolated=True).fit_transform([ok, lonely])
    assert np.isfinite(sets.values).all()
    with pytest.raises(ValueError, match="row 1: expected a pymatgen Structure, got str"):
        fz.transform([ok, "NaCl"])
    am = Structure(Lattice.cubic(3.0), ["Na", "Am"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match=r"row 0: site 1 \(Am\) has atomic number 95"):
        MEGNetStructureFeaturizer().fit().transform([am])


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="level"):
        MEGNetSiteFeaturizer(level=4).fit()
    with pytest.raises(ValueError, match="batch_size"):
        MEGNetSiteFeaturizer(batch_size=0).fit()
    with pytest.raises(ValueError, match="unknown MEGNet structure feature"):
        MEGNetStructureFeaturizer(features=("V1",)).fit()
    with pytest.raises(ValueError, match="neither a pretrained name"):
        MEGNetStructureFeaturizer(model="no-such-model").fit()


def test_disordered_site_weights() -> None:
    lat = Lattice.cubic(4.2)
    mixed = Structure(lat, [{"Na": 0.25, "K": 0.5}, "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    sets = MEGNetSiteFeaturizer(level=0).fit_transform([mixed])
    np.testing.assert_allclose(sets.weights, [0.75 / 1.75, 1 / 1.75], rtol=1e-6)
    emb = load_pretrained().embedding.weight.detach().numpy()
    np.testing.assert_allclose(sets.values[0], emb[11] / 3 + 2 * emb[19] / 3, atol=1e-6)


def test_dict_input_pickle_and_empty(reference) -> None:
    structures, _ = reference
    fz = MEGNetStructureFeaturizer(features=("u2",)).fit()
    X = fz.transform([s.as_dict() for s in structures[:2]])
    again = pickle.loads(pickle.dumps(fz))
    np.testing.assert_array_equal(again.transform(structures[:2]), X)
    assert fz.transform([]).shape == (0, 32)
    assert len(MEGNetSiteFeaturizer().fit().transform([])) == 0


def test_n_jobs_gives_same_result(reference) -> None:
    structures, _ = reference
    serial = MEGNetStructureFeaturizer(cache=False).fit_transform(structures)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        par = MEGNetStructureFeaturizer(cache=False, n_jobs=2, chunk_size=3).fit_transform(
            structures
        )
    np.testing.assert_allclose(par, serial, atol=1e-4, rtol=1e-4)  # float32, other batches
