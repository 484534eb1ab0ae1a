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

A new parent is one module that subclasses :class:`Parent` and calls
:func:`register_parent`; caching, ``n_jobs``, progress bars, bad-input checks and the
scikit-learn API come from the featurizers.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Parent", "available_parents", "register_parent", "resolve_parent"]

_REGISTRY: dict[str, Callable[[], Parent]] = {}


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


def register_parent(name: str) -> Callable[[Callable[[], Parent]], Callable[[], Parent]]:
    """Decorator registering a zero-argument factory of a :class:`Parent` under ``name``."""

    def deco(factory: Callable[[], Parent]) -> Callable[[], Parent]:
        _REGISTRY[name] = factory
        return factory

    return deco


def available_parents() -> list[str]:
    """Names accepted by :func:`resolve_parent`."""
    return sorted(_REGISTRY)


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
