"""Crystal graphs for MEGNet, built for many structures at once.

A crystal becomes a graph whose nodes are its sites and whose directed edges ("bonds") join
every ordered pair of sites closer than the cutoff (5 Å for the pretrained models), periodic
images included, both directions. Many graphs are stored in one flat :class:`GraphBatch`
(numpy; the CSR layout of :mod:`skatomsets._csr`, three offsets: sites, bonds, species
entries), which can be sliced into chunks and handed to torch in one piece with
:meth:`GraphBatch.to_torch`, giving its torch mirror :class:`TorchGraphBatch` (the input of
:class:`~skatomsets.megnet.MEGNet`, and the mini-batch the MEGNet estimators train on).

Disordered sites
----------------
A site may hold several species with partial occupancies. The graph then keeps one *species
entry* per (site, species) pair, with the fraction ``occupancy / total site occupancy``; the
model embeds such a site as the fraction-weighted **mean of its species' embeddings**. The
total occupancy of a site (1 for an ordered site, < 1 with vacancies) is stored as the site
weight, which the site featurizer passes on to :class:`~skatomsets.sets.RaggedSets`. Geometry
(neighbours, distances) is that of the site position, whatever it holds. For ordered
structures this is exactly the original MEGNet input.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _csr
from ..exceptions import GraphConstructionError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "PRETRAINED_MAX_Z",
    "GraphBatch",
    "GraphConstructionError",
    "TorchGraphBatch",
    "build_graphs",
    "check_full_occupancy",
    "structure_to_graph",
]

#: Largest atomic number the shipped MEGNet's element embedding covers (its 95 rows are
#: Z = 0..94): the default of ``max_z``. A network's own range is ``config.n_elements - 1``;
#: the periodic table's is :data:`skatomsets.io.materials.MAX_Z` (118).
PRETRAINED_MAX_Z = 94
_SELF_TOL = 1e-8


@dataclass
class TorchGraphBatch:
    """A :class:`GraphBatch` as torch tensors, ready for :class:`~skatomsets.megnet.MEGNet`.

    The torch mirror of a :class:`GraphBatch` (on a device, floats in the model's dtype, the
    per-site and per-bond graph index expanded); also the mini-batch that the MEGNet
    estimators hand to skorch (``len`` is the number of graphs, :meth:`to` moves it).

    Attributes
    ----------
    species_z, species_site, species_frac : torch.Tensor
        Species entries: atomic number, (batch-global) site index and fraction of the site.
    site_graph : torch.Tensor
        Graph index of every site, shape (n_sites,).
    src, dst : torch.Tensor
        Bond end points (batch-global site indices), shape (n_bonds,). Messages of bond
        ``k`` are pooled onto ``src[k]``.
    distance : torch.Tensor
        Bond lengths in Å, shape (n_bonds,), float64.
    bond_graph : torch.Tensor
        Graph index of every bond, shape (n_bonds,).
    state : torch.Tensor
        State (global) input, shape (n_graphs, n_state_features).
    n_sites : int
    n_graphs : int
    """

    species_z: torch.Tensor
    species_site: torch.Tensor
    species_frac: torch.Tensor
    site_graph: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor
    distance: torch.Tensor
    bond_graph: torch.Tensor
    state: torch.Tensor
    n_sites: int
    n_graphs: int

    def __len__(self) -> int:
        return self.n_graphs

    def to(self, device: str | torch.device) -> TorchGraphBatch:
        """The same graphs with every tensor on ``device`` (non-blocking where possible)."""
        import torch

        fields = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            fields[f.name] = v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
        return type(self)(**fields)


@dataclass
class GraphBatch:
    """Many crystal graphs in flat numpy arrays.

    The graph counterpart of :class:`~skatomsets.sets.RaggedSets`: besides its sites, each
    graph has bonds (edges between sites) and species entries, so it needs three offsets
    where a set needs one. Built by :func:`build_graphs`; consumed through
    :meth:`to_torch`.

    All index arrays are global to the batch; graph ``g`` owns sites
    ``site_offsets[g]:site_offsets[g+1]``, bonds ``bond_offsets[g]:bond_offsets[g+1]`` and
    species entries ``species_offsets[g]:species_offsets[g+1]``.

    Attributes
    ----------
    species_z : ndarray of int64, shape (n_entries,)
        Atomic number of each species entry (one per site for ordered structures).
    species_site : ndarray of int64, shape (n_entries,)
        Site the entry belongs to.
    species_frac : ndarray of float64, shape (n_entries,)
        Occupancy of the entry divided by the total occupancy of its site.
    site_weight : ndarray of float64, shape (n_sites,)
        Total occupancy of each site (1.0 for ordered sites).
    src, dst : ndarray of int64, shape (n_bonds,)
        Bond end points; each neighbour pair appears in both directions.
    distance : ndarray of float64, shape (n_bonds,)
        Bond lengths in Å.
    state : ndarray of float64, shape (n_graphs, n_state_features)
        State input (``[0, 0]`` for the pretrained crystal models).
    site_offsets, bond_offsets, species_offsets : ndarray of int64, shape (n_graphs + 1,)
        CSR offsets of each graph's sites, bonds and species entries.
    """

    species_z: np.ndarray
    species_site: np.ndarray
    species_frac: np.ndarray
    site_weight: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    distance: np.ndarray
    state: np.ndarray
    site_offsets: np.ndarray
    bond_offsets: np.ndarray
    species_offsets: np.ndarray

    @property
    def n_graphs(self) -> int:
        """Number of graphs in the batch."""
        return len(self.site_offsets) - 1

    @property
    def n_sites(self) -> int:
        """Total number of sites."""
        return int(self.site_offsets[-1])

    @property
    def n_bonds(self) -> int:
        """Total number of (directed) bonds."""
        return int(self.bond_offsets[-1])

    def __len__(self) -> int:
        return self.n_graphs

    @property
    def site_graph(self) -> np.ndarray:
        """Graph index of every site, shape (n_sites,)."""
        return _csr.segment_ids(self.site_offsets)

    @property
    def bond_graph(self) -> np.ndarray:
        """Graph index of every bond, shape (n_bonds,)."""
        return _csr.segment_ids(self.bond_offsets)

    def __getitem__(self, key: slice) -> GraphBatch:
        """Graphs ``key`` (a slice with step 1) as a new batch, indices renumbered."""
        if not isinstance(key, slice):
            raise TypeError("GraphBatch supports slicing only, e.g. batch[100:200]")
        start, stop, step = key.indices(self.n_graphs)
        if step != 1:
            raise ValueError("GraphBatch slices must have step 1")
        stop = max(stop, start)
        s0, s1 = self.site_offsets[start], self.site_offsets[stop]
        b0, b1 = self.bond_offsets[start], self.bond_offsets[stop]
        e0, e1 = self.species_offsets[start], self.species_offsets[stop]
        return GraphBatch(
            species_z=self.species_z[e0:e1],
            species_site=self.species_site[e0:e1] - s0,
            species_frac=self.species_frac[e0:e1],
            site_weight=self.site_weight[s0:s1],
            src=self.src[b0:b1] - s0,
            dst=self.dst[b0:b1] - s0,
            distance=self.distance[b0:b1],
            state=self.state[start:stop],
            site_offsets=self.site_offsets[start : stop + 1] - s0,
            bond_offsets=self.bond_offsets[start : stop + 1] - b0,
            species_offsets=self.species_offsets[start : stop + 1] - e0,
        )

    def chunks(self, size: int) -> Iterable[GraphBatch]:
        """Consecutive sub-batches of at most ``size`` graphs."""
        if size < 1:
            raise ValueError(f"chunk size must be >= 1, got {size}")
        for start in range(0, self.n_graphs, size):
            yield self[start : start + size]

    @classmethod
    def concatenate(cls, batches: Sequence[GraphBatch]) -> GraphBatch:
        """Join batches graph after graph (indices shifted)."""
        if not batches:
            raise ValueError("need at least one GraphBatch to concatenate")
        if len(batches) == 1:
            return batches[0]
        site_offsets, site_shift = _csr.concat_offsets([b.site_offsets for b in batches])
        bond_offsets, _ = _csr.concat_offsets([b.bond_offsets for b in batches])
        species_offsets, _ = _csr.concat_offsets([b.species_offsets for b in batches])
        return cls(
            species_z=np.concatenate([b.species_z for b in batches]),
            species_site=np.concatenate(
                [b.species_site + s for b, s in zip(batches, site_shift, strict=True)]
            ),
            species_frac=np.concatenate([b.species_frac for b in batches]),
            site_weight=np.concatenate([b.site_weight for b in batches]),
            src=np.concatenate([b.src + s for b, s in zip(batches, site_shift, strict=True)]),
            dst=np.concatenate([b.dst + s for b, s in zip(batches, site_shift, strict=True)]),
            distance=np.concatenate([b.distance for b in batches]),
            state=np.concatenate([b.state for b in batches]),
            site_offsets=site_offsets,
            bond_offsets=bond_offsets,
            species_offsets=species_offsets,
        )

    def to_torch(self, dtype: Any = None, device: Any = None) -> TorchGraphBatch:
        """Convert to torch tensors.

        Parameters
        ----------
        dtype : torch.dtype, optional
            Floating dtype of fractions and state (default ``torch.float32``). Distances stay
        float64: the model expands them in float64 and casts the result.
        device : torch.device or str, optional
            Target device (default CPU).
        """
        import torch

        dtype = torch.float32 if dtype is None else dtype

        def idx(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(a, dtype=np.int64), device=device)

        def flt(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(a), device=device).to(dtype)

        return TorchGraphBatch(
            species_z=idx(self.species_z),
            species_site=idx(self.species_site),
            species_frac=flt(self.species_frac),
            site_graph=idx(self.site_graph),
            src=idx(self.src),
            dst=idx(self.dst),
            distance=torch.as_tensor(np.asarray(self.distance, dtype=np.float64), device=device),
            bond_graph=idx(self.bond_graph),
            state=flt(self.state),
            n_sites=self.n_sites,
            n_graphs=self.n_graphs,
        )


def _empty_batch(n_state: int = 2) -> GraphBatch:
    i64, f64 = np.zeros(0, dtype=np.int64), np.zeros(0)
    zero = np.zeros(1, dtype=np.int64)
    return GraphBatch(
        species_z=i64,
        species_site=i64,
        species_frac=f64,
        site_weight=f64,
        src=i64,
        dst=i64,
        distance=f64,
        state=np.zeros((0, n_state)),
        site_offsets=zero,
        bond_offsets=zero.copy(),
        species_offsets=zero.copy(),
    )


def _species_entries(structure: Any, row: int, max_z: int) -> tuple[np.ndarray, ...]:
    """Atomic numbers, site index, fraction per entry and total occupancy per site."""
    n = len(structure)
    if structure.is_ordered:
        z = np.fromiter((site.specie.Z for site in structure), dtype=np.int64, count=n)
        site = np.arange(n, dtype=np.int64)
        frac = np.ones(n)
        weight = np.ones(n)
    else:
        zs, sites, occs = [], [], []
        for i, s in enumerate(structure):
            for sp, occ in s.species.items():
                zs.append(sp.Z)
                sites.append(i)
                occs.append(float(occ))
        z = np.asarray(zs, dtype=np.int64)
        site = np.asarray(sites, dtype=np.int64)
        occ = np.asarray(occs)
        weight = np.bincount(site, weights=occ, minlength=n)
        if (weight <= 0).any():
            j = int(np.flatnonzero(weight <= 0)[0])
            raise GraphConstructionError(f"site {j} has zero occupancy", row)
        frac = occ / weight[site]
    bad = (z < 1) | (z > max_z)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        j = int(site[k])
        if any(type(sp).__name__ == "DummySpecies" for sp in structure[j].species):
            raise GraphConstructionError(
                f"site {j} ({structure[j].species_string}) holds a dummy species, not a "
                "chemical element",
                row,
            )
        raise GraphConstructionError(
            f"site {j} ({structure[j].species_string}) has atomic number {int(z[k])}, "
            f"outside the model's element embedding (1..{max_z})",
            row,
        )
    return z, site, frac, weight


#: Two sites closer than this (Å) are taken as overlapping atoms (shortest real bond: H2, 0.74).
MIN_DISTANCE = 0.5


def _check_lattice(structure: Any, row: int) -> None:
    """Raise, before any neighbour search, if the cell is too small for real atoms.

    A site closer than :data:`MIN_DISTANCE` to its own periodic image (a lattice vector that
    short), or less volume per site than spheres of that diameter need in the densest
    packing, means overlapping atoms, typically a lattice given in nm instead of Å; the
    neighbour list of such a cell would be huge (a 0.1 Å cubic cell: 500 000 bonds, 1 GB).
    """
    lattice = structure.lattice
    volume_per_site = abs(float(lattice.volume)) / len(structure)
    if volume_per_site < MIN_DISTANCE**3 / math.sqrt(2):
        raise GraphConstructionError(
            f"the cell holds {volume_per_site:.3g} Å^3 per site, too little for atoms at least "
            f"{MIN_DISTANCE} Å apart (overlapping atoms; is the lattice in nm instead of Å?)",
            row,
        )
    # every lattice vector is at least as long as the smallest layer spacing (volume over
    # the area of a cell face): checked in plain Python, ~100x faster than numpy on 3x3
    a, b, c = lattice.matrix.tolist()
    largest_face = max(_cross_norm(b, c), _cross_norm(c, a), _cross_norm(a, b))
    if volume_per_site * len(structure) >= MIN_DISTANCE * largest_face:
        return
    basis = lattice.get_lll_reduced_lattice().matrix
    combos = np.array(
        [
            (i, j, k)
            for i in (-1, 0, 1)
            for j in (-1, 0, 1)
            for k in (-1, 0, 1)
            if (i, j, k) > (0, 0, 0)
        ]
    )
    shortest = float(np.linalg.norm(combos @ basis, axis=1).min())
    if shortest < MIN_DISTANCE:
        raise GraphConstructionError(
            f"every site is {shortest:.3f} Å from its own periodic image (a lattice vector "
            f"shorter than {MIN_DISTANCE} Å: overlapping atoms; is the lattice in nm instead "
            "of Å?)",
            row,
        )


def _cross_norm(u: list[float], v: list[float]) -> float:
    return math.hypot(
        u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]
    )


def _check_overlap(
    structure: Any, src: np.ndarray, dst: np.ndarray, dist: np.ndarray, row: int
) -> None:
    """Raise if two sites (or a site and its own image) sit closer than :data:`MIN_DISTANCE`."""
    close = dist < MIN_DISTANCE
    if close.any():
        k = int(np.flatnonzero(close)[0])
        i, j = sorted((int(src[k]), int(dst[k])))
        if i == j:
            raise GraphConstructionError(
                f"site {i} is {dist[k]:.3f} Å from its own periodic image (overlapping atoms; "
                f"minimum {MIN_DISTANCE} Å; is the lattice in nm instead of Å?)",
                row,
            )
        raise GraphConstructionError(
            f"sites {i} and {j} are {dist[k]:.3f} Å apart (overlapping atoms; minimum "
            f"{MIN_DISTANCE} Å)",
            row,
        )
    frac = np.round(np.mod(structure.frac_coords, 1.0), 6) % 1.0
    _, first, counts = np.unique(frac, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        i = int(first[np.flatnonzero(counts > 1)[0]])
        twins = np.flatnonzero((frac == frac[i]).all(axis=1))
        raise GraphConstructionError(
            f"sites {int(twins[0])} and {int(twins[1])} are at the same position "
            "(overlapping atoms)",
            row,
        )


def structure_to_graph(
    structure: Any,
    cutoff: float = 5.0,
    row: int = 0,
    max_z: int = PRETRAINED_MAX_Z,
    allow_isolated: bool = False,
) -> tuple[np.ndarray, ...]:
    """Graph arrays of one structure (indices local to the structure).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The crystal.
    cutoff : float, default=5.0
        Neighbour cutoff radius in Å.
    row : int, default=0
        Row index of the structure in its data set, used in error messages.
    max_z : int, default=94
        Largest atomic number accepted.
    allow_isolated : bool, default=False
        Accept sites without any neighbour within the cutoff (as megnet versions that only
        warned did): their pooled bond message is zero. A structure may then have no bond
        at all, whose bond readout is zero.

    Returns
    -------
    z, species_site, species_frac, site_weight, src, dst, distance : ndarray

    Raises
    ------
    GraphConstructionError
        If the input is not a Structure, has no sites, holds an element outside the
        embedding (or a dummy species), has two sites closer than :data:`MIN_DISTANCE`
        (overlapping atoms; a site and its own periodic image count too), or
        (unless ``allow_isolated``) has a site without any neighbour within ``cutoff``.
    """
    from pymatgen.core import IStructure

    if not isinstance(structure, IStructure):
        raise GraphConstructionError(
            f"expected a pymatgen Structure, got {type(structure).__name__}", row
        )
    n = len(structure)
    if n == 0:
        raise GraphConstructionError("structure has no sites", row)
    z, site, frac, weight = _species_entries(structure, row, max_z)
    _check_lattice(structure, row)
    src, dst, _, dist = structure.get_neighbor_list(r=cutoff)
    keep = (src != dst) | (dist > _SELF_TOL)
    if not keep.all():
        src, dst, dist = src[keep], dst[keep], dist[keep]
    _check_overlap(structure, src, dst, dist, row)
    if not allow_isolated:
        check_isolated(
            structure,
            src,
            row,
            f"the {cutoff} Å cutoff; MEGNet needs at least one bond per site",
            "gives such sites zero bond messages",
        )
    if (np.diff(src) < 0).any():
        order = np.argsort(src, kind="stable")
        src, dst, dist = src[order], dst[order], dist[order]
    return (
        z,
        site,
        frac,
        weight,
        src.astype(np.int64),
        dst.astype(np.int64),
        dist.astype(np.float64),
    )


def check_isolated(structure: Any, src: np.ndarray, row: int, within: str, allow: str) -> None:
    """Raise :class:`GraphConstructionError` for the first site of ``structure`` that no bond
    starts from (``src``: the bonds' first sites): it "has no neighbour within ``within``",
    and ``allow_isolated=True`` ``allow``."""
    lonely = np.flatnonzero(np.bincount(src, minlength=len(structure)) == 0)
    if len(lonely):
        j = int(lonely[0])
        raise GraphConstructionError(
            f"site {j} ({structure[j].species_string}) has no neighbour within {within} "
            f"(isolated atom or very low density; allow_isolated=True {allow})",
            row,
        )


def build_graphs(
    structures: Iterable[Any],
    cutoff: float = 5.0,
    state: np.ndarray | None = None,
    row_offset: int = 0,
    max_z: int = PRETRAINED_MAX_Z,
    allow_isolated: bool = False,
    rows: Sequence[int] | None = None,
) -> GraphBatch:
    """Build one flat :class:`GraphBatch` for many structures.

    Parameters
    ----------
    structures : iterable of pymatgen.core.Structure
        The crystals.
    cutoff : float, default=5.0
        Neighbour cutoff radius in Å.
    state : array-like of shape (n_state_features,) or (n_structures, n_state_features)
        State input; defaults to ``[0, 0]`` for every structure, as in the pretrained models.
    row_offset : int, default=0
        Added to the position of a structure in ``structures`` for error messages (so that
        chunked callers report the row in the full data set).
    max_z : int, default=94
        Largest atomic number accepted.
    allow_isolated : bool, default=False
        See :func:`structure_to_graph`.
    rows : sequence of int, optional
        Row index of each structure for error messages (overrides ``row_offset``).

    Returns
    -------
    GraphBatch

    Raises
    ------
    GraphConstructionError
        See :func:`structure_to_graph`; the message names the row index.
    """
    structures = list(structures)
    if rows is None:
        rows = range(row_offset, row_offset + len(structures))
    parts = [
        structure_to_graph(s, cutoff=cutoff, row=r, max_z=max_z, allow_isolated=allow_isolated)
        for s, r in zip(structures, rows, strict=True)
    ]
    n_graphs = len(parts)
    if n_graphs == 0:
        return _empty_batch(2 if state is None else int(np.asarray(state).shape[-1]))
    z, site, frac, weight, src, dst, dist = (list(col) for col in zip(*parts, strict=True))
    site_offsets = _csr.offsets_of(weight)
    bond_offsets = _csr.offsets_of(dist)
    species_offsets = _csr.offsets_of(z)
    # local site indices -> batch-global ones: add the graph's first site
    bond_shift = _csr.expand(site_offsets[:-1], bond_offsets)
    spec_shift = _csr.expand(site_offsets[:-1], species_offsets)
    if state is None:
        state_arr = np.zeros((n_graphs, 2))
    else:
        state_arr = np.asarray(state, dtype=np.float64)
        if state_arr.ndim == 1:
            state_arr = np.broadcast_to(state_arr, (n_graphs, len(state_arr))).copy()
        if state_arr.shape[0] != n_graphs:
            raise ValueError(f"state has {state_arr.shape[0]} rows for {n_graphs} structures")
    return GraphBatch(
        species_z=np.concatenate(z),
        species_site=np.concatenate(site) + spec_shift,
        species_frac=np.concatenate(frac),
        site_weight=np.concatenate(weight),
        src=np.concatenate(src) + bond_shift,
        dst=np.concatenate(dst) + bond_shift,
        distance=np.concatenate(dist),
        state=state_arr,
        site_offsets=site_offsets,
        bond_offsets=bond_offsets,
        species_offsets=species_offsets,
    )


def check_full_occupancy(structures: Sequence[Any], rows: Sequence[int], reason: str) -> None:
    """Raise for the first site whose total occupancy is below 1 (a vacancy).

    MEGNet's graph has no notion of a vacancy: a site is embedded from its species'
    fractions, and every structure-level readout (state update, Set2Set) counts it in full.
    Callers whose output would silently equal that of the fully occupied structure use this.

    Parameters
    ----------
    structures : sequence of pymatgen.core.Structure
    rows : sequence of int
        Row of each structure, for the error message.
    reason : str
        Appended to the message (what to do instead).
    """
    for structure, row in zip(structures, rows, strict=True):
        if structure.is_ordered:
            continue
        for j, site in enumerate(structure):
            occ = float(sum(site.species.values()))
            if occ < 1.0 - 1e-6:
                raise GraphConstructionError(
                    f"site {j} ({site.species_string}) has total occupancy {occ:.3g} < 1 (a "
                    f"vacancy); {reason}",
                    row,
                )
