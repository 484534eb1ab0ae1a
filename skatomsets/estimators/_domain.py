"""Domain of applicability: how far a material is from the training data, in the model's eyes.

Every neural estimator stores, at the end of ``fit``, the *latent vectors* of (up to
:data:`DOMAIN_MAX_REFERENCE`) training materials: the input of the network's last linear layer,
i.e. the representation the trained network predicts from (for the set models: after the
readout and ``rho``; for the MLPs: the last hidden layer; for MEGNet: the last hidden layer of
the output MLP). Each latent dimension is standardised over the training materials.

The **domain score** of a material is the mean Euclidean distance of its latent vector to its
:data:`DOMAIN_K` nearest training materials, divided by the median of the same distance
among the training materials themselves (leave-one-out: a training material is not its own
neighbour). A score of 1 is a typical training material; larger is farther out. With an
ensemble, each member's score is computed in its own latent space and the scores are
averaged.

The **threshold** ``domain_threshold_`` is the :data:`DOMAIN_QUANTILE` quantile of the
training materials' own (leave-one-out) scores: a material is flagged as *out of domain*
when it is farther from the training data than 99 % of training materials are from theirs.
For new materials drawn from the training distribution about 1 % are flagged; a material
unlike anything in training (e.g. a sulfide given to a steels model) scores far above it.
The threshold is never below :data:`DOMAIN_MIN_THRESHOLD` (0.001, a thousandth of the
typical training distance): when the training materials are all (or nearly all) the same,
their own scores are 0 and so would the 99th percentile be, and a training material scored
again (its latent vector equal up to float32 rounding, which depends on the batch it is
computed in) would be flagged as out of its own domain.

Measured (``scripts/domain_of_applicability.py``, default ``atomsets-v0``, random_state=0,
official fold 0): Spearman(domain score, |error|) on the held-out rows is 0.53 on
matbench_expt_gap (921 rows; the 2 flagged rows have MAE 4.7 eV vs 0.51 eV) and 0.36 on
matbench_steels (63 rows); with ``n_ensemble=5`` it is 0.37 on steels (ensemble std: 0.57)
and 0.40 on matbench_jdft2d (ensemble std: 0.31). The readout space (input of ``rho``)
ranks the errors worse (expt_gap -0.21, jdft2d 0.28), hence the last hidden layer.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import ThreadpoolController

__all__ = [
    "DOMAIN_K",
    "DOMAIN_MAX_REFERENCE",
    "DOMAIN_MIN_THRESHOLD",
    "DOMAIN_QUANTILE",
    "LatentDomain",
]

#: Neighbours averaged in the distance.
DOMAIN_K = 5
#: Most training materials kept as the reference (a fixed-seed random subsample beyond it).
DOMAIN_MAX_REFERENCE = 10_000
#: Quantile of the training scores used as the out-of-domain threshold.
DOMAIN_QUANTILE = 0.99
#: Below this many reference materials the neighbour search runs on one thread: sklearn's
#: OpenMP pool costs more to start (and, on a busy machine, to spin) than it saves there
#: (measured: 300 x 64-d latents, 3 members, load ~11 on 2 cores: 1.02 s -> 0.09 s).
DOMAIN_SERIAL_ROWS = 2000
#: Smallest threshold: training materials, whose own scores are 0 up to float32 rounding
#: when they all coincide, are never flagged (a thousandth of the typical distance).
DOMAIN_MIN_THRESHOLD = 1e-3


def latent_vectors(nets: list[Any], data: Any, layer: str = "out") -> list[np.ndarray]:
    """Per ensemble member, the input of module ``layer`` for every sample: (n, d) float32."""
    out = []
    for net in nets:
        if len(data) == 0:
            width = getattr(net.module_, layer).in_features if layer == "out" else 0
            out.append(np.zeros((0, width), dtype=np.float32))
            continue
        captured: list[torch.Tensor] = []

        def hook(module, args, _captured=captured):
            _captured.append(args[0].detach().float().cpu())

        handle = getattr(net.module_, layer).register_forward_pre_hook(hook)
        try:
            net.forward(data, training=False, device="cpu")
        finally:
            handle.remove()
        out.append(torch.cat(captured).numpy())
    return out


def _kneighbors(ref: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Distances of each query to its ``k`` nearest reference rows, (n_queries, k)."""
    search = NearestNeighbors(n_neighbors=k).fit(ref)
    if len(ref) >= DOMAIN_SERIAL_ROWS:
        return search.kneighbors(queries)[0]
    with _thread_pools().limit(limits=1):
        return search.kneighbors(queries)[0]


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The native thread pools, found once (``threadpool_limits`` scans them every call)."""
    return ThreadpoolController()


class LatentDomain:
    """Fitted reference of the domain score (see the module docstring).

    Parameters
    ----------
    k : int
        Neighbours averaged.
    quantile : float
        Quantile of the training scores used as :attr:`threshold`.

    Attributes
    ----------
    reference : list of ndarray (n_ref, d), float32
        Standardised latent vectors of the reference training materials, per member.
    mean, scale : list of ndarray (d,)
        Standardisation of each member's latent space.
    typical : list of float
        Median leave-one-out k-NN distance of the reference materials, per member.
    training_scores : ndarray (n_ref,)
        The reference materials' own (leave-one-out) scores.
    threshold : float
        ``quantile`` of ``training_scores``, at least :data:`DOMAIN_MIN_THRESHOLD`.
    """

    def __init__(self, k: int = DOMAIN_K, quantile: float = DOMAIN_QUANTILE) -> None:
        self.k = k
        self.quantile = quantile

    def fit(self, latents: list[np.ndarray]) -> LatentDomain:
        """Fit on the training materials' latent vectors (one array per member)."""
        self.reference, self.mean, self.scale, self.typical = [], [], [], []
        loo_scores = []
        for z in latents:
            z = z.astype(np.float64)
            mean = z.mean(axis=0)
            scale = z.std(axis=0)
            scale = np.where(scale > 1e-12, scale, 1.0)
            ref = ((z - mean) / scale).astype(np.float32)
            k = max(1, min(self.k, len(ref) - 1))
            dist = _kneighbors(ref, ref, k + 1)
            loo = dist[:, 1:].mean(axis=1)  # drop the material itself (distance 0)
            typical = float(np.median(loo))
            typical = typical if typical > 0 else 1.0
            self.reference.append(ref)
            self.mean.append(mean)
            self.scale.append(scale)
            self.typical.append(typical)
            loo_scores.append(loo / typical)
        self.training_scores = np.mean(loo_scores, axis=0)
        quantile = float(np.quantile(self.training_scores, self.quantile))
        self.threshold = max(quantile, DOMAIN_MIN_THRESHOLD)
        return self

    def score(self, latents: list[np.ndarray]) -> np.ndarray:
        """Domain score of new materials (one latent array per member): (n,) float64."""
        scores = []
        for z, ref, mean, scale, typical in zip(
            latents, self.reference, self.mean, self.scale, self.typical, strict=True
        ):
            if len(z) == 0:
                scores.append(np.zeros(0))
                continue
            q = ((z.astype(np.float64) - mean) / scale).astype(np.float32)
            k = max(1, min(self.k, len(ref) - 1))
            dist = _kneighbors(ref, q, k)
            scores.append(dist.mean(axis=1) / typical)
        return np.mean(scores, axis=0)


