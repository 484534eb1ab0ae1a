"""What a pretrained parent network provides to the transfer featurizers.

A *parent* is a graph network pretrained on a large data set whose intermediate features are
transferred to small tasks (the AtomSets idea). The featurizers of
:mod:`skatomsets.featurizers.parent` need four things from it, and nothing else:

- who it is: :meth:`Parent.checksum`, a digest of the weights *as they are now* (taken at
  every featurization, so a network changed after ``fit`` can never be served features
  computed by its earlier weights from the cache; :meth:`Parent.cache_namespace`);
- what it offers: per-site feature levels ``0..n_levels`` (:meth:`Parent.site_width`) and
  structure-level vectors (:attr:`Parent.structure_widths`);
- :meth:`Parent.compute`: graphs built for many structures at once and a batched,
  gradient-free forward pass returning the requested per-site and per-structure arrays;
- :meth:`Parent.element_table`: its level-0 element embedding as a table indexed by Z, so
  that level 0 also works on formulas.

A new parent is one module that subclasses :class:`Parent` and registers a factory with
:func:`register_parent` and a :class:`ParentInfo`: what the rest of the package needs to know
about it *without* importing its (optional, heavy) package: titles, levels and widths, the
citation, the optional dependency and its install hint, its element table (e.g.
``"chgnet64"``, registered in :mod:`skatomsets.elements`). The ready models
(:mod:`skatomsets.models`), the element featurizer, the estimator checks and the benchmarks
read the registry; caching, ``n_jobs``, progress bars, bad-input checks and the
scikit-learn API come from the featurizers. The structure geometry checks
(:func:`check_geometry`: overlapping atoms, cells too small or too dense for the neighbour
search) are the same for every parent, run by :meth:`Parent.validate` before any graph is
built.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.util
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _csr
from ..exceptions import GraphConstructionError

__all__ = [
    "MAX_NEIGHBOURS",
    "MIN_DISTANCE",
    "Parent",
    "ParentInfo",
    "available_parents",
    "check_geometry",
    "import_optional",
    "missing_dependency",
    "on_parent_registered",
    "parent_info",
    "register_parent",
    "registered_parents",
    "resolve_parent",
    "shipped_copy",
]

_REGISTRY: dict[str, Callable[[], Parent]] = {}
_INFO: dict[str, ParentInfo] = {}
_LISTENERS: list[Callable[[ParentInfo], None]] = []


@dataclass(frozen=True)
class ParentInfo:
    """What the package knows about a registered parent without importing its package.

    Attributes
    ----------
    name : str
        Registry name (``"chgnet"``); also the middle of its ready-model names
        (``atomsets-chgnet-v3``) unless ``paper``.
    title : str
        How messages call it (``"CHGNet"``).
    label : str
        Its row label in reports, with the version (``"CHGNet v0.3.0"``).
    prefix : str
        Prefix of its feature names (``chgnet_V2_17``).
    n_levels : int
        Highest site level (levels ``0..n_levels``; 0 = element embedding).
    site_widths : tuple of int
        Width of each level.
    structure_widths : mapping of str to int
        Structure vectors offered: name -> width.
    default_structure_feature : str
    cutoff : float
        Neighbour cutoff radius (Å) of its graph, used by :func:`check_geometry`.
    citation : str
        BibTeX entry.
    requires : str or None
        Import name of the optional package it needs (``"chgnet"``), None if shipped.
    extra : str or None
        The ``pip install 'skatomsets[<extra>]'`` extra that installs ``requires``.
    element_table : str or None
        Name of its level-0 element table in :mod:`skatomsets.elements` (``"chgnet64"``).
    mlp_features : tuple of str
        Structure vectors that get a ready ``mlp-`` model.
    descriptions : mapping of str to str
        Short description of each structure vector (for the model catalogue).
    paper : bool
        The AtomSets paper's parent: its ready models keep the paper's unprefixed names
        (``atomsets-v1``, ``mlp-f``).
    paper_rows : mapping of str to str
        Where the paper reports a level or vector (``"V1"`` -> ``"Table 2, AtomSets-V1"``).
    """

    name: str
    title: str
    label: str
    prefix: str
    n_levels: int
    site_widths: tuple[int, ...]
    structure_widths: Mapping[str, int]
    default_structure_feature: str
    cutoff: float
    citation: str
    requires: str | None = None
    extra: str | None = None
    element_table: str | None = None
    mlp_features: tuple[str, ...] = ()
    descriptions: Mapping[str, str] = field(default_factory=dict)
    paper: bool = False
    paper_rows: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def potential(
        cls,
        name: str,
        title: str,
        label: str,
        *,
        n_levels: int,
        width: int,
        cutoff: float,
        citation: str,
        requires: str,
        element_table: str,
    ) -> ParentInfo:
        """An interatomic potential installed with the extra ``name``: every level ``width``
        wide, and two structure vectors, the mean site feature ``"crystal"`` (the default,
        with a ready ``mlp-`` model) and the predicted ``"energy"``."""
        return cls(
            name=name,
            title=title,
            label=label,
            prefix=name,
            n_levels=n_levels,
            site_widths=(width,) * (n_levels + 1),
            structure_widths={"crystal": width, "energy": 1},
            default_structure_feature="crystal",
            cutoff=cutoff,
            citation=citation,
            requires=requires,
            extra=name,
            element_table=element_table,
            mlp_features=("crystal",),
            descriptions={"crystal": "mean site feature (crystal)", "energy": "predicted energy"},
        )

    @property
    def install_hint(self) -> str:
        """``pip install 'skatomsets[<extra>]'`` (empty for a shipped parent)."""
        return f"pip install 'skatomsets[{self.extra}]'" if self.extra else ""


def missing_dependency(name: str) -> str | None:
    """The optional package parent ``name`` needs and lacks (None when it has it).

    Looked up with :func:`importlib.util.find_spec`: nothing is imported.
    """
    info = _INFO.get(name)
    if info is None or info.requires is None:
        return None
    try:
        found = importlib.util.find_spec(info.requires) is not None
    except (ImportError, ValueError):
        found = False
    return None if found else info.requires


def import_optional(name: str, module: str) -> Any:
    """Import ``module`` of parent ``name``'s optional package, or say how to install it.

    Raises
    ------
    ImportError
        Naming the parent, the package and the ``pip install`` extra.
    """
    import importlib

    info = _INFO[name]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{info.title} features need the optional {info.requires!r} package: "
            f"{info.install_hint}"
        ) from exc


def shipped_copy(load: Callable[[], Any]) -> Any:
    """A private copy of a shipped network.

    ``load`` returns the network loaded once per process (a cached loader); that one stays
    untouched and every parent gets its own deep copy (milliseconds, a few MB), so
    fine-tuning the network of one parent in place never changes the features of another
    parent: a default featurizer always uses the shipped weights.
    """
    return copy.deepcopy(load())


#: Two sites closer than this (Å) are overlapping atoms (shortest real bond: H2, 0.74 Å).
MIN_DISTANCE = 0.5
#: Most neighbours an atom may have, on average, within a parent's cutoff (~60 in dense
#: real solids at 6 Å; 500 allows 1.8 Å^3 per atom at 6 Å, 1.05 Å^3 at 5 Å). Denser cells
#: are refused before the neighbour search: their graphs would take gigabytes.
MAX_NEIGHBOURS = 500


def check_ordered(structures: Sequence[Any], rows: Sequence[int], title: str) -> None:
    """Refuse a disordered structure (partial occupancies) for a parent that needs order."""
    for s, row in zip(structures, rows, strict=True):
        if not s.is_ordered:
            raise GraphConstructionError(
                f"{title} needs an ordered structure (every site one species, occupancy 1); "
                "order it first, e.g. with pymatgen's OrderDisorderedStructureTransformation",
                row,
            )


def check_geometry(structures: Sequence[Any], rows: Sequence[int], cutoff: float) -> None:
    """Refuse structures no parent should build a graph of (the error names the row).

    The same checks for every parent, before any neighbour search at the parent's cutoff:

    - a cell with less volume per site than ``MAX_NEIGHBOURS`` neighbours within ``cutoff``
      leave (a lattice in nm instead of Å, a 0.5 Å cell: the graph would need gigabytes);
    - a site closer than :data:`MIN_DISTANCE` to its own periodic image;
    - two sites closer than :data:`MIN_DISTANCE` (a neighbour search at that small radius),
      or at the same position.

    Parameters
    ----------
    structures : sequence of pymatgen Structure
    rows : sequence of int
        Row of each structure in the user's input.
    cutoff : float
        The parent's neighbour cutoff (Å).

    Raises
    ------
    GraphConstructionError
    """
    from ..megnet.graph import _check_lattice, _check_overlap

    sphere = 4.0 / 3.0 * math.pi * float(cutoff) ** 3
    for s, row in zip(structures, rows, strict=True):
        n = len(s)
        if n == 0:
            raise GraphConstructionError("structure has no sites", row)
        per_site = abs(float(s.lattice.volume)) / n
        if sphere / max(per_site, 1e-300) > MAX_NEIGHBOURS:
            raise GraphConstructionError(
                f"the cell holds {per_site:.3g} Å^3 per site: ~{sphere / max(per_site, 1e-300):.3g}"
                f" neighbours per atom within the {cutoff:g} Å cutoff, more than "
                f"{MAX_NEIGHBOURS} (real solids have ~5 Å^3 or more per site; is the lattice in "
                "nm instead of Å?)",
                row,
            )
        _check_lattice(s, row)
        src, dst, _, dist = s.get_neighbor_list(r=MIN_DISTANCE, exclude_self=False)
        keep = (src != dst) | (dist > 1e-8)
        _check_overlap(s, src[keep], dst[keep], dist[keep], row)


class Parent(ABC):
    """A pretrained graph network seen as a source of transferable features.

    Subclasses set :attr:`name` (short, used in feature names and cache namespaces),
    :attr:`n_levels`, :attr:`structure_widths`, and implement the abstract methods.
    """

    #: Short identifier, e.g. ``"chgnet-0.3.0"``; part of cache namespaces.
    name: str = "parent"
    #: Prefix of feature names, e.g. ``"chgnet"`` -> ``chgnet_V2_17``.
    prefix: str = "parent"
    #: How error messages call the network, e.g. ``"CHGNet"``.
    title: str = "parent"
    #: Highest site feature level (levels are ``0..n_levels``; 0 = element embedding).
    n_levels: int = 0
    #: Structure-level vectors offered: name -> width.
    structure_widths: dict[str, int] = {}
    #: The structure vector a structure featurizer gives by default.
    default_structure_feature: str = ""
    #: BibTeX entries of the parent network.
    citations: tuple[str, ...] = ()
    #: Neighbour cutoff radius (Å) of its graph (the density check of :func:`check_geometry`).
    cutoff: float = 6.0

    @abstractmethod
    def site_width(self, level: int) -> int:
        """Width of the per-site features at ``level`` (0..n_levels)."""

    @abstractmethod
    def parameters_for_checksum(self) -> Sequence[np.ndarray]:
        """The arrays that determine the features (weights and configuration)."""

    @abstractmethod
    def compute(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> dict[str, list[np.ndarray]]:
        """Features of many structures at once.

        Parameters
        ----------
        structures : sequence of pymatgen Structure
            Already checked to be Structures.
        rows : sequence of int
            Row of each structure in the user's input, for error messages.
        keys : sequence of str
            ``"V<level>"`` for per-site features (one ``(n_sites, width)`` array per
            structure), ``"site_weight"`` (per-site weights, ``(n_sites,)``) and names from
            :attr:`structure_widths` (one ``(1, width)`` array per structure).

        Returns
        -------
        dict
            key -> list of float32 arrays, one per structure, in input order.
        """

    def forward_plan(self, keys: Sequence[str]) -> tuple[list[str], int]:
        """The structure vectors asked for in ``keys`` and the deepest level to run to.

        A structure vector needs the whole network; site levels need only the blocks up to
        the deepest one asked for.
        """
        levels = {int(k[1:]) for k in keys if k.startswith("V")}
        want_structure = [k for k in keys if k in self.structure_widths]
        deepest = self.n_levels if want_structure else max(levels, default=0)
        return want_structure, deepest

    @staticmethod
    def append_batch(
        out: dict[str, list[np.ndarray]],
        feats: Mapping[str, Any],
        keys: Sequence[str],
        offsets: np.ndarray,
        site_weight: np.ndarray | None = None,
    ) -> None:
        """Cut one batch's tensors into per-structure float32 arrays, appended to ``out``.

        ``"V<level>"`` tensors are ``(n_sites, width)`` cut at the site ``offsets``; other
        keys are ``(n_structures, ...)`` structure vectors, one ``(1, width)`` row each;
        ``"site_weight"`` is ``site_weight`` (default: every site 1) cut the same way.
        """
        n = len(offsets) - 1
        for k in keys:
            if k == "site_weight":
                w = np.ones(int(offsets[-1])) if site_weight is None else site_weight
                out[k].extend(_csr.split(np.asarray(w, dtype=np.float32), offsets))
                continue
            arr = feats[k].detach().cpu().float().numpy()
            if k.startswith("V"):
                out[k].extend(_csr.split(arr, offsets))
            else:
                arr = arr.reshape(n, -1)
                out[k].extend(arr[j : j + 1] for j in range(n))

    def structure_level(self, key: str) -> int:
        """The site level after which the structure vector ``key`` is available.

        A forward pass that runs up to that level yields it for free (the featurizers
        then cache it too). The default, ``n_levels``, means "after the whole network".
        """
        return self.n_levels

    def check_structures(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> None:
        """Refuse structures the parent cannot featurize for ``keys`` (error naming the row).

        Called before the cache is consulted, so a cached value can never get round it.
        The default accepts everything.
        """
        return None

    def validate(self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]) -> None:
        """Every check before features are computed or served from a cache.

        :func:`check_geometry` (the same for every parent) and then the parent's own
        :meth:`check_structures`.
        """
        check_geometry(structures, rows, self.cutoff)
        self.check_structures(structures, rows, keys)

    @abstractmethod
    def element_table(self) -> tuple[np.ndarray, list[str]]:
        """Level 0 as a ``(MAX_Z + 1, width)`` float32 table (NaN rows: not covered)."""

    def checksum(self) -> str:
        """SHA-256 of the parent's current weights and configuration.

        Computed afresh on every call: fine-tuning the network in place changes it.
        """
        h = hashlib.sha256(self.name.encode())
        for a in self.parameters_for_checksum():
            a = np.ascontiguousarray(a)
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(a.tobytes())
        return h.hexdigest()

    def cache_namespace(self) -> str:
        """Prefix of this parent's entries in the feature cache: ``"<name>-<checksum[:32]>"``.

        Taken at every featurization (through :meth:`checksum`), never frozen.
        """
        return f"{self.name}-{self.checksum()[:32]}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def register_parent(
    name: str | ParentInfo,
) -> Callable[[Callable[[], Parent]], Callable[[], Parent]]:
    """Decorator registering a zero-argument factory of a :class:`Parent`.

    Parameters
    ----------
    name : str or ParentInfo
        The registry name, or a :class:`ParentInfo` (its ``name``): the built-in parents
        give one, so that the ready models, the element table and the install hint are known
        without importing the parent's package. A parent's element table is registered in
        :mod:`skatomsets.elements` (loaded from the parent when first asked for).
    """
    info = name if isinstance(name, ParentInfo) else None
    key = info.name if info is not None else str(name)

    def deco(factory: Callable[[], Parent]) -> Callable[[], Parent]:
        _REGISTRY[key] = factory
        if info is not None:
            _INFO[key] = info
            for listener in _LISTENERS:
                listener(info)
            if info.element_table:
                from .. import elements

                if info.element_table not in elements.BUILT_IN_TABLES:
                    elements.register_element_table(
                        info.element_table,
                        functools.partial(_element_table, key, info.element_table),
                        citations=(info.citation,),
                    )
                else:
                    elements.register_element_table(
                        info.element_table, None, citations=(info.citation,)
                    )
        return factory

    return deco


def _element_table(name: str, table_name: str) -> tuple[np.ndarray, list[str]]:
    """A parent's element table: the shipped copy, else computed from the parent."""
    from ..elements import shipped_element_table

    table = shipped_element_table(table_name)
    if table is None:
        table, _ = resolve_parent(name).element_table()
    return table, [f"{table_name}_{j}" for j in range(table.shape[1])]


