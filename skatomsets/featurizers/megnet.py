"""Structure featurizers built on a pretrained MEGNet parent network (AtomSets V1-V3, f).

:class:`MEGNetSiteFeaturizer` gives per-site feature sets (a :class:`~skatomsets.sets.RaggedSets`
with the site occupancies as weights): ``level=0`` is the element embedding of each site,
``level=k`` the atom output of MEGNet block ``k`` (before its residual addition), i.e. the
V0..V3 features of AtomSets. :class:`MEGNetStructureFeaturizer` gives fixed-length
structure vectors: the state output of a block (``u1``..``u3``), the Set2Set readouts
(``v_r`` atoms, ``e_r`` bonds) or the concatenated readout ``f`` that enters the parent's
output MLP.

Both are the parent featurizers of :mod:`skatomsets.featurizers.parent` on the MEGNet parent
(:class:`~skatomsets.parents.megnet.MEGNetParent`, built from ``model``, ``batch_size`` and
``allow_isolated``): caching, ``n_jobs``, progress bars and the input checks are theirs.
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

from numbers import Integral
from pathlib import Path
from typing import Any

from .._sklearn_compat import Interval
from ..megnet.model import MEGNet
from ..parents import parent_info
from ..parents.megnet import MEGNetParent
from ._base import ATOMSETS_CITATION
from .parent import ParentSiteFeaturizer, ParentStructureFeaturizer

__all__ = ["MEGNetSiteFeaturizer", "MEGNetStructureFeaturizer"]


def _megnet_constraints(base: type) -> dict:
    """``base``'s parameter constraints with MEGNet's own parameters instead of ``parent``."""
    shared = {k: v for k, v in base._parameter_constraints.items() if k != "parent"}
    return {
        **shared,
        "model": [str, Path, MEGNet],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "allow_isolated": ["boolean"],
    }


class _MEGNetParentMixin:
    """The MEGNet parent from ``model``, ``batch_size``, ``allow_isolated``; MEGNet's names."""

    model: Any
    batch_size: int
    allow_isolated: bool
    _citations = [parent_info("megnet").citation, ATOMSETS_CITATION]

    def _resolve_parent(self) -> MEGNetParent:
        return MEGNetParent(self.model, self.batch_size, bool(self.allow_isolated))

    def _load(self) -> None:
        super()._load()  # type: ignore[misc]
        model = self.parent_.model  # type: ignore[attr-defined]
        self.model_: MEGNet = model
        self.model_checksum_ = model.checksum()
        self.n_blocks_ = model.config.n_blocks


class MEGNetSiteFeaturizer(_MEGNetParentMixin, ParentSiteFeaturizer):
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
    parent_ : MEGNetParent
        The parent (holding ``model_``), as every parent featurizer has.
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

    _parameter_constraints: dict = _megnet_constraints(ParentSiteFeaturizer)

    def __init__(
        self,
        level: int = 3,
        *,
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


class MEGNetStructureFeaturizer(_MEGNetParentMixin, ParentStructureFeaturizer):
    """Structure-level MEGNet features: block states, Set2Set readouts or the final vector.

    Vacancies are refused: a structure with a site whose total occupancy is below 1 raises
    :class:`~skatomsets.exceptions.GraphConstructionError` naming the row and site. The
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
    parent_ : MEGNetParent
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

    _parameter_constraints: dict = _megnet_constraints(ParentStructureFeaturizer)

    def __init__(
        self,
        features: str | tuple[str, ...] = ("f",),
        *,
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
