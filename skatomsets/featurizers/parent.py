"""Transfer featurizers for any pretrained parent network (:mod:`skatomsets.parents`).

:class:`ParentSiteFeaturizer` gives per-site feature sets (a
:class:`~skatomsets.sets.RaggedSets`, site weights as set weights) at a level of the parent's
hierarchy; :class:`ParentStructureFeaturizer` gives its structure-level vectors.
:class:`CHGNetSiteFeaturizer` and :class:`CHGNetStructureFeaturizer` are the same with the
CHGNet v0.3.0 parent by default. Every other parent (``"sevennet"``, your own) is served by
the generic pair: ``ParentSiteFeaturizer("sevennet", level=2)``.

Results are cached per structure content, parent identity and feature (the in-process and
optional on-disk :class:`~skatomsets.megnet.cache.FeatureCache`). The parent's checksum is
taken at every ``transform``, from the weights as they are then: a parent network changed in
place after ``fit`` gets new cache entries, never the old ones.
"""

from __future__ import annotations

import copy
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from .. import _csr
from ..exceptions import GraphConstructionError
from ..io.materials import parse_structures
from ..megnet.cache import FeatureCache, structure_key
from ..parents import Parent, resolve_parent
from ..sets import RaggedSets
from ._base import BaseSetFeaturizer, BaseVectorFeaturizer, _FeaturizerMixin

__all__ = [
    "CHGNetSiteFeaturizer",
    "CHGNetStructureFeaturizer",
    "ParentSiteFeaturizer",
    "ParentStructureFeaturizer",
]