def on_parent_registered(listener: Callable[[ParentInfo], None]) -> None:
    """Call ``listener(info)`` for every parent registered with a :class:`ParentInfo`, now
    and later (how :mod:`skatomsets.models` names the ready models of each parent, including
    one registered after it was imported)."""
    _LISTENERS.append(listener)
    for info in registered_parents():
        listener(info)


def available_parents() -> list[str]:
    """Names accepted by :func:`resolve_parent`."""
    return sorted(_REGISTRY)


def registered_parents() -> list[ParentInfo]:
    """The :class:`ParentInfo` of every parent registered with one: the paper's parent
    first, then by name."""
    return sorted(_INFO.values(), key=lambda i: (not i.paper, i.name))


def parent_info(name: str) -> ParentInfo:
    """The :class:`ParentInfo` of a registered parent (nothing imported).

    Raises
    ------
    ValueError
        If ``name`` is not registered with a :class:`ParentInfo`.
    """
    if name not in _INFO:
        raise ValueError(f"no registered parent {name!r}; choose one of {list(_INFO)}")
    return _INFO[name]


def resolve_parent(parent: str | Parent) -> Parent:
    """A :class:`Parent` instance from a registered name, or the instance itself.

    Parameters
    ----------
    parent : str or Parent

    Returns
    -------
    Parent
    """
    if isinstance(parent, Parent):
        return parent
    if isinstance(parent, str) and parent in _REGISTRY:
        return _REGISTRY[parent]()
    raise ValueError(
        f"parent must be a Parent instance or one of {available_parents()}, got {parent!r}"
    )
