"""Structure featurizers built on a pretrained MEGNet parent network (AtomSets V1-V3, f).

:class:`MEGNetSiteFeaturizer` gives per-site feature sets (a :class:`~skatomsets.sets.RaggedSets`
with the site occupancies as weights): ``level=0`` is the element embedding of each site,
``level=k`` the atom output of MEGNet block ``k`` (before its residual addition), i.e. the
V0..V3 features of AtomSets. :class:`MEGNetStructureFeaturizer` gives fixed-length
structure vectors: the state output of a block (``u1``..``u3``), the Set2Set readouts
(``v_r`` atoms, ``e_r`` bonds) or the concatenated readout ``f`` that enters the parent's
output MLP.

Both build the crystal graphs of many structures at once and run them through the network
in batches of ``batch_size`` structures (``torch.inference_mode``, the parent's dtype,
float32 for the shipped model). Results are cached per structure content, parent checksum
(taken at every ``transform``, so a parent changed in place after ``fit`` gets its own
entries) and feature (see :mod:`skatomsets.megnet.cache`), so refitting a pipeline during a grid
search never runs the network twice on the same structure; with ``cache="some/dir"`` the
cache also persists on disk (atomic writes, checksummed shards). The in-memory cache lives
in one process: when joblib workers featurize (``n_jobs > 1`` here, or a parallel
``GridSearchCV``), give a directory so that the processes share their results.

Throughput: the network dominates (graph building runs at ~10 000 structures/s). torch's
intra-op threads are used as set by the user (``torch.set_num_threads``); on a shared
machine one thread per process is far more robust than several competing for cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..megnet.cache import FeatureCache, structure_key
from ..megnet.graph import GraphConstructionError, build_graphs, check_full_occupancy
from ..megnet.model import MEGNet
from ..megnet.weights import resolve_model
from ..sets import RaggedSets
from ._base import BaseSetFeaturizer, BaseVectorFeaturizer

__all__ = ["MEGNetSiteFeaturizer", "MEGNetStructureFeaturizer"]

_MEGNET_CITATION = (
    "@article{chen2019megnet, title={Graph Networks as a Universal Machine Learning "
    "Framework for Molecules and Crystals}, author={Chen, Chi and Ye, Weike and Zuo, "
    "Yunxing and Zheng, Chen and Ong, Shyue Ping}, journal={Chem. Mater.}, volume={31}, "
    "pages={3564--3572}, year={2019}}"
)
_ATOMSETS_CITATION = (
    "@article{chen2021atomsets, title={AtomSets as a hierarchical transfer learning framework "
    "for small and large materials datasets}, author={Chen, Chi and Ong, Shyue Ping}, "
    "journal={npj Comput. Mater.}, volume={7}, pages={173}, year={2021}}"
)
_GRAPH_KEYS = ("v_r", "e_r", "f", "prediction")
_VACANCY_HELP = (
    "MEGNet's structure-level features (u, v_r, e_r, f, prediction) count every site in "
    "full, so they would equal those of the fully occupied structure; use "
    "MEGNetSiteFeaturizer (its sets weight each site by its occupancy) or an ordered structure"
)


def _as_structures(items: list[Any]) -> list[Any]:
    """Structures (``Structure.as_dict()`` dicts, structure files and CIF text are read).

    Errors name the row; see :func:`skatomsets.io_structures.as_structure` for files.
    """
    from pymatgen.core import IStructure, Structure

    from ..io_structures import as_structure

    out = []
    for row, item in enumerate(items):
        if isinstance(item, IStructure):
            out.append(item)
        elif isinstance(item, dict) and "lattice" in item and "sites" in item:
            try:
                out.append(Structure.from_dict(item))
            except Exception as exc:
                raise GraphConstructionError(f"cannot read structure dict: {exc}", row) from None
        elif (structure := as_structure(item, row)) is not None:
            out.append(structure)
        else:
            what = type(item).__name__ + (f" {item!r}" if isinstance(item, str) else "")
            raise GraphConstructionError(
                f"expected a pymatgen Structure, got {what}, which is neither a Structure "
                "nor an existing structure file (.cif, POSCAR, .vasp); MEGNet features need "
                "crystal structures, not formulas",
                row,
            )
    return out


class _MEGNetMixin:
    """Parameter checks, model loading, batching and caching shared by both featurizers."""

    model: Any
    batch_size: int
    allow_isolated: bool
    cache: Any

    def _load_model(self) -> None:
        if not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if not (self.cache is None or isinstance(self.cache, (bool, np.bool_, str, Path))):
            raise ValueError(
                f"cache must be True, False, None or a directory path, got {self.cache!r}"
            )
        model = resolve_model(self.model)
        self.model_: MEGNet = model
        self.model_checksum_ = model.checksum()
        self.n_blocks_ = model.config.n_blocks

    def _feature_cache(self) -> FeatureCache | None:
        if self.cache is None or self.cache is False:
            return None
        if self.cache is True:
            return FeatureCache()
        return FeatureCache(self.cache)

    def _compute(
        self, items: list[Any], wanted: tuple[str, ...], extra: tuple[str, ...]
    ) -> dict[str, list[np.ndarray]]:
        """Per-structure arrays of the ``wanted`` features, from the cache or the network.

        ``extra`` features cost nothing more once ``wanted`` is computed; they are cached
        too (e.g. V1 and V2 while computing V3), for other featurizers of a grid search.
        """
        import torch

        structures = _as_structures(items)
        keys = [structure_key(s) for s in structures]
        cache = self._feature_cache()
        # the weights as they are NOW (a parent passed as a module may have been trained
        # since fit): a checksum frozen at fit would serve and store stale features
        checksum = self.model_.checksum() if cache is not None else ""
        ns = {k: f"{checksum[:32]}/{k}" for k in (*wanted, *extra)}
        result: dict[str, list[Any]] = {k: [None] * len(keys) for k in wanted}
        if cache is not None:
            for k in wanted:
                result[k] = cache.get(ns[k], keys)
        missing = [i for i in range(len(keys)) if any(result[k][i] is None for k in wanted)]
        # each distinct structure once
        first: dict[str, int] = {}
        todo = [i for i in missing if first.setdefault(keys[i], i) == i]
        if todo:
            model = self.model_
            dtype = next(model.parameters()).dtype
            all_keys = tuple(dict.fromkeys((*wanted, *extra)))
            net_keys = tuple(k for k in all_keys if k != "site_weight")
            computed: dict[str, list[np.ndarray]] = {k: [] for k in all_keys}
            for start in range(0, len(todo), self.batch_size):
                idx = todo[start : start + self.batch_size]
                g = build_graphs(
                    [structures[i] for i in idx],
                    cutoff=model.config.cutoff,
                    max_z=model.config.n_elements - 1,
                    allow_isolated=bool(self.allow_isolated),
                    rows=idx,
                )
                with torch.inference_mode():
                    feats = model.features(g.to_torch(dtype=dtype), keys=net_keys)
                bounds = g.site_offsets[1:-1]
                for k in all_keys:
                    if k == "site_weight":
                        arr = g.site_weight.astype(np.float32)
                    else:
                        arr = feats[k].detach().cpu().numpy().astype(np.float32, copy=False)
                    if k.startswith("V") or k == "site_weight":
                        computed[k].extend(np.split(arr, bounds))
                    else:
                        arr = arr.reshape(len(idx), -1)
                        computed[k].extend(arr[j : j + 1] for j in range(len(idx)))
            todo_keys = [keys[i] for i in todo]
            if cache is not None:
                for k in all_keys:
                    cache.put(ns[k], todo_keys, computed[k])
            pos = {key: j for j, key in enumerate(todo_keys)}
            for k in wanted:
                col = result[k]
                for i in missing:
                    col[i] = computed[k][pos[keys[i]]]
        return result


class MEGNetSiteFeaturizer(_MEGNetMixin, BaseSetFeaturizer):
    """Per-site MEGNet features of crystal structures (AtomSets V0-V3).

    Each structure becomes a set with one member per site. The feature row of a site is
    its element embedding (``level=0``) or the atom output of MEGNet block ``level``
    *before* the residual addition (the convention of megnet's ``MEGNetDescriptor`` used by
    the AtomSets authors); its weight is the site's total occupancy (1 for ordered sites,
    normalised per structure by :class:`~skatomsets.sets.RaggedSets`). A disordered site is
    embedded as the occupancy-weighted mean of its species' embeddings. A partly vacant site
    gets its occupancy as weight, but for ``level >= 1`` the messages it sends to its
    neighbours count in full (MEGNet's graph has no notion of a vacancy).

    Parameters
    ----------
    level : int, default=3
        0 (embedding, 16 features) or a block number 1..n_blocks (32 features).
    model : str, path or MEGNet, default="formation_energy_mp-2019.4.1"
        The parent network: a shipped model name, a file written by
        :func:`skatomsets.megnet.save_parent` (or a converted Keras ``.npz``), or a module.
    batch_size : int, default=64
        Structures per forward pass. Small batches keep the bond tensors in the CPU cache:
        on a 2-core machine 32-64 structures per pass run about 1.5x faster than 256.
        Features agree across batch sizes to float32 rounding, not bitwise (segment sums
        over other batches add in another order): within 1e-6 of the largest feature
        magnitude (measured: 2e-5 on features up to 43). With the cache, a structure is
        computed once and then always served the same values.
    allow_isolated : bool, default=False
        Accept structures with a site that has no neighbour within the cutoff (its pooled
        bond message is then zero); by default they raise an error naming the row and site.
    cache : bool, str or Path, default=True
        ``True``: in-process cache keyed by structure content, parent checksum and feature;
        a directory: the same, also persisted on disk; ``False``/``None``: no cache.
    n_jobs : int, default=None
        Parallel jobs (joblib) over chunks; None means 1. The network already uses torch's
        threads, so this mostly helps graph building on many cores.
    chunk_size : int, default=4096
        Structures per chunk (unit of parallelism and progress).
    progress : bool, default=False
        Show a tqdm progress bar over chunks.

    Attributes
    ----------
    model_ : MEGNet
        The loaded parent network.
    model_checksum_ : str
        SHA-256 of the parent (configuration and weights) at ``fit``. Cache entries are keyed
        by the checksum of the weights *when the features are computed* (recomputed at each
        ``transform``, ~10 ms), so a parent module changed after ``fit`` (e.g. fine-tuned)
        never reads, nor writes, the features of other weights.
    feature_names_ : list of str
    n_features_out_ : int

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure(Lattice.cubic(5.69), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> sets = MEGNetSiteFeaturizer(level=2).fit_transform([nacl])
    >>> sets.lengths, sets.n_features
    (array([2]), 32)
    """

    def __init__(
        self,
        level: int = 3,
        model: str | Path | MEGNet = "formation_energy_mp-2019.4.1",
        batch_size: int = 64,
        allow_isolated: bool = False,
        cache: bool | str | Path | None = True,
        n_jobs: int | None = None,
        chunk_size: int = 4096,
        progress: bool = False,
    ) -> None:
        self.level = level
        self.model = model
        self.batch_size = batch_size
        self.allow_isolated = allow_isolated
        self.cache = cache
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.progress = progress

    _citations = [_MEGNET_CITATION, _ATOMSETS_CITATION]

    def _load(self) -> None:
        self._load_model()
        n_blocks = self.n_blocks_
        if (
            isinstance(self.level, bool)
            or not isinstance(self.level, (int, np.integer))
            or not 0 <= self.level <= n_blocks
        ):
            raise ValueError(f"level must be an integer in 0..{n_blocks}, got {self.level!r}")
        cfg = self.model_.config
        width = cfg.embedding_dim if self.level == 0 else cfg.block_units[-1]
        self.feature_names_ = [f"megnet_V{int(self.level)}_{j}" for j in range(width)]
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
        extra = tuple(f"V{k}" for k in range(int(self.level)))
        if self.cache not in (None, False) and self.level == self.n_blocks_:
            # the readout costs little next to the blocks: cache it for a structure
            # featurizer of the same grid search / pipeline
            extra += (*(f"u{k}" for k in range(1, self.n_blocks_ + 1)), *_GRAPH_KEYS)
        res = self._compute(items, (key, "site_weight"), extra)
        values = np.concatenate(res[key])
        weights = np.concatenate(res["site_weight"]).astype(np.float64)
        lengths = np.fromiter((len(v) for v in res[key]), dtype=np.int64, count=len(items))
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return RaggedSets(values, offsets, weights, feature_names=names)


class MEGNetStructureFeaturizer(_MEGNetMixin, BaseVectorFeaturizer):
    """Structure-level MEGNet features: block states, Set2Set readouts or the final vector.

    Vacancies are refused: a structure with a site whose total occupancy is below 1 raises
    :class:`~skatomsets.megnet.graph.GraphConstructionError` naming the row and site. The
    MEGNet graph has no notion of a vacancy and its state update and Set2Set readouts count
    every site in full, so the features (and the parent's prediction) of a structure whose
    Fe sites are 5 % occupied would be bit-identical to the fully occupied one. Mixed sites
    whose occupancies sum to 1 (``{"Fe": 0.5, "Ni": 0.5}``) are accepted (the site is
    embedded as the occupancy-weighted mean of its species). For partly vacant structures
    use :class:`MEGNetSiteFeaturizer`, whose sets weight each site by its occupancy.

    Parameters
    ----------
    features : str or sequence of str, default=("f",)
        Which features to concatenate, in order: ``"u1"``..``"u3"`` (state output of a
        block, before the residual addition, 32 each), ``"v_r"`` (atom Set2Set readout, 32),
        ``"e_r"`` (bond Set2Set readout, 32), ``"f"`` (``[v_r, e_r, u]`` entering the
        parent's output MLP, 96) or ``"prediction"`` (the parent's output, e.g. formation
        energy in eV/atom).
    model : str, path or MEGNet, default="formation_energy_mp-2019.4.1"
        The parent network (see :class:`MEGNetSiteFeaturizer`).
    batch_size : int, default=64
        Structures per forward pass.
    allow_isolated : bool, default=False
        See :class:`MEGNetSiteFeaturizer`.
    cache : bool, str or Path, default=True
        See :class:`MEGNetSiteFeaturizer`.
    n_jobs : int, default=None
        Parallel jobs (joblib) over chunks; None means 1.
    chunk_size : int, default=4096
        Structures per chunk (unit of parallelism and progress).
    progress : bool, default=False
        Show a tqdm progress bar over chunks.

    Attributes
    ----------
    model_ : MEGNet
    model_checksum_ : str
    feature_names_ : list of str
        ``megnet_<feature>_<j>``.
    n_features_out_ : int

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure(Lattice.cubic(5.69), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> MEGNetStructureFeaturizer(features=("u1", "v_r")).fit_transform([nacl]).shape
    (1, 64)
    """

    def __init__(
        self,
        features: str | tuple[str, ...] = ("f",),
        model: str | Path | MEGNet = "formation_energy_mp-2019.4.1",
        batch_size: int = 64,
        allow_isolated: bool = False,
        cache: bool | str | Path | None = True,
        n_jobs: int | None = None,
        chunk_size: int = 4096,
        progress: bool = False,
    ) -> None:
        self.features = features
        self.model = model
        self.batch_size = batch_size
        self.allow_isolated = allow_isolated
        self.cache = cache
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.progress = progress

    _citations = [_MEGNET_CITATION, _ATOMSETS_CITATION]

    def _feature_keys(self) -> tuple[str, ...]:
        feats = (self.features,) if isinstance(self.features, str) else tuple(self.features)
        valid = [f"u{k}" for k in range(1, self.n_blocks_ + 1)] + list(_GRAPH_KEYS)
        if not feats:
            raise ValueError("features must name at least one feature")
        bad = [f for f in feats if f not in valid]
        if bad:
            raise ValueError(f"unknown MEGNet structure feature(s) {bad}; choose from {valid}")
        if len(set(feats)) != len(feats):
            raise ValueError(f"features has duplicates: {list(feats)}")
        return feats

    def _load(self) -> None:
        self._load_model()
        cfg = self.model_.config
        width = {f"u{k}": cfg.block_units[-1] for k in range(1, self.n_blocks_ + 1)}
        width.update(
            v_r=2 * cfg.set2set_hidden,
            e_r=2 * cfg.set2set_hidden,
            f=4 * cfg.set2set_hidden + cfg.block_units[-1],
            prediction=cfg.n_targets,
        )
        names: list[str] = []
        for f in self._feature_keys():
            if f == "prediction" and cfg.n_targets == 1:
                names.append("megnet_prediction")
            else:
                names.extend(f"megnet_{f}_{j}" for j in range(width[f]))
        self.feature_names_ = names
        self.n_features_out_ = len(names)

    def _featurize_chunk(self, items: list[Any]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        feats = self._feature_keys()
        readout = any(f in _GRAPH_KEYS for f in feats)
        # with a cache, everything the same forward pass produces is cached as well
        last = self.n_blocks_ if readout else max(int(f[1:]) for f in feats)
        free = [f"u{k}" for k in range(1, last + 1)] + (list(_GRAPH_KEYS) if readout else [])
        if self.cache not in (None, False):
            free += ["site_weight", *(f"V{k}" for k in range(last + 1))]
        extra = tuple(k for k in free if k not in feats)
        structures = _as_structures(items)
        check_full_occupancy(structures, range(len(structures)), _VACANCY_HELP)
        res = self._compute(structures, feats, extra)
        cols = [np.concatenate(res[f], axis=0) for f in feats]
        return np.concatenate(cols, axis=1).astype(np.float32, copy=False)
