"""SevenNet-0 as a third parent: its features are sevenn's own, batched, in one module."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from skatomsets import ElementEmbeddingFeaturizer, ParentSiteFeaturizer, ParentStructureFeaturizer
from skatomsets.exceptions import GraphConstructionError, MissingFeaturesError
from skatomsets.models import make_model
from skatomsets.parents.sevennet import SevenNetParent, _pretrained

pytest.importorskip("sevenn", reason="CI installs the test extra, which has sevenn")


def _structures() -> list[Structure]:
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    si = Structure(Lattice.cubic(5.43), ["Si", "Si"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    lfo = Structure(
        Lattice.from_parameters(4.1, 4.3, 5.2, 88, 95, 100),
        ["Li", "Fe", "O", "O"],
        [[0, 0, 0], [0.5, 0.45, 0.5], [0.2, 0.7, 0.1], [0.8, 0.25, 0.65]],
    )
    return [nacl, si, lfo]


def _sevenns_own(structures: list[Structure]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Levels and energies per atom as sevenn's own calculator computes them, read by
    forward hooks on its modules (its own model, graph and forward pass)."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from sevenn.calculator import SevenNetCalculator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calc = SevenNetCalculator("7net-0", device="cpu")
    seen: dict[str, list[np.ndarray]] = {}

    def hook(level: int):
        def read(module, inputs, output) -> None:
            seen.setdefault(f"V{level}", []).append(output["x"][:, :128].detach().numpy().copy())

        return read

    calc.model._modules["onehot_to_feature_x"].register_forward_hook(hook(0))
    for k in range(5):
        calc.model._modules[f"{k}_equivariant_gate"].register_forward_hook(hook(k + 1))
    energies = []
    for s in structures:
        atoms = AseAtomsAdaptor.get_atoms(s)
        atoms.calc = calc
        energies.append(atoms.get_potential_energy() / len(s))
    return {k: np.concatenate(v) for k, v in seen.items()}, np.array(energies)


def test_sevennet_levels_and_energy_equal_what_sevenns_own_model_computes():
    X = _structures()
    own, energy = _sevenns_own(X)
    out = SevenNetParent().compute(X, range(len(X)), [*(f"V{k}" for k in range(6)), "energy"])
    for k in range(6):
        ours = np.concatenate(out[f"V{k}"])
        scale = max(1.0, float(np.abs(own[f"V{k}"]).max()))
        np.testing.assert_allclose(ours, own[f"V{k}"], atol=2e-6 * scale, err_msg=f"V{k}")
    np.testing.assert_allclose(np.concatenate(out["energy"]).ravel(), energy, atol=1e-5)


def test_sevennet_batches_give_the_features_of_one_structure_at_a_time():
    X = _structures()
    together = ParentSiteFeaturizer(SevenNetParent(batch_size=16), level=4, cache=False)
    alone = ParentSiteFeaturizer(SevenNetParent(batch_size=1), level=4, cache=False)
    a = together.fit_transform(X).values
    b = alone.fit_transform(X).values
    np.testing.assert_allclose(a, b, atol=1e-5 * np.abs(b).max())


def test_sevennet_cuts_a_batch_at_max_edges_without_changing_features(monkeypatch):
    from skatomsets.parents import sevennet

    X = _structures()
    parent = SevenNetParent(batch_size=16)
    graphs = [parent._graph(s, i) for i, s in enumerate(X)]
    assert parent._batches(graphs) == [(0, 3)]
    whole = parent.compute(X, range(3), ["V2"])["V2"]
    monkeypatch.setattr(sevennet, "MAX_EDGES", len(graphs[0][0]) + 1)
    assert parent._batches(graphs) == [(0, 1), (1, 2), (2, 3)]
    cut = parent.compute(X, range(3), ["V2"])["V2"]
    for a, b in zip(whole, cut, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5 * np.abs(a).max())


def test_sevennet_crystal_is_the_site_mean_of_the_last_level_and_supercells_agree():
    X = _structures()
    last = ParentSiteFeaturizer("sevennet", level=5, cache=False).fit_transform(X)
    vec = ParentStructureFeaturizer("sevennet", cache=False).fit_transform(X)
    assert vec.shape == (3, 128)
    np.testing.assert_allclose(vec[1], last.values[2:4].mean(axis=0), rtol=1e-5, atol=1e-5)
    big = ParentStructureFeaturizer("sevennet", cache=False).fit_transform([X[0] * (2, 1, 1)])
    np.testing.assert_allclose(big[0], vec[0], atol=1e-4)


def test_sevennet_level_0_is_the_sevennet0_element_table_on_formulas_and_structures():
    site = ParentSiteFeaturizer("sevennet", level=0, cache=False).fit_transform(_structures())
    table = ElementEmbeddingFeaturizer("sevennet0").fit_transform(["NaCl", "Si"])
    np.testing.assert_allclose(table.values, site.values[:3], atol=1e-6)  # Na, Cl, Si
    with pytest.raises(MissingFeaturesError, match="element Po has no features"):
        ElementEmbeddingFeaturizer("sevennet0").fit_transform(["Po"])


def test_sevennet_refuses_disordered_structures_and_uncovered_elements_naming_the_row():
    X = _structures()
    X[1] = Structure(Lattice.cubic(4.0), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]])
    with pytest.raises(GraphConstructionError, match=r"row 1: SevenNet needs an ordered"):
        ParentSiteFeaturizer("sevennet", level=1, cache=False).fit_transform(X)
    X[1] = Structure(Lattice.cubic(3.4), ["Po"], [[0, 0, 0]])
    with pytest.raises(GraphConstructionError, match=r"row 1: SevenNet-0 covers 89 .*Po"):
        ParentSiteFeaturizer("sevennet", level=1, cache=False).fit_transform(X)


def test_sevennet_refuses_an_isolated_atom_unless_allowed():
    lonely = Structure(Lattice.cubic(12.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(GraphConstructionError, match=r"row 0: site 0 \(Na\) has no neighbour"):
        ParentSiteFeaturizer("sevennet", level=2, cache=False).fit_transform([lonely])
    parent = SevenNetParent(allow_isolated=True)
    sets = ParentSiteFeaturizer(parent, level=2, cache=False).fit_transform([lonely])
    assert np.isfinite(sets.values).all()


def test_sevennet_features_follow_its_weights_changed_after_fit():
    parent = SevenNetParent()
    feat = ParentSiteFeaturizer(parent, level=1).fit()
    before = feat.transform(_structures()).values.copy()
    with torch.no_grad():
        next(parent.model.parameters()).mul_(1.5)
    after = feat.transform(_structures()).values
    assert np.abs(after - before).max() > 1e-3


@pytest.mark.parametrize("name", ["atomsets-sevennet-v2", "mlp-sevennet", "atomsets-sevennet-v0"])
def test_sevennet_ready_models_fit_and_predict(name):
    X, y = _structures(), np.array([0.1, 0.2, 0.3])
    model = make_model(name, max_epochs=2, random_state=0, device="cpu", batch_size=2)
    pred = model.fit(X, y).predict(X)
    assert pred.shape == (3,) and np.isfinite(pred).all()


def test_missing_sevenn_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sevenn._const", None)
    _pretrained.cache_clear()
    try:
        with pytest.raises(
            ImportError, match=r"'sevenn' package: pip install 'skatomsets\[sevennet\]'"
        ):
            ParentSiteFeaturizer("sevennet", cache=False).fit()
    finally:
        _pretrained.cache_clear()


def test_sevennet_parents_share_the_shipped_network_until_one_takes_it_to_change_it():
    shipped = _pretrained("7net-0")
    parent = SevenNetParent()
    ParentSiteFeaturizer(parent, level=1, cache=False).fit_transform(_structures()[:1])
    assert parent._net is shipped  # featurizing never copies (a copy takes seconds)
    mine = parent.model
    assert mine is not shipped and parent.model is mine
    assert parent.checksum() == SevenNetParent().checksum()  # same weights until changed