class _ParentMixin:
    """Parent loading, parameter checks and the cached, batched computation."""

    #: The parent used when ``parent=None``.
    _default_parent = "megnet"
    parent: Any
    cache: Any
    allow_isolated: bool

    def _load_parent(self) -> None:
        if not (self.cache is None or isinstance(self.cache, (bool, np.bool_, str, Path))):
            raise ValueError(
                f"cache must be True, False, None or a directory path, got {self.cache!r}"
            )
        self.parent_: Parent = self._resolve_parent()

    def _resolve_parent(self) -> Parent:
        """The parent network of this featurizer (subclasses may build it from their params).

        With ``allow_isolated=True`` the parent accepts sites without a neighbour within its
        cutoff; a :class:`~skatomsets.parents.Parent` the user passed is copied for that,
        never changed.
        """
        parent = resolve_parent(self._default_parent if self.parent is None else self.parent)
        if self.allow_isolated and not getattr(parent, "allow_isolated", False):
            if not hasattr(parent, "allow_isolated"):
                raise ValueError(
                    f"allow_isolated=True, but the parent {parent.title!r} has no "
                    "allow_isolated option"
                )
            parent = copy.copy(parent)  # shares the network; the user's instance stays as is
            parent.allow_isolated = True
        return parent

    @property
    def _citations(self) -> list[str]:
        return list(self.parent_.citations) if hasattr(self, "parent_") else []

    def _free_keys(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """``wanted`` plus what the forward pass computes on the way to it."""
        p = self.parent_
        levels = [
            p.structure_level(k) if k in p.structure_widths else int(k[1:])
            for k in wanted
            if k != "site_weight"
        ]
        deepest = max(levels)
        extra = [f"V{k}" for k in range(deepest + 1)] + ["site_weight"]
        extra += [k for k in p.structure_widths if p.structure_level(k) <= deepest]
        return tuple(dict.fromkeys((*wanted, *extra)))

    def _compute(self, items: list[Any], wanted: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
        """Per-structure arrays of the ``wanted`` features, from the cache or the parent."""
        parent = self.parent_
        try:
            structures = parse_structures(items)
        except GraphConstructionError as exc:
            # parse_structures speaks of MEGNet; name this featurizer's parent
            text = str(exc).removeprefix(f"row {exc.row}: ")
            if parent.title == "MEGNet" or "MEGNet features" not in text:
                raise
            text = text.replace("MEGNet features", f"{parent.title} features")
            raise GraphConstructionError(text, exc.row) from None
        # the same geometry checks for every parent, then its own: before the cache
        parent.validate(structures, range(len(structures)), wanted)
        keys = [structure_key(s) for s in structures]
        cache = None
        if self.cache is True:
            cache = FeatureCache()
        elif self.cache not in (None, False):
            cache = FeatureCache(self.cache)
        result: dict[str, list[Any]] = {k: [None] * len(keys) for k in wanted}
        if cache is not None:
            # the weights as they are NOW (a parent passed as a module may have been
            # trained since fit): a checksum frozen at fit would serve and store stale ones
            who = parent.cache_namespace()
            if getattr(parent, "allow_isolated", False):
                # its own entries, for every parent: a strict featurizer must never be
                # served a structure with an isolated site that it would have refused
                who += "-isolated"
            for k in wanted:
                result[k] = cache.get(f"{who}/{k}", keys)
        missing = [i for i in range(len(keys)) if any(result[k][i] is None for k in wanted)]
        first: dict[str, int] = {}
        todo = [i for i in missing if first.setdefault(keys[i], i) == i]  # each structure once
        if todo:
            # with a cache, everything the same forward pass yields is kept too (e.g. V1, V2
            # while computing V3), for the other featurizers of a grid search or benchmark
            everything = wanted if cache is None else self._free_keys(wanted)
            computed = parent.compute([structures[i] for i in todo], todo, everything)
            todo_keys = [keys[i] for i in todo]
            if cache is not None:
                for k in everything:
                    cache.put(f"{who}/{k}", todo_keys, computed[k])
            pos = {key: j for j, key in enumerate(todo_keys)}
            for k in wanted:
                for i in missing:
                    result[k][i] = computed[k][pos[keys[i]]]
        return result


class ParentSiteFeaturizer(_ParentMixin, BaseSetFeaturizer):
    """Per-site features of crystal structures at one level of a parent network.

    Each structure becomes a set with one member per site; the site's feature row is the
    parent's level-``level`` atom feature (0: its element embedding; k: after its k-th
    interaction block) and its weight the site weight the parent reports (1 for ordered
    sites; sets normalise weights).

    Parameters
    ----------
    parent : str, Parent or None, default=None
        A registered parent name (:func:`skatomsets.parents.available_parents`) or a
        :class:`~skatomsets.parents.Parent` instance; None is the class's default parent
        (``"megnet"`` here, ``"chgnet"`` for the CHGNet featurizers).
    level : int, default=3
        0..``parent.n_levels``.
    allow_isolated : bool, default=False
        Accept structures with a site that has no neighbour within the parent's cutoff (a
        sparse cell, an isolated atom); such a site gets no bond messages. By default they
        are an error that names the row.
    cache : bool, str or Path, default=True
        ``True``: in-process cache keyed by structure content, parent checksum and feature; a
        directory: also persisted on disk; ``False``/``None``: no cache.
    n_jobs : int, default=None
        Parallel joblib jobs over chunks (each worker gets one torch thread); None means 1.
    chunk_size : int, default=256
        Structures per chunk (the unit of parallelism and progress).
    progress : bool, default=False
        Show a tqdm progress bar over chunks.

    Attributes
    ----------
    parent_ : Parent
    feature_names_ : list of str
        ``<prefix>_V<level>_<j>``.
    n_features_out_ : int
    """

    _parameter_constraints: dict = {
        **_FeaturizerMixin._parameter_constraints,
        "parent": [str, Parent, None],
        "level": [Integral],
        "allow_isolated": ["boolean"],
        "cache": ["boolean", str, Path, None],
    }

    def __init__(
        self,
        parent: str | Parent | None = None,
        *,
        level: int = 3,
        allow_isolated: bool = False,
        cache: bool | str | Path | None = True,
        n_jobs: int | None = None,
        chunk_size: int = 256,
        progress: bool = False,
    ) -> None:
        self.parent = parent
        self.level = level
        self.allow_isolated = allow_isolated
        self.cache = cache
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.progress = progress

    def _load(self) -> None:
        self._load_parent()
        n = self.parent_.n_levels
        if (
            isinstance(self.level, bool)
            or not isinstance(self.level, (int, np.integer))
            or not 0 <= self.level <= n
        ):
            raise ValueError(f"level must be an integer in 0..{n}, got {self.level!r}")
        width = self.parent_.site_width(int(self.level))
        self.feature_names_ = [
            f"{self.parent_.prefix}_V{int(self.level)}_{j}" for j in range(width)
        ]
        self.n_features_out_ = width

    def _featurize_chunk(self, items: list[Any]) -> RaggedSets:
        names = np.asarray(self.feature_names_, dtype=object)
        if not items:
            return RaggedSets._trusted(
                np.zeros((0, self.n_features_out_), np.float32),
                np.zeros(1, np.int64),
                np.zeros(0, np.float32),
                names,
            )
        key = f"V{int(self.level)}"
        res = self._compute(items, (key, "site_weight"))
        values = np.concatenate(res[key])
        weights = np.concatenate(res["site_weight"]).astype(np.float64)
        return RaggedSets(values, _csr.offsets_of(res[key]), weights, feature_names=names)


class ParentStructureFeaturizer(_ParentMixin, BaseVectorFeaturizer):
    """Structure-level vectors of a parent network (e.g. CHGNet's pooled ``crystal``).

    Parameters
    ----------
    parent : str, Parent or None, default=None
        See :class:`ParentSiteFeaturizer`.
    features : str, sequence of str or None, default=None
        Names from ``parent.structure_widths``, concatenated in order; None is the parent's
        ``default_structure_feature`` (MEGNet: ``"f"``; CHGNet: ``"crystal"``).
    allow_isolated, cache, n_jobs, chunk_size, progress
        See :class:`ParentSiteFeaturizer`.

    Attributes
    ----------
    parent_ : Parent
    feature_names_ : list of str
    n_features_out_ : int
    """

    _parameter_constraints: dict = {
        **_FeaturizerMixin._parameter_constraints,
        "parent": [str, Parent, None],
        "features": [str, tuple, list, None],
        "allow_isolated": ["boolean"],
        "cache": ["boolean", str, Path, None],
    }

    def __init__(
        self,
        parent: str | Parent | None = None,
        *,
        features: str | tuple[str, ...] | None = None,
        allow_isolated: bool = False,
        cache: bool | str | Path | None = True,
        n_jobs: int | None = None,
        chunk_size: int = 256,
        progress: bool = False,
    ) -> None:
        self.parent = parent
        self.features = features
        self.allow_isolated = allow_isolated
        self.cache = cache
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.progress = progress

    def _feature_keys(self) -> tuple[str, ...]:
        feats = self.features
        if feats is None:
            feats = (self.parent_.default_structure_feature,)
        feats = (feats,) if isinstance(feats, str) else tuple(feats)
        valid = list(self.parent_.structure_widths)
        if not feats:
            raise ValueError("features must name at least one feature")
        bad = [f for f in feats if f not in valid]
        if bad:
            raise ValueError(
                f"unknown {self.parent_.title} structure feature(s) {bad}; choose from {valid}"
            )
        if len(set(feats)) != len(feats):
            raise ValueError(f"features has duplicates: {list(feats)}")
        return feats

    def _load(self) -> None:
        self._load_parent()
        names: list[str] = []
        for f in self._feature_keys():
            width = self.parent_.structure_widths[f]
            stem = f"{self.parent_.prefix}_{f}"
            names.extend([stem] if width == 1 else [f"{stem}_{j}" for j in range(width)])
        self.feature_names_ = names
        self.n_features_out_ = len(names)

    def _featurize_chunk(self, items: list[Any]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        feats = self._feature_keys()
        res = self._compute(items, feats)
        cols = [np.concatenate(res[f], axis=0) for f in feats]
        return np.concatenate(cols, axis=1).astype(np.float32, copy=False)


class CHGNetSiteFeaturizer(ParentSiteFeaturizer):
    """Per-site CHGNet v0.3.0 features (levels 0-4); see :class:`ParentSiteFeaturizer`.

    Needs the optional ``chgnet`` package (``pip install 'skatomsets[chgnet]'``). The MPtrj
    training set of CHGNet overlaps the Materials Project structures of most benchmarks:
    say so when reporting results on them.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure(Lattice.cubic(5.69), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> CHGNetSiteFeaturizer(level=2).fit_transform([nacl]).n_features
    64
    """

    _default_parent = "chgnet"


class CHGNetStructureFeaturizer(ParentStructureFeaturizer):
    """CHGNet v0.3.0 structure vectors (``crystal``, ``energy``); see
    :class:`ParentStructureFeaturizer`.
    """

    _default_parent = "chgnet"
