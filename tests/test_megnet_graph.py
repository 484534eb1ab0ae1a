"""Tests of the MEGNet graph construction."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from pymatgen.util import testing as pmg_testing

from skatomsets.megnet import GraphBatch, GraphConstructionError, build_graphs, load_pretrained

_PMG = getattr(pmg_testing, "MatSciTest", None) or pmg_testing.PymatgenTest
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FLLA = SHARED / "structures" / "flla_2015.json.gz"


def pmg_structure(name: str) -> Structure:
    """A pymatgen test structure (``MatSciTest`` replaces ``PymatgenTest`` in new pymatgen)."""
    return _PMG.get_structure(name)


@pytest.fixture(scope="module")
def flla() -> list[Structure]:
    if not FLLA.exists():
        pytest.skip("../shared/data is not available")
    with gzip.open(FLLA, "rt") as fh:
        records = json.load(fh)
    return [Structure.from_dict(r["structure"]) for r in records[:60]]


def test_bonds_are_symmetric_and_within_cutoff() -> None:
    g = build_graphs([pmg_structure("Li2O")])
    assert g.n_graphs == 1 and g.n_sites == 3
    assert g.distance.max() <= 5.0 + 1e-8 and g.distance.min() > 0
    fwd = sorted(zip(g.src, g.dst, np.round(g.distance, 6), strict=True))
    rev = sorted(zip(g.dst, g.src, np.round(g.distance, 6), strict=True))
    assert fwd == rev
    assert np.all(np.diff(g.src) >= 0)
    np.testing.assert_array_equal(g.species_z, [8, 3, 3])
    np.testing.assert_array_equal(g.site_weight, 1.0)


def test_one_site_structure_has_self_image_bonds() -> None:
    s = Structure(Lattice.cubic(3.0), ["Cu"], [[0, 0, 0]])
    g = build_graphs([s])
    assert g.n_bonds > 0 and np.all(g.src == 0) and np.all(g.dst == 0)
    assert g.distance.min() == pytest.approx(3.0)


def test_isolated_atom_error_names_row_and_site() -> None:
    ok = pmg_structure("CsCl")
    lonely = Structure(Lattice.cubic(20.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(GraphConstructionError, match=r"row 1: site 0 \(Na\) has no neighbour"):
        build_graphs([ok, lonely])
    with pytest.raises(ValueError, match="row 11"):
        build_graphs([lonely], row_offset=11)


def test_element_outside_embedding() -> None:
    s = Structure(Lattice.cubic(3.0), ["Na", "Am"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(GraphConstructionError, match=r"row 0: site 1 \(Am\) has atomic number 95"):
        build_graphs([s])


def test_non_structure_input() -> None:
    with pytest.raises(GraphConstructionError, match="row 1: expected a pymatgen Structure"):
        build_graphs([pmg_structure("CsCl"), "NaCl"])
    with pytest.raises(ValueError, match="row 0: structure has no sites"):
        build_graphs([Structure(Lattice.cubic(3.0), [], [])])
    empty = build_graphs([])
    assert empty.n_graphs == 0 and empty.state.shape == (0, 2)


def test_allow_isolated_gives_zero_messages() -> None:
    lonely = Structure(Lattice.cubic(20.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    g = build_graphs([pmg_structure("CsCl"), lonely], allow_isolated=True)
    assert g.n_graphs == 2 and g.bond_offsets[2] == g.bond_offsets[1]
    with torch.no_grad():
        out = load_pretrained().features(g.to_torch())
    assert torch.isfinite(out["f"]).all() and torch.isfinite(out["V3"]).all()
    # q* = [h, r] of the bond Set2Set: r (attention-weighted bond sum) is zero without bonds
    torch.testing.assert_close(out["f"][1, 48:64], torch.zeros(16))


def test_disordered_site_is_mean_embedding() -> None:
    lat = Lattice.cubic(4.2)
    coords = [[0, 0, 0], [0.5, 0.5, 0.5]]
    mixed = Structure(lat, [{"Na": 0.25, "K": 0.5}, "Cl"], coords)  # 25 % vacancy on site 0
    g = build_graphs([mixed])
    np.testing.assert_array_equal(g.species_z, [11, 19, 17])
    np.testing.assert_array_equal(g.species_site, [0, 0, 1])
    np.testing.assert_allclose(g.species_frac, [1 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(g.site_weight, [0.75, 1.0])
    model = load_pretrained().double()
    emb = model.embedding.weight.detach().numpy()
    with torch.no_grad():
        out = model.features(g.to_torch(dtype=torch.float64), keys=("V0", "V1", "f"))
    np.testing.assert_allclose(out["V0"][0].numpy(), emb[11] / 3 + 2 * emb[19] / 3, atol=1e-7)
    np.testing.assert_allclose(out["V0"][1].numpy(), emb[17], atol=1e-7)
    # same geometry: an ordered site with that embedding gives the same result
    pure = build_graphs([Structure(lat, ["Na", "Cl"], coords)])
    np.testing.assert_array_equal(pure.distance, g.distance)
    assert np.isfinite(out["f"].numpy()).all()


def test_slicing_and_concatenate_roundtrip() -> None:
    structures = [pmg_structure(n) for n in ("Li2O", "CsCl", "LiFePO4", "Si")]
    g = build_graphs(structures)
    assert len(g) == 4
    parts = list(g.chunks(3))
    assert [len(p) for p in parts] == [3, 1]
    joined = GraphBatch.concatenate(parts)
    for name in GraphBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(joined, name), getattr(g, name), err_msg=name)
    one = g[2:3]
    ref = build_graphs([structures[2]])
    for name in GraphBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(one, name), getattr(ref, name), err_msg=name)
    tg = g.to_torch()
    assert tg.n_graphs == 4 and tg.site_graph.shape == (g.n_sites,)
    assert tg.distance.dtype == torch.float64 and tg.state.dtype == torch.float32


@pytest.mark.data
def test_flla_batches_match_single(flla) -> None:
    model = load_pretrained()
    g = build_graphs(flla)
    with torch.no_grad():
        full = model.features(g.to_torch(), keys=("V3", "f"))
        parts = [model.features(c.to_torch(), keys=("V3", "f")) for c in g.chunks(7)]
    f = torch.cat([p["f"] for p in parts])
    v3 = torch.cat([p["V3"] for p in parts])
    torch.testing.assert_close(full["f"], f, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(full["V3"], v3, atol=1e-5, rtol=1e-5)


def test_torch_batch_has_len_and_moves_as_one_piece() -> None:
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    t = build_graphs([s, s, s]).to_torch()
    assert len(t) == 3 and t.n_sites == 6
    moved = t.to("cpu")
    assert type(moved) is type(t) and moved.n_graphs == 3
    assert torch.equal(moved.src, t.src) and moved.distance.dtype == torch.float64
