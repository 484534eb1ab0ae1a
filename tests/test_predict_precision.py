"""Predictions do not depend on what else is in the batch: float64 inference on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    RaggedSets,
)


def _sets(n: int = 60, seed: int = 0) -> RaggedSets:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, size=n)  # sets of 1 to 5 members: the small-row BLAS kernels
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    values = rng.normal(size=(offsets[-1], 7)).astype(np.float32)
    weights = rng.uniform(0.2, 1.0, size=offsets[-1])
    extras = rng.normal(size=(n, 2))
    return RaggedSets(values, offsets, weights, extras=extras)


def _one_by_one(method, X) -> np.ndarray:
    return np.concatenate([method(X[i : i + 1]) for i in range(len(X))])


@pytest.mark.parametrize("readout", ["mean", "set2set"])
def test_set_regressor_predicts_each_row_alone_as_in_the_whole_batch(fast, readout) -> None:
    X = _sets()
    y = np.asarray([v.sum() for v in np.split(X.values, X.offsets[1:-1])])
    est = AtomSetsRegressor(readout=readout, **fast).fit(X, y)
    full = est.predict(X)
    np.testing.assert_allclose(_one_by_one(est.predict, X), full, rtol=0, atol=1e-12)
    # the fitted network itself stays float32: inference uses float64 copies of its weights
    assert {p.dtype for p in est.nets_[0].module_.parameters()} == {torch.float32}


def test_classifier_and_mlp_probabilities_do_not_depend_on_the_batch(fast) -> None:
    X = _sets(seed=1)
    labels = (X.extras[:, 0] > 0).astype(int)
    clf = AtomSetsClassifier(**fast).fit(X, labels)
    full = clf.predict_proba(X)
    np.testing.assert_allclose(_one_by_one(clf.predict_proba, X), full, rtol=0, atol=1e-12)
    dense = np.random.default_rng(2).normal(size=(40, 9))
    mlp = AtomSetsMLPRegressor(**fast).fit(dense, dense @ np.arange(9.0))
    np.testing.assert_allclose(
        _one_by_one(mlp.predict, dense), mlp.predict(dense), rtol=0, atol=1e-12
    )


def test_float64_inference_matches_the_float32_network_to_float32_rounding(fast) -> None:
    X = _sets(seed=3)
    y = X.extras[:, 1] * 3.0
    est = AtomSetsRegressor(**fast).fit(X, y)
    net = est.nets_[0]
    data = est._data_class(est._check_X(X, reset=False))
    f32 = net.forward(data, training=False, device="cpu").numpy()[:, 0]
    f32 = f32 * est.y_scale_[0] + est.y_mean_[0]
    np.testing.assert_allclose(est.predict(X), f32, rtol=1e-5, atol=1e-5 * np.abs(y).max())


def test_forward_hooks_on_the_trained_network_still_fire_at_predict(fast) -> None:
    """The float64 pass runs the network's own module: a user's stateful hook records it."""
    X = _sets(seed=4)
    est = AtomSetsRegressor(**fast).fit(X, X.extras[:, 0])

    class Recorder:
        def __init__(self) -> None:
            self.shapes: list[tuple[int, ...]] = []

        def __call__(self, module, args, output) -> None:
            self.shapes.append(tuple(output.shape))

    rec = Recorder()
    handle = est.nets_[0].module_.rho.register_forward_hook(rec)
    try:
        est.predict(X)
    finally:
        handle.remove()
    assert sum(s[0] for s in rec.shapes) == len(X)
