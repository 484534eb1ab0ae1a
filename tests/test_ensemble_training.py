"""The members of an ensemble trained together (``estimators._ensemble``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
)
from skatomsets.estimators import _data, _ensemble
from skatomsets.estimators._data import TensorData
from skatomsets.estimators._progress import training_progress
from skatomsets.sets import RaggedSets

FORMULAS = [f"Fe{10 - a}Ni{a}O{b + 1}" for a in range(1, 9) for b in range(6)]  # 48


@pytest.fixture(scope="module")
def sets():
    return ElementEmbeddingFeaturizer().fit_transform(FORMULAS)


def _y(n):
    return np.sin(np.arange(n) * 0.7) + 0.1 * np.arange(n) / n


def _site_like_sets(n=48, seed=0):
    """Sets with all-distinct member rows (site features): the members' own path."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 5, size=n)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    values = rng.normal(size=(offsets[-1], 6)).astype(np.float32)
    return RaggedSets(values, offsets, rng.uniform(0.5, 2, size=offsets[-1]))


CASES = {
    "mean": (AtomSetsRegressor, {}),
    "set2set": (AtomSetsRegressor, {"readout": "set2set"}),
    "embedding": (AtomSetsRegressor, {"embedding_dim": 4}),
    "no batch norm": (AtomSetsRegressor, {"batch_norm": False, "activation": "relu"}),
    "members' path": (AtomSetsRegressor, {}),
    "members' path set2set": (AtomSetsRegressor, {"readout": "set2set"}),
    "huber, 2 targets": (AtomSetsRegressor, {"loss": "huber"}),
    "sample weights": (AtomSetsRegressor, {}),
    "extras": (AtomSetsRegressor, {}),
    "classifier": (AtomSetsClassifier, {}),
    "mlp": (AtomSetsMLPRegressor, {}),
    "mlp classifier": (AtomSetsMLPClassifier, {}),
}


def _case(name, sets):
    Est, kw = CASES[name]
    X, y, fit_kw = sets, _y(len(sets)), {}
    if name == "embedding":
        X = ElementEmbeddingFeaturizer("atomic_number").fit_transform(FORMULAS)
    if "members' path" in name:
        X = _site_like_sets()
    if name == "huber, 2 targets":
        y = np.c_[y, -2 * y]
    if name == "sample weights":
        fit_kw["sample_weight"] = np.r_[np.ones(24), 3 * np.ones(24)]
    if name == "extras":
        X = X.with_extras(np.arange(48.0)[:, None].astype(np.float32) % 5, ["t"])
    if "classifier" in name:
        y = (y > 0).astype(int)
    if Est in (AtomSetsMLPRegressor, AtomSetsMLPClassifier):
        X = np.random.default_rng(1).normal(size=(48, 5)).astype(np.float32)
    est = Est(max_epochs=3, batch_size=8, n_ensemble=2, random_state=0, device="cpu", **kw)
    return est, X, y, fit_kw


def _scores(hist):
    return [row.get("valid_mae", row.get("valid_auc")) for row in hist]


@pytest.mark.parametrize("name", list(CASES))
def test_members_trained_together_follow_the_sequential_curves(name, sets, monkeypatch):
    """Same initialisation, split and batches as one after another: the same curves."""
    if "members' path" in name:  # no distinct-row shortcut: every member's own rows
        monkeypatch.setattr(_data, "USE_VOCABULARY", False)
    est, X, y, fit_kw = _case(name, sets)
    together = est.fit(X, y, **fit_kw)
    hist_together = [
        [row.get("valid_mae", row.get("valid_auc")) for row in h] for h in together.history_
    ]
    monkeypatch.setattr(_ensemble, "VECTORISED", False)
    est2, X, y, fit_kw = _case(name, sets)
    alone = est2.fit(X, y, **fit_kw)
    hist_alone = [_scores(h) for h in alone.history_]
    assert len(together.nets_) == len(alone.nets_) == 2
    np.testing.assert_allclose(hist_together, hist_alone, rtol=2e-3)
    np.testing.assert_allclose(
        [[r["train_loss"] for r in h] for h in together.history_],
        [[r["train_loss"] for r in h] for h in alone.history_],
        rtol=2e-3,
    )
    pred = together.predict_proba(X) if "classifier" in name else together.predict(X)
    ref = alone.predict_proba(X) if "classifier" in name else alone.predict(X)
    np.testing.assert_allclose(pred, ref, rtol=1e-2, atol=1e-3)


