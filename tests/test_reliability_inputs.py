"""Reliability of inputs: no silently wrong features, typed errors naming the row."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import IStructure, Lattice, Structure
from pymatgen.core.periodic_table import DummySpecies

from skatomsets import ElementEmbeddingFeaturizer, MEGNetSiteFeaturizer, MEGNetStructureFeaturizer
from skatomsets.exceptions import InvalidFormulaError, MissingFeaturesError
from skatomsets.megnet.cache import clear_memory_cache
from skatomsets.megnet.graph import GraphConstructionError, structure_to_graph


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_memory_cache()
    yield
    clear_memory_cache()


def _nacl(a: float = 4.0, na="Na") -> Structure:
    return Structure(Lattice.cubic(a), [na, "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


# ------------------------------------------------------------------ vacancies (item 2)
def test_structure_features_refuse_vacancies_instead_of_ignoring_them():
    ok = _nacl()
    vacant = _nacl(na={"Na": 0.05})
    feat = MEGNetStructureFeaturizer(features=("u1", "v_r", "e_r", "prediction"))
    feat.fit_transform([ok])
    with pytest.raises(GraphConstructionError, match=r"row 1: site 0 \(Na:0.05\) has total occ"):
        feat.transform([ok, vacant])


def test_vacancy_check_is_not_bypassed_by_a_site_featurizer_filling_the_cache():
    vacant = _nacl(na={"Na": 0.5})
    sets = MEGNetSiteFeaturizer(level=3).fit_transform([vacant])  # caches v_r, f... too
    np.testing.assert_allclose(sets.weights, [0.5 / 1.5, 1 / 1.5], rtol=1e-6)
    with pytest.raises(GraphConstructionError, match="vacancy"):
        MEGNetStructureFeaturizer(features="f").fit_transform([vacant])


def test_mixed_fully_occupied_sites_are_still_accepted():
    mixed = _nacl(na={"Na": 0.5, "K": 0.5})
    out = MEGNetStructureFeaturizer(features="prediction").fit_transform([mixed, _nacl()])
    assert np.isfinite(out).all() and out[0, 0] != out[1, 0]


def test_megnet_estimators_refuse_vacancies():
    from skatomsets import MEGNetRegressor

    with pytest.raises(GraphConstructionError, match=r"row 1: .*vacancy"):
        MEGNetRegressor(max_epochs=1, device="cpu").fit([_nacl(), _nacl(na={"Na": 0.9})], [0, 1])


# ------------------------------------------------------------------ tables (item 3)
@pytest.mark.parametrize(
    ("table", "formula", "element"),
    [("magpie", "NhO", "Nh"), ("magpie", "Og", "Og"), ("matscholar", "RfO2", "Rf")],
)
def test_superheavy_elements_have_no_made_up_features(table, formula, element):
    feat = ElementEmbeddingFeaturizer(table).fit()
    with pytest.raises(MissingFeaturesError, match=f"row 1: element {element} has no features"):
        feat.transform(["Fe2O3", formula])
    assert np.isfinite(feat.transform(["CnO" if table == "magpie" else "LrO"]).values).all()


# ------------------------------------------------------------------ dicts (items 4, 12)
@pytest.mark.parametrize(
    ("item", "match"),
    [
        ({"Fe": float("nan"), "O": 3}, r"row 1: amount of 'Fe' is nan"),
        ({"Fe": "2"}, r"row 1: amount of 'Fe' must be a number, got str '2'"),
        ({"Fe": None}, r"row 1: amount of 'Fe' must be a number, got NoneType None"),
        ({"Fe": -1, "O": 1}, r"row 1: negative amount -1 of 'Fe'"),
    ],
)
def test_bad_dict_amounts_are_typed_errors_naming_the_row(item, match):
    with pytest.raises(InvalidFormulaError, match=match):
        ElementEmbeddingFeaturizer().fit_transform(["NaCl", item])


def test_structure_dicts_and_istructures_are_read_by_the_element_featurizer():
    s = _nacl()
    feat = ElementEmbeddingFeaturizer().fit()
    ref = feat.transform([s])
    for item in (s.as_dict(), IStructure.from_sites(s)):
        out = feat.transform([item])
        np.testing.assert_array_equal(out.values, ref.values)
        np.testing.assert_array_equal(out.weights, ref.weights)


def test_istructure_is_accepted_by_the_megnet_featurizers():
    s = _nacl()
    feat = MEGNetStructureFeaturizer(features="prediction", cache=False).fit()
    np.testing.assert_array_equal(feat.transform([IStructure.from_sites(s)]), feat.transform([s]))


# ------------------------------------------------------------------ geometry (items 6, 14)
def test_atom_closer_than_half_an_angstrom_to_its_own_image_is_refused_before_bonds():
    tiny = Structure(Lattice.cubic(0.1), ["Cu"], [[0, 0, 0]])
    with pytest.raises(GraphConstructionError, match=r"Å\^3 per site.*nm instead of Å"):
        structure_to_graph(tiny, row=3)
    # a long thin cell: enough volume, but a lattice vector of 0.3 Å
    thin = Structure(Lattice.orthorhombic(0.3, 10, 10), ["Cu"], [[0, 0, 0]])
    with pytest.raises(GraphConstructionError, match=r"0\.300 Å from its own periodic image"):
        structure_to_graph(thin)


def test_lattice_in_nm_is_refused():
    cu_nm = Structure(
        Lattice.cubic(0.361), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    )
    with pytest.raises(GraphConstructionError, match=r"row 1: .*nm instead of Å"):
        MEGNetStructureFeaturizer(cache=False).fit_transform([_nacl(), cu_nm])


def test_self_image_check_in_the_neighbour_list():
    from skatomsets.megnet.graph import _check_overlap

    src = np.array([0, 0])
    dst = np.array([0, 0])
    with pytest.raises(GraphConstructionError, match=r"site 0 is 0\.400 Å from its own periodic"):
        _check_overlap(_nacl(), src, dst, np.array([4.0, 0.4]), row=0)


def test_dummy_species_is_named_not_given_a_garbage_atomic_number():
    s = Structure(Lattice.cubic(3.0), [DummySpecies("X"), "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(GraphConstructionError, match=r"site 0 \(X0\+\) holds a dummy species"):
        structure_to_graph(s)


# ------------------------------------------------------------------ batching (item 15)
def test_megnet_features_agree_across_batch_sizes_within_the_documented_tolerance():
    rng = np.random.default_rng(0)
    structs = []
    for _ in range(12):
        s = Structure(
            Lattice.cubic(rng.uniform(3.8, 5.0)),
            list(rng.choice(["Na", "Cl", "Mg", "O", "Fe", "Si"], 4)),
            [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        )
        s.perturb(0.1)
        structs.append(s)
    feats = ("u1", "v_r", "e_r", "f", "prediction")
    outs = [
        MEGNetStructureFeaturizer(features=feats, batch_size=b, cache=False).fit_transform(structs)
        for b in (12, 5, 1)
    ]
    scale = np.abs(outs[0]).max()
    for other in outs[1:]:
        assert np.abs(other - outs[0]).max() <= 1e-6 * scale
