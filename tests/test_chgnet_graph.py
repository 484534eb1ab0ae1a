"""The vectorised CHGNet graphs equal CHGNet's own CrystalGraphConverter, edge for edge."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("chgnet")

from pymatgen.core import Lattice, Structure

from skatomsets.exceptions import SkatomsetsInputError
from skatomsets.featurizers import CHGNetSiteFeaturizer
from skatomsets.parents._chgnet_graph import (
    _codes,
    _neighbor_lists,
    batch_graph,
    edge_arrays,
)
from skatomsets.parents.chgnet import _pretrained


def _tricky() -> list[Structure]:
    """Cells with self-images, several images of one pair, a supercell, a sparse cell."""
    rocksalt = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0] * 3, [0.5] * 3]
    )
    return [
        Structure(Lattice.cubic(2.5), ["Fe"], [[0, 0, 0]]),  # one atom: only self-images
        Structure(
            Lattice.from_parameters(2.0, 2.6, 7.0, 80, 95, 110),
            ["Na", "Cl", "Na"],
            [[0, 0, 0], [0.5, 0.4, 0.5], [0.1, 0.9, 0.3]],
        ),
        rocksalt,
        rocksalt * (2, 1, 1),
        Structure(Lattice.cubic(4.2), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        Structure(Lattice.cubic(5.0), ["Cs"], [[0, 0, 0]]),  # no bond under 3 Å: no angles
        Structure(
            Lattice.hexagonal(2.46, 6.7),
            ["C"] * 4,
            [[0, 0, 0.25], [1 / 3, 2 / 3, 0.25], [0, 0, 0.75], [2 / 3, 1 / 3, 0.75]],
        ),
    ]


def _chgnet_graphs(structures: list[Structure]) -> list:
    from chgnet.graph import CrystalGraphConverter

    conv = CrystalGraphConverter(
        atom_graph_cutoff=6, bond_graph_cutoff=3, on_isolated_atoms="ignore"
    )
    return [conv(s) for s in structures]


def test_graph_arrays_equal_chgnets_converter_for_every_structure_of_a_batch():
    structures = _tricky()
    rows = list(range(len(structures)))
    c, nb, img, d, owner, n = _neighbor_lists(structures, rows, 6.0, allow_isolated=True)
    ours = edge_arrays(c, nb, img, d, owner, n, 3.0, rows)
    atoms = edges = bonds = angles = 0
    for s, g in zip(structures, _chgnet_graphs(structures), strict=True):
        e, u, a = len(g.atom_graph), len(g.undirected2directed), len(g.bond_graph)
        np.testing.assert_array_equal(
            ours.atom_graph[edges : edges + e] - atoms, g.atom_graph.numpy()
        )
        np.testing.assert_array_equal(
            ours.directed2undirected[edges : edges + e] - bonds, g.directed2undirected.numpy()
        )
        np.testing.assert_array_equal(
            ours.undirected2directed[bonds : bonds + u] - edges, g.undirected2directed.numpy()
        )
        shift = np.array([atoms, bonds, edges, bonds, edges])
        np.testing.assert_array_equal(
            ours.bond_graph[angles : angles + a] - shift, g.bond_graph.numpy().reshape(-1, 5)
        )
        atoms, edges, bonds, angles = atoms + len(s), edges + e, bonds + u, angles + a
    assert (atoms, edges, len(ours.bond_graph)) == (n, len(ours.atom_graph), angles)
    assert angles > 1000  # the batch has real angles to compare


def test_features_of_a_batch_with_and_without_angles_match_chgnets_own():
    structures = _tricky()
    own = _pretrained("0.3.0").predict_structure(structures, task="e", return_atom_feas=True)
    v3 = CHGNetSiteFeaturizer(level=3, cache=False).fit_transform(structures)
    np.testing.assert_allclose(
        v3.values, np.concatenate([p["atom_fea"] for p in own]), rtol=0, atol=1e-5
    )


def test_batch_graph_of_a_cell_without_angles_has_an_empty_bond_graph():
    g = batch_graph(_pretrained("0.3.0"), [Structure(Lattice.cubic(5.0), ["Cs"], [[0, 0, 0]])], [0])
    assert g.batched_bond_graph.numel() == 0 and g.angle_bases.numel() == 0
    assert len(g.directed2undirected) == 2 * len(g.bond_bases_ag) > 0


def test_isolated_atom_error_names_the_row_and_the_site():
    lonely = Structure(Lattice.cubic(20.0), ["Na", "Cl"], [[0, 0, 0], [0.1, 0, 0]])
    lonely.append("K", [0.5, 0.5, 0.5])
    with pytest.raises(SkatomsetsInputError, match=r"row 7: .*1 isolated atom\(s\) \(site 2\)"):
        batch_graph(_pretrained("0.3.0"), [lonely], [7])
    g = batch_graph(_pretrained("0.3.0"), [lonely], [7], allow_isolated=True)
    assert len(g.atomic_numbers) == 3


def test_a_bond_without_its_reverse_is_an_error_naming_the_row():
    structures = _tricky()[:3]
    c, nb, img, d, owner, n = _neighbor_lists(structures, [4, 5, 6], 6.0, allow_isolated=True)
    drop = np.flatnonzero(owner == 1)[3]  # lose one directed edge of the second structure
    keep = np.arange(len(c)) != drop
    with pytest.raises(SkatomsetsInputError, match=r"row 5: .*has no reverse"):
        edge_arrays(c[keep], nb[keep], img[keep], d[keep], owner[keep], n, 3.0, [4, 5, 6])


def test_edge_codes_are_equal_exactly_for_equal_edges_even_when_too_wide_for_one_integer():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    for span in (2, 10**6):  # the second forces the row-numbering fallback
        image = rng.integers(-1, 2, (200, 3)) * span
        codes = _codes(a, b, image, n_atoms=2**20)
        rows = np.column_stack([a, b, image])
        same_rows = (rows[:, None, :] == rows[None, :, :]).all(-1)
        np.testing.assert_array_equal(codes[:, None] == codes[None, :], same_rows)


def test_bases_of_a_batch_are_chgnets_to_the_bit():
    import torch
    from chgnet.model.model import BatchedGraph

    model, structures = _pretrained("0.3.0"), _tricky()
    with torch.inference_mode():
        ours = batch_graph(model, structures, list(range(len(structures))))
        ref = BatchedGraph.from_graphs(
            _chgnet_graphs(structures),
            bond_basis_expansion=model.bond_basis_expansion,
            angle_basis_expansion=model.angle_basis_expansion,
        )
    for field in ("bond_bases_ag", "bond_bases_bg", "angle_bases", "directed2undirected"):
        assert torch.equal(getattr(ours, field), getattr(ref, field)), field
    assert torch.equal(ours.batched_atom_graph, ref.batched_atom_graph)
    assert torch.equal(ours.batched_bond_graph, ref.batched_bond_graph)
    assert torch.equal(ours.atom_owners, ref.atom_owners)


@pytest.mark.parametrize(
    "name",
    [
        "dielectric_constant.json.gz",
        "elastic_tensor_2015.json.gz",
        "flla_2015.json.gz",
        "matbench_perovskites_partial.json.gz",
    ],
)
def test_graph_arrays_equal_chgnets_converter_on_real_structures(shared_data, name):
    import gzip
    import json

    with gzip.open(shared_data / "structures" / name, "rt") as fh:
        structures = [Structure.from_dict(r["structure"]) for r in json.load(fh)[:60]]
    rows = list(range(len(structures)))
    c, nb, img, d, owner, n = _neighbor_lists(structures, rows, 6.0, allow_isolated=True)
    ours = edge_arrays(c, nb, img, d, owner, n, 3.0, rows)
    graphs = _chgnet_graphs(structures)
    atoms = np.cumsum([0] + [len(s) for s in structures])[:-1]
    edges = np.cumsum([0] + [len(g.atom_graph) for g in graphs])[:-1]
    bonds = np.cumsum([0] + [len(g.undirected2directed) for g in graphs])[:-1]
    ref_bond_graph = np.concatenate(
        [
            g.bond_graph.numpy().reshape(-1, 5) + np.array([a, u, e, u, e])
            for g, a, e, u in zip(graphs, atoms, edges, bonds, strict=True)
        ]
    )
    ref_d2u = np.concatenate(
        [g.directed2undirected.numpy() + u for g, u in zip(graphs, bonds, strict=True)]
    )
    np.testing.assert_array_equal(ours.bond_graph, ref_bond_graph)
    np.testing.assert_array_equal(ours.directed2undirected, ref_d2u)
