"""The parent interface: MEGNet and CHGNet behind one API, and a third parent in one module."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from sklearn.pipeline import make_pipeline

from skatomsets import (
    AtomSetsRegressor,
    CHGNetSiteFeaturizer,
    CHGNetStructureFeaturizer,
    ElementEmbeddingFeaturizer,
    MEGNetSiteFeaturizer,
    MEGNetStructureFeaturizer,
    ParentSiteFeaturizer,
    ParentStructureFeaturizer,
)
from skatomsets._sklearn_compat import InvalidParameterError
from skatomsets.exceptions import MissingFeaturesError, SkatomsetsInputError
from skatomsets.io.materials import MAX_Z
from skatomsets.models import make_model
from skatomsets.parents import Parent, available_parents, register_parent, resolve_parent
from skatomsets.parents.chgnet import CHGNetParent, _pretrained


def _structures() -> list[Structure]:
    nacl = Structure(Lattice.cubic(5.69), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    mgo = Structure(Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    si = Structure(Lattice.cubic(5.43), ["Si", "Si"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    fe = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return [nacl, mgo, si, fe]


# ----------------------------------------------------------------------------- a third parent
class ToyParent(Parent):
    """A parent in one small class: features from Z and the number of neighbours."""

    name = "toy"
    prefix = "toy"
    n_levels = 1
    default_structure_feature = "size"
    structure_widths = {"size": 1}

    def __init__(self) -> None:
        self.weight = np.array([1.0, 0.5], dtype=np.float32)
        self.calls = 0

    def site_width(self, level: int) -> int:
        return 2

    def parameters_for_checksum(self) -> list[np.ndarray]:
        return [self.weight]

    def element_table(self) -> tuple[np.ndarray, list[str]]:
        table = np.full((MAX_Z + 1, 2), np.nan, dtype=np.float32)
        z = np.arange(1, MAX_Z + 1, dtype=np.float32)
        table[1:] = np.stack([z, z**0.5], axis=1) * self.weight
        return table, ["toy_V0_0", "toy_V0_1"]

    def compute(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> dict[str, list[np.ndarray]]:
        self.calls += 1
        table, _ = self.element_table()
        out: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        for s in structures:
            v0 = table[[site.specie.Z for site in s]]
            n_nb = np.array([len(s.get_neighbors(site, 3.5)) for site in s], dtype=np.float32)
            per_key = {
                "V0": v0,
                "V1": v0 + n_nb[:, None],
                "site_weight": np.ones(len(s), np.float32),
                "size": np.array([[len(s)]], np.float32),
            }
            for k in keys:
                out[k].append(per_key[k])
        return out


def test_a_third_parent_needs_one_class_and_works_in_a_pipeline():
    toy = ToyParent()
    register_parent("toy-test")(lambda: toy)
    assert "toy-test" in available_parents()
    X, y = _structures(), np.array([1.0, 2.0, 3.0, 4.0])
    model = make_pipeline(
        ParentSiteFeaturizer(parent="toy-test", level=1),
        AtomSetsRegressor(max_epochs=3, random_state=0, device="cpu"),
    )
    pred = model.fit(X, y).predict(X)
    assert pred.shape == (4,) and np.isfinite(pred).all()
    sets = ParentSiteFeaturizer(parent=toy, level=1).fit_transform(X)
    assert list(sets.feature_names) == ["toy_V1_0", "toy_V1_1"]
    assert ParentStructureFeaturizer(parent=toy).fit_transform(X).tolist() == [[2], [2], [2], [2]]


def test_cache_serves_the_same_parent_and_recomputes_after_its_weights_change():
    toy = ToyParent()
    toy.name = "toy-cache"
    feat = ParentSiteFeaturizer(parent=toy, level=0).fit()
    first = feat.transform(_structures()).values.copy()
    calls = toy.calls
    np.testing.assert_array_equal(feat.transform(_structures()).values, first)
    assert toy.calls == calls  # served from the cache
    toy.weight = toy.weight * 2  # the network changes in place after fit
    changed = feat.transform(_structures()).values
    assert toy.calls == calls + 1
    np.testing.assert_allclose(changed, 2 * first)


def test_resolve_parent_rejects_unknown_names():
    with pytest.raises(ValueError, match="megnet"):
        resolve_parent("no-such-parent")


# ----------------------------------------------------------------------------- MEGNet
@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_megnet_parent_gives_the_megnet_featurizer_sets_exactly(level):
    X = _structures()
    a = ParentSiteFeaturizer(parent="megnet", level=level, cache=False).fit_transform(X)
    b = MEGNetSiteFeaturizer(level=level, cache=False).fit_transform(X)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert list(a.feature_names) == list(b.feature_names)


def test_megnet_parent_structure_vectors_equal_the_megnet_featurizer():
    X = _structures()
    feats = ("u1", "v_r", "f")
    a = ParentStructureFeaturizer(parent="megnet", features=feats, cache=False).fit_transform(X)
    b = MEGNetStructureFeaturizer(features=feats, cache=False).fit_transform(X)
    np.testing.assert_array_equal(a, b)


def test_megnet_featurizers_are_parent_featurizers_sharing_one_cache(monkeypatch):
    from skatomsets.megnet import MEGNet
    from skatomsets.megnet.cache import clear_memory_cache

    assert issubclass(MEGNetSiteFeaturizer, ParentSiteFeaturizer)
    assert issubclass(MEGNetStructureFeaturizer, ParentStructureFeaturizer)
    asked: list[tuple[str, ...]] = []
    original = MEGNet.features

    def spy(self, g, keys=None):
        asked.append(tuple(keys))
        return original(self, g, keys)

    monkeypatch.setattr(MEGNet, "features", spy)
    clear_memory_cache()
    try:
        X = _structures()
        # u1 comes out of block 1: the forward pass stops there (no V2, no readout)
        MEGNetStructureFeaturizer(features="u1").fit_transform(X)
        assert len(asked) == 1 and set(asked[0]) == {"u1", "V0", "V1"}
        # the MEGNet featurizers and the parent featurizers on "megnet" share their entries
        a = ParentSiteFeaturizer(parent="megnet", level=1).fit_transform(X)
        b = MEGNetSiteFeaturizer(level=1).fit_transform(X)
        assert len(asked) == 1
        np.testing.assert_array_equal(a.values, b.values)
    finally:
        clear_memory_cache()


def test_megnet_featurizer_keeps_its_parameters_and_fitted_attributes():
    fz = MEGNetStructureFeaturizer(features=("u2",), batch_size=8).fit()
    assert "parent" not in fz.get_params() and fz.get_params()["batch_size"] == 8
    assert fz.parent_.batch_size == 8 and fz.model_ is fz.parent_.model
    assert fz.model_checksum_ == fz.model_.checksum() and fz.n_blocks_ == 3
    assert len(fz.citations()) == 2  # MEGNet and AtomSets
    with pytest.raises(InvalidParameterError, match="'batch_size' parameter of MEGNetSiteFeat"):
        MEGNetSiteFeaturizer(batch_size=0).fit()


# ----------------------------------------------------------------------------- CHGNet
def test_chgnet_levels_match_chgnets_own_predict_structure():
    X = _structures()
    own = _pretrained("0.3.0").predict_structure(
        X, task="e", return_atom_feas=True, return_crystal_feas=True
    )
    v3 = CHGNetSiteFeaturizer(level=3, cache=False).fit_transform(X)
    np.testing.assert_allclose(v3.values, np.concatenate([p["atom_fea"] for p in own]), atol=1e-5)
    vec = CHGNetStructureFeaturizer(features=("crystal", "energy"), cache=False).fit_transform(X)
    crystal = np.stack([p["crystal_fea"] / len(s) for p, s in zip(own, X, strict=True)])
    np.testing.assert_allclose(vec[:, :64], crystal, atol=1e-5)
    np.testing.assert_allclose(vec[:, 64], [float(p["e"]) for p in own], atol=1e-4)


@pytest.mark.parametrize("level", [0, 1, 2, 4])
def test_chgnet_every_level_gives_64_named_features_per_site(level):
    sets = CHGNetSiteFeaturizer(level=level, cache=False).fit_transform(_structures())
    assert sets.values.shape == (8, 64) and np.isfinite(sets.values).all()
    assert sets.feature_names[0] == f"chgnet_V{level}_0"


def test_chgnet_level_0_equals_the_chgnet64_element_table_on_formulas_and_structures():
    X = _structures()
    site = CHGNetSiteFeaturizer(level=0, cache=False).fit_transform(X)
    table = ElementEmbeddingFeaturizer("chgnet64").fit_transform(["NaCl", "MgO", "Si", "Fe"])
    # per-element sets of formulas: one row per element (Si, Fe: one element)
    np.testing.assert_allclose(table.values[0], site.values[0])
    np.testing.assert_allclose(table.values[-1], site.values[-1])
    with pytest.raises(MissingFeaturesError, match="Og"):
        ElementEmbeddingFeaturizer("chgnet64").fit_transform(["Og2"])


def test_chgnet_features_follow_weights_changed_after_fit():
    model = CHGNetParent(_pretrained("0.3.0")).model
    import copy

    tuned = copy.deepcopy(model)
    feat = CHGNetSiteFeaturizer(parent=CHGNetParent(tuned), level=1).fit()
    before = feat.transform(_structures()).values.copy()
    with torch.no_grad():
        tuned.atom_embedding.embedding.weight.mul_(1.5)
    after = feat.transform(_structures()).values
    assert np.abs(after - before).max() > 1e-3


def test_chgnet_refuses_a_disordered_structure_naming_the_row():
    X = _structures()
    X[2] = Structure(Lattice.cubic(4.0), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]])
    with pytest.raises(SkatomsetsInputError, match=r"row 2: CHGNet needs an ordered structure"):
        CHGNetSiteFeaturizer(cache=False).fit_transform(X)


def test_chgnet_featurizer_refuses_formulas_with_a_clear_error():
    with pytest.raises(SkatomsetsInputError, match="row 0"):
        CHGNetSiteFeaturizer(cache=False).fit_transform(["NaCl"])


def test_missing_chgnet_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "chgnet.model", None)
    _pretrained.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"skatomsets\[chgnet\]"):
            CHGNetSiteFeaturizer(cache=False).fit()
    finally:
        _pretrained.cache_clear()


def test_chgnet_ready_model_fits_and_predicts():
    X, y = _structures(), np.array([0.1, 0.2, 0.3, 0.4])
    model = make_model("atomsets-chgnet-v3", max_epochs=3, random_state=0, device="cpu")
    assert model.fit(X, y).predict(X).shape == (4,)
    assert model.steps[0][1].level == 3


def test_megnet_parent_structure_vectors_refuse_vacancies_even_after_site_features_cached():
    fe = Structure(Lattice.cubic(2.87), [{"Fe": 0.05}], [[0, 0, 0]])
    ParentSiteFeaturizer(parent="megnet", level=3).fit_transform([fe])  # fills the cache
    with pytest.raises(SkatomsetsInputError, match=r"row 0: site 0 .* vacancy"):
        ParentStructureFeaturizer(parent="megnet", features=("u1",)).fit_transform([fe])


def test_parent_featurizers_accept_isolated_sites_only_when_asked():
    from pymatgen.core import Lattice, Structure

    from skatomsets.exceptions import GraphConstructionError
    from skatomsets.featurizers import (
        CHGNetSiteFeaturizer,
        MEGNetSiteFeaturizer,
        ParentStructureFeaturizer,
    )
    from skatomsets.parents import resolve_parent

    lonely = Structure(Lattice.cubic(7.0), ["Cs"], [[0, 0, 0]])  # no neighbour within 6 Å
    # permissive first: the strict featurizer must not be served its cached features
    sets = CHGNetSiteFeaturizer(level=1, allow_isolated=True).fit_transform([lonely])
    assert len(sets) == 1 and np.isfinite(sets.values).all()
    with pytest.raises(GraphConstructionError, match=r"row 0: .*isolated.*allow_isolated=True"):
        CHGNetSiteFeaturizer(level=1).fit_transform([lonely])
    MEGNetSiteFeaturizer(level=1, allow_isolated=True).fit_transform([lonely])
    with pytest.raises(GraphConstructionError, match=r"row 0: site 0 \(Cs\) has no neighbour"):
        MEGNetSiteFeaturizer(level=1).fit_transform([lonely])  # MEGNet's own cache layout
    mine = resolve_parent("chgnet")
    vec = ParentStructureFeaturizer(mine, allow_isolated=True).fit_transform([lonely])
    assert np.isfinite(vec).all() and mine.allow_isolated is False  # the user's stays as given
