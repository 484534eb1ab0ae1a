"""CHGNet's crystal graphs for many structures at once, in a few vectorised numpy passes.

CHGNet's own ``CrystalGraphConverter`` builds one graph per structure through Python
objects (a node per atom, an edge object per directed and undirected bond, a Python loop
over every bond pair for the angles), and ``BatchedGraph.from_graphs`` then runs the bond
and angle encoders once per structure. On the structure sets here that was about half of
the featurization time. This module computes the same graph for a whole batch:

1. the neighbour list of every structure, exactly CHGNet's call
   (``Structure.get_neighbor_list(r=atom_cutoff, sites=..., numerical_tol=1e-8)``): one
   *directed* edge per row, concatenated over the batch (atom indices offset per
   structure, as CHGNet's batching does);
2. every directed edge ``i -> j`` (image ``n``) paired with its reverse ``j -> i`` (image
   ``-n``) by sorting one integer code per edge; the pair is one *undirected* bond,
   numbered in the order of its first directed edge (CHGNet's numbering);
3. the bond graph (the angles): for every undirected bond no longer than the bond cutoff,
   at each of its two ends, one row per other directed edge leaving that atom shorter than
   the cutoff, in CHGNet's order (the atom's neighbours in order of first appearance,
   then edge order), generated with ``np.repeat`` over a CSR layout of the edges by atom;
4. the bond vectors of the whole batch at once, then CHGNet's own bond and angle encoders
   on each structure's slice (their vectorised kernels round an element differently in the
   vector body and in the scalar tail, so the same slices are what give CHGNet's bits).

The arrays are identical to CHGNet's (``tests/test_chgnet_graph.py`` compares them with
``CrystalGraphConverter`` on structures with periodic self-images, several images of one
pair and isolated atoms), and so are the bases and the features (to the bit on the 3,938 flla
structures, ``scripts/bench_chgnet_featurize.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _csr
from ..exceptions import GraphConstructionError

__all__ = ["BatchGraph", "batch_graph", "edge_arrays"]


@dataclass
class BatchGraph:
    """What CHGNet's energy path reads from a batch of crystal graphs (torch tensors).

    Field names are those of ``chgnet.model.model.BatchedGraph``.
    """

    atomic_numbers: Any
    bond_bases_ag: Any
    bond_bases_bg: Any
    angle_bases: Any
    batched_atom_graph: Any
    batched_bond_graph: Any
    atom_owners: Any
    directed2undirected: Any


@dataclass
class EdgeArrays:
    """CHGNet's graph of a batch as numpy arrays (global atom / edge indices).

    ``atom_graph`` (E, 2) center and neighbour atom of each directed edge; ``image`` (E, 3)
    the neighbour's periodic image; ``directed2undirected`` (E,); ``undirected2directed``
    (U,), the first directed edge of each undirected bond; ``bond_graph`` (A, 5) CHGNet's
    line-graph rows ``[atom, undirected i, directed i, undirected j, directed j]``.
    """

    atom_graph: np.ndarray
    image: np.ndarray
    directed2undirected: np.ndarray
    undirected2directed: np.ndarray
    bond_graph: np.ndarray


def _neighbor_lists(
    structures: Sequence[Any], rows: Sequence[int], cutoff: float, allow_isolated: bool
) -> tuple[np.ndarray, ...]:
    """Directed edges of every structure, concatenated (atom indices offset per structure)."""
    centers, neighbors, images, distances, owners = [], [], [], [], []
    offset = 0
    for k, (s, row) in enumerate(zip(structures, rows, strict=True)):
        n = len(s)
        try:
            c, nb, img, d = s.get_neighbor_list(r=cutoff, sites=s.sites, numerical_tol=1e-8)
        except Exception as exc:
            raise GraphConstructionError(f"cannot build the CHGNet graph: {exc}", row) from None
        c = np.asarray(c, dtype=np.int64)
        if not allow_isolated and n:
            lonely = np.flatnonzero(np.bincount(c, minlength=n) == 0)
            if len(lonely):
                raise GraphConstructionError(
                    f"cannot build the CHGNet graph: {len(lonely)} isolated atom(s) (site "
                    f"{', '.join(map(str, lonely[:5].tolist()))}) with no neighbour within "
                    f"{cutoff:g} Å; allow_isolated=True accepts them",
                    row,
                )
        centers.append(c + offset)
        neighbors.append(np.asarray(nb, dtype=np.int64) + offset)
        images.append(np.asarray(img, dtype=np.int64).reshape(-1, 3))
        distances.append(np.asarray(d, dtype=np.float64))
        owners.append(np.full(len(c), k, dtype=np.int64))
        offset += n
    cat = np.concatenate
    return cat(centers), cat(neighbors), cat(images), cat(distances), cat(owners), offset


def _codes(a: np.ndarray, b: np.ndarray, image: np.ndarray, n_atoms: int) -> np.ndarray:
    """One int64 per (a, b, image) triple, equal exactly when the triples are equal."""
    span = int(np.abs(image).max(initial=0)) * 2 + 1
    if (n_atoms + 1) ** 2 * span**3 >= 2**62:  # too wide for one int64: number the rows
        rows = np.column_stack([a, b, image])
        return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
    shifted = image + span // 2
    img = (shifted[:, 0] * span + shifted[:, 1]) * span + shifted[:, 2]
    return (a * n_atoms + b) * span**3 + img


def edge_arrays(
    center: np.ndarray,
    neighbor: np.ndarray,
    image: np.ndarray,
    distance: np.ndarray,
    owner: np.ndarray,
    n_atoms: int,
    bond_cutoff: float,
    rows: Sequence[int],
) -> EdgeArrays:
    """CHGNet's atom graph, bond pairing and line graph from concatenated directed edges.

    ``owner`` is each edge's structure (position in ``rows``, for error messages).
    """
    n_edges = len(center)
    # --- pair every directed edge with its reverse (same bond, seen from the other end)
    codes = _codes(
        np.concatenate([center, neighbor]),
        np.concatenate([neighbor, center]),
        np.concatenate([image, -image]),
        n_atoms,
    )
    code, reverse_code = codes[:n_edges], codes[n_edges:]
    order = np.argsort(code, kind="stable")
    pos = np.searchsorted(code[order], reverse_code).clip(max=max(n_edges - 1, 0))
    reverse = order[pos] if n_edges else pos
    unpaired = code[reverse] != reverse_code if n_edges else np.zeros(0, bool)
    if unpaired.any():
        k = int(np.flatnonzero(unpaired)[0])
        raise GraphConstructionError(
            "cannot build the CHGNet graph: the bond from site "
            f"{center[k]} to site {neighbor[k]} has no reverse in the neighbour list "
            "(a distance within rounding of the cutoff)",
            rows[int(owner[k])],
        )
    # --- undirected bonds, numbered in the order of their first directed edge
    first = reverse > np.arange(n_edges)
    undirected2directed = np.flatnonzero(first)
    number = np.cumsum(first) - 1
    directed2undirected = number[np.minimum(np.arange(n_edges), reverse)]
    # --- the line graph: angles between bonds shorter than the bond cutoff sharing an atom
    short = np.flatnonzero(distance < bond_cutoff)  # edges that can be the second bond
    # CHGNet's order of the edges leaving an atom: neighbours in order of first appearance,
    # then edge order (its per-atom dict of neighbour -> edges, in insertion order)
    # (the first appearance is over all edges, short or not, as CHGNet's dict keys are)
    pair = center * n_atoms + neighbor
    _, first_of_pair, inverse = np.unique(pair, return_index=True, return_inverse=True)
    group = first_of_pair[inverse.reshape(-1)][short]
    by_atom = short[np.lexsort((short, group, center[short]))]
    starts = _csr.offsets_from_counts(np.bincount(center[by_atom], minlength=n_atoms))
    # anchors: each short undirected bond (distance of its first edge <= cutoff) at its
    # first edge's atom, then at its reverse edge's atom
    bonds = undirected2directed[distance[undirected2directed] <= bond_cutoff]
    anchor = np.column_stack([bonds, reverse[bonds]]).reshape(-1)
    atom = center[anchor]
    index, offsets = _csr.ranges(starts[atom], starts[atom + 1] - starts[atom])
    rep = _csr.segment_ids(offsets)  # the anchor of each row
    other = by_atom[index]
    keep = other != anchor[rep]
    rep, other = rep[keep], other[keep]
    a = anchor[rep]
    bond_graph = np.column_stack(
        [center[a], directed2undirected[a], a, directed2undirected[other], other]
    )
    return EdgeArrays(
        atom_graph=np.column_stack([center, neighbor]),
        image=image,
        directed2undirected=directed2undirected,
        undirected2directed=undirected2directed,
        bond_graph=bond_graph.reshape(-1, 5),
    )


def _bounds(owner: np.ndarray, n: int) -> np.ndarray:
    """Offsets of the ``n`` structures' items, given each item's structure (grouped)."""
    return _csr.offsets_from_counts(np.bincount(owner, minlength=n))


def batch_graph(
    model: Any, structures: Sequence[Any], rows: Sequence[int], allow_isolated: bool = False
) -> BatchGraph:
    """The inputs of CHGNet's energy path for a batch of ordered structures.

    Parameters
    ----------
    model : chgnet.model.CHGNet
        Supplies the cutoffs and the bond / angle encoders.
    structures : sequence of pymatgen Structure
    rows : sequence of int
        Each structure's row in the user's input, for error messages.
    allow_isolated : bool, default=False
        Accept atoms without a neighbour within the atom-graph cutoff.
    """
    import torch

    conv = model.graph_converter
    center, neighbor, image, distance, owner, n_atoms = _neighbor_lists(
        structures, rows, conv.atom_graph_cutoff, allow_isolated
    )
    e = edge_arrays(center, neighbor, image, distance, owner, n_atoms, conv.bond_graph_cutoff, rows)
    n = len(structures)
    atom_bounds = _csr.offsets_from_counts([len(s) for s in structures])
    atom_owner = _csr.segment_ids(atom_bounds)
    f32 = torch.float32
    z = np.concatenate([[site.specie.Z for site in s] for s in structures]).astype(np.int32)
    frac = torch.from_numpy(np.concatenate([s.frac_coords for s in structures])).to(f32)
    lattice = torch.from_numpy(np.stack([s.lattice.matrix for s in structures])).to(f32)
    # as CHGNet, per structure (the same float32 products): cart = frac @ lattice and the
    # neighbour's shift image @ lattice
    edge_bounds = _bounds(owner, n)
    img = torch.from_numpy(e.image).to(f32)
    cart = torch.cat(
        [
            frac[a:b] @ lattice[k]
            for k, (a, b) in enumerate(itertools.pairwise(atom_bounds.tolist()))
        ]
    )
    shift = torch.cat(
        [img[a:b] @ lattice[k] for k, (a, b) in enumerate(itertools.pairwise(edge_bounds.tolist()))]
    )
    ag = torch.from_numpy(e.atom_graph)
    vectors = cart[ag[:, 0]] - (cart[ag[:, 1]] + shift)
    lengths = torch.norm(vectors, dim=1)
    vectors = vectors / lengths[:, None]
    undirected = lengths[torch.from_numpy(e.undirected2directed)]
    # the encoders once per structure, as CHGNet: their vectorised kernels round an element
    # differently in the vector body and in the scalar tail, so only the same slices give
    # CHGNet's bits
    bond_bounds = _bounds(owner[e.undirected2directed], n)
    bg = torch.from_numpy(e.bond_graph)
    angle_bounds = _bounds(owner[e.bond_graph[:, 2]], n)
    enc = model.bond_basis_expansion
    bases_ag, bases_bg, angles = [], [], []
    for (u0, u1), (a0, a1) in zip(
        itertools.pairwise(bond_bounds.tolist()),
        itertools.pairwise(angle_bounds.tolist()),
        strict=True,
    ):
        u = undirected[u0:u1]
        bases_ag.append(enc.rbf_expansion_ag(u))
        bases_bg.append(enc.rbf_expansion_bg(u))
        a = bg[a0:a1]
        if len(a):
            angles.append(model.angle_basis_expansion(vectors[a[:, 2]], vectors[a[:, 4]]))
    if angles:
        angle_bases = torch.cat(angles)
        batched_bond_graph = bg[:, [0, 1, 3]].to(torch.int32)
    else:
        angle_bases = torch.tensor([])
        batched_bond_graph = torch.tensor([])
    return BatchGraph(
        atomic_numbers=torch.from_numpy(z),
        bond_bases_ag=torch.cat(bases_ag),
        bond_bases_bg=torch.cat(bases_bg),
        angle_bases=angle_bases,
        batched_atom_graph=ag.to(torch.int32),
        batched_bond_graph=batched_bond_graph,
        atom_owners=torch.from_numpy(atom_owner.astype(np.int32)),
        directed2undirected=torch.from_numpy(e.directed2undirected.astype(np.int32)),
    )
