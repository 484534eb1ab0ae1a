"""Uncertainty everywhere: ensemble spread of class probabilities, domain of applicability."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
)
from skatomsets.estimators import _domain
from skatomsets.estimators._domain import LatentDomain
from skatomsets.uncertainty import domain_score, domain_threshold, out_of_domain

FAST = {
    "max_epochs": 20,
    "batch_size": 16,
    "lr": 3e-3,
    "n_ensemble": 1,
    "random_state": 0,
    "device": "cpu",
}
#: iron-rich alloys, like a steels data set
ALLOYS = [
    f"Fe{80 - a - b}Cr{a}Ni{b}C1" for a, b in [(i % 7 + 5, (3 * i) % 11 + 2) for i in range(40)]
]


@pytest.fixture(scope="module")
def alloy_model():
    y = np.array([float(i % 7) for i in range(len(ALLOYS))])
    model = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**FAST))
    return model.fit(ALLOYS, y)


def test_classifier_predict_proba_returns_the_ensemble_spread() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "metal", "insulator")
    clf = AtomSetsMLPClassifier(**{**FAST, "n_ensemble": 3}).fit(X, y)
    mean, std = clf.predict_proba(X, return_std=True)
    assert mean.shape == std.shape == (40, 2)
    np.testing.assert_allclose(mean, clf.predict_proba(X))
    members = torch.softmax(torch.from_numpy(clf._forward_all(X)), dim=-1).numpy()
    np.testing.assert_allclose(std, members.std(axis=0), rtol=1e-6)
    assert (std > 0).any() and (std >= 0).all()
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, rtol=1e-6)


def test_set_classifier_proba_std_through_a_pipeline_and_single_net_refuses() -> None:
    labels = [i % 2 for i in range(len(ALLOYS))]
    pipe = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsClassifier(**{**FAST, "n_ensemble": 2})
    )
    mean, std = pipe.fit(ALLOYS, labels).predict_proba(ALLOYS[:3], return_std=True)
    assert mean.shape == std.shape == (3, 2)
    single = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsClassifier(**FAST))
    with pytest.raises(ValueError, match="n_ensemble >= 2"):
        single.fit(ALLOYS, labels).predict_proba(ALLOYS[:3], return_std=True)


def test_domain_score_flags_a_material_unlike_the_training_data(alloy_model) -> None:
    est = alloy_model[-1]
    far = ["Yb(InS2)3", "NaCl"]
    scores = domain_score(alloy_model, far)
    train_scores = domain_score(alloy_model, ALLOYS)
    assert scores.shape == (2,)
    assert (scores > est.domain_threshold_).all()
    assert out_of_domain(alloy_model, far).all()
    assert np.median(train_scores) < est.domain_threshold_ < scores.min()
    assert domain_threshold(alloy_model) == est.domain_threshold_
    Xt = alloy_model[:-1].transform(far)
    np.testing.assert_allclose(est.domain_score(Xt), scores)
    np.testing.assert_array_equal(est.out_of_domain(Xt), [True, True])


def test_threshold_is_the_99th_percentile_of_the_training_scores(alloy_model) -> None:
    dom = alloy_model[-1].domain_
    assert dom.threshold == pytest.approx(np.quantile(dom.training_scores, 0.99))
    assert np.median(dom.training_scores) == pytest.approx(1.0, rel=0.05)


def test_domain_survives_pickling(alloy_model) -> None:
    again = pickle.loads(pickle.dumps(alloy_model))
    np.testing.assert_array_equal(
        domain_score(again, ["Yb(InS2)3"]), domain_score(alloy_model, ["Yb(InS2)3"])
    )


def test_latent_domain_leave_one_out_and_far_points() -> None:
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(200, 4)).astype(np.float32)
    dom = LatentDomain(k=5).fit([cloud])
    assert np.median(dom.training_scores) == pytest.approx(1.0)
    near, far = dom.score([np.array([[0.0] * 4, [8.0] * 4])])
    # the latent of a training point scores like its leave-one-out score, not 0
    own = dom.score([cloud[:1]])[0]
    assert 0 < own < dom.training_scores[0]
    assert near < 1.0 < dom.threshold < far


def test_reference_is_subsampled_to_bound_memory(monkeypatch) -> None:
    monkeypatch.setattr(_domain, "DOMAIN_MAX_REFERENCE", 25)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    est = AtomSetsMLPRegressor(**{**FAST, "max_epochs": 2}).fit(X, X[:, 0])
    assert est.domain_.reference[0].shape == (25, est.n_neurons_)
    assert est.domain_score(X).shape == (60,)


def test_ensemble_averages_the_members_scores() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    est = AtomSetsMLPRegressor(**{**FAST, "max_epochs": 3, "n_ensemble": 2}).fit(X, X[:, 1])
    assert len(est.domain_.reference) == 2
    far = X[:2] * 50
    assert (est.domain_score(far) > est.domain_threshold_).all()


def test_domain_score_of_an_unfitted_or_non_neural_model_is_a_clear_error() -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LinearRegression

    with pytest.raises(NotFittedError):
        AtomSetsRegressor().domain_score(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="no domain of applicability"):
        domain_score(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), [[0.5]])


def test_identical_training_rows_are_not_flagged_out_of_their_own_domain() -> None:
    """Issue 30 #11: identical rows gave domain_threshold_ = 0.0, flagging the training rows."""
    X = ElementEmbeddingFeaturizer().fit_transform(["Fe2O3"] * 20)
    y = np.linspace(0.0, 1.0, 20)
    est = AtomSetsRegressor(**{**FAST, "max_epochs": 3}).fit(X, y)
    assert est.domain_threshold_ >= _domain.DOMAIN_MIN_THRESHOLD > 0
    assert not est.out_of_domain(X).any()
    assert not est.out_of_domain(X[:1]).any()  # scored alone: another float32 batch
    assert est.out_of_domain(ElementEmbeddingFeaturizer().fit_transform(["NaCl"])).all()


def test_latent_domain_threshold_has_a_floor_for_coinciding_training_points() -> None:
    dom = LatentDomain(k=5).fit([np.ones((30, 4), dtype=np.float32)])
    assert dom.threshold == _domain.DOMAIN_MIN_THRESHOLD
    noisy = np.ones((1, 4), dtype=np.float32) + np.float32(1e-6)  # float32 rounding
    assert dom.score([noisy])[0] < dom.threshold