class DomainMixin:
    """``domain_score`` / ``out_of_domain`` for the neural estimators (fitted in ``fit``)."""

    #: module whose input is the latent vector (``"out"``: the last linear layer)
    _domain_layer = "out"

    def _fit_domain(self, data: Any) -> None:
        n = len(data)
        if n > DOMAIN_MAX_REFERENCE:
            idx = np.sort(np.random.default_rng(0).choice(n, DOMAIN_MAX_REFERENCE, replace=False))
            data = data.subset(idx)
        latents = latent_vectors(self.nets_, data, self._domain_layer)
        self.domain_ = LatentDomain().fit(latents)

    @property
    def domain_threshold_(self) -> float:
        """Domain score above which :meth:`out_of_domain` flags a material (see
        :meth:`domain_score`): the 99th percentile of the training materials' own scores,
        at least 0.001 (so that training materials are never flagged, even when they are
        all identical)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        self._check_domain_fitted()
        return self.domain_.threshold

    def _check_domain_fitted(self) -> None:
        if not hasattr(self, "domain_"):
            raise AttributeError(
                f"this {type(self).__name__} was fitted by an older skatomsets without a "
                "domain of applicability; refit it to use domain_score"
            )

    def domain_score(self, X: Any) -> np.ndarray:
        """Distance of each material to the training data in the network's latent space.

        The mean Euclidean distance (each latent dimension standardised over the training
        materials) from the material's latent vector - the input of the network's last
        linear layer - to its 5 nearest training materials, divided by the median of that
        distance among the training materials themselves (leave-one-out). 1 is a typical
        training material; above :attr:`domain_threshold_` (the training scores' 99th
        percentile) the material is farther from the training data than 99 % of the
        training materials, and :meth:`out_of_domain` flags it. With an ensemble, the
        members' scores are averaged. Up to 10,000 training materials are kept as the
        reference (a fixed-seed random subsample beyond that).

        Parameters
        ----------
        X : RaggedSets or array-like
            Featurized inputs, as in ``predict``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Non-negative scores.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        self._check_domain_fitted()
        data = self._data_class(self._check_X(X, reset=False))
        return self.domain_.score(latent_vectors(self.nets_, data, self._domain_layer))

    def out_of_domain(self, X: Any) -> np.ndarray:
        """True for materials whose :meth:`domain_score` exceeds :attr:`domain_threshold_`.

        Parameters
        ----------
        X : RaggedSets or array-like
            Featurized inputs, as in ``predict``.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
        """
        return self.domain_score(X) > self.domain_threshold_