def test_dropout_members_train_together(sets):
    est = AtomSetsRegressor(
        dropout=0.2, max_epochs=3, batch_size=8, n_ensemble=2, random_state=0, device="cpu"
    ).fit(sets, _y(48))
    mean, std = est.predict(sets, return_std=True)
    assert np.isfinite(mean).all() and (std > 0).any()


def test_each_member_stops_on_its_own_and_keeps_its_best_weights(sets):
    y = _y(48)
    est = AtomSetsRegressor(
        max_epochs=60,
        patience=3,
        lr=0.05,
        batch_size=8,
        n_ensemble=4,
        random_state=1,
        device="cpu",
    ).fit(sets, y)
    lengths = [len(h) for h in est.history_]
    assert len(set(lengths)) > 1  # they stopped at different epochs
    outs = est._forward_all(sets)[:, :, 0] * est.y_scale_[0] + est.y_mean_[0]
    for k, (net, hist, best) in enumerate(
        zip(est.nets_, est.history_, est.best_epochs_, strict=True)
    ):
        valid = np.array(hist[:, "valid_mae"])
        assert lengths[k] == best + 3 or lengths[k] == 60  # patience epochs after the best
        assert best == int(np.argmin(valid)) + 1
        _, rows = net.train_split.indices(TensorData(sets, y))
        # the kept weights reproduce the member's best validation MAE
        mae = np.mean(np.abs(outs[k, rows] - y[rows]))
        assert mae == pytest.approx(valid.min(), rel=1e-4)


def test_without_validation_every_member_keeps_its_last_epoch(sets):
    est = AtomSetsRegressor(
        max_epochs=5, validation_fraction=None, n_ensemble=2, random_state=0, device="cpu"
    ).fit(sets, _y(48))
    assert est.best_epochs_ == [5, 5]
    assert "valid_mae" not in est.history_[0][-1]


def test_progress_shows_one_bar_for_the_members_trained_together(sets, capsys):
    with training_progress("fold 0"):
        AtomSetsRegressor(max_epochs=2, n_ensemble=3, random_state=0, device="cpu").fit(
            sets, _y(48)
        )
    assert "fold 0, networks 1-3" in capsys.readouterr().err


def test_verbose_prints_one_line_per_epoch(sets, capsys):
    AtomSetsRegressor(max_epochs=2, n_ensemble=2, random_state=0, device="cpu", verbose=1).fit(
        sets, _y(48)
    )
    out = capsys.readouterr().out
    assert "epoch    1" in out and "epoch    2" in out and "valid_mae" in out


def test_stacked_fit_leaves_the_global_torch_rng_alone(sets):
    import torch

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    AtomSetsRegressor(dropout=0.1, max_epochs=2, n_ensemble=2, random_state=0, device="cpu").fit(
        sets, _y(48)
    )
    assert torch.equal(torch.random.get_rng_state(), before)


def test_dataframe_extras_through_a_pipeline(sets):
    """Extras standardised by the estimator reach every member's rho."""
    X = sets.with_extras(np.linspace(0, 1, 48)[:, None].astype(np.float32), ["t"])
    est = AtomSetsRegressor(max_epochs=2, n_ensemble=2, random_state=0, device="cpu")
    est.fit(X, _y(48))
    assert est.nets_[0].module_.n_extras == 1
    assert pd.Series(est.predict(X)).notna().all()
