"""Reliability of fits: no fit that fails quietly, clear errors before torch's own."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
    MEGNetSiteFeaturizer,
)
from skatomsets.estimators import _ensemble

FORMULAS = ["Fe2O3", "NaCl", "MgO", "Al2O3", "SiO2", "TiO2", "CuO", "ZnO", "NiO", "CoO"]


@pytest.fixture(scope="module")
def sets():
    return ElementEmbeddingFeaturizer().fit_transform(FORMULAS)


def test_two_sample_classifier_refuses_to_fit_with_no_training_sample(sets):
    clf = AtomSetsClassifier(max_epochs=3, random_state=0, device="cpu")
    with pytest.raises(ValueError, match="only 0 of 2 samples left for training"):
        clf.fit(sets[:2], [0, 1])
    # without a validation split it trains
    clf.set_params(validation_fraction=None).fit(sets[:2], [0, 1])


def test_validation_fraction_leaving_no_training_data_is_an_error(sets):
    clf = AtomSetsClassifier(max_epochs=3, validation_fraction=0.95, device="cpu")
    with pytest.raises(ValueError, match=r"validation_fraction=0\.95"):
        clf.fit(sets, [0, 1] * 5)


@pytest.mark.parametrize(
    ("n", "est"),
    [
        (2, AtomSetsRegressor(max_epochs=2, device="cpu")),
        (3, AtomSetsClassifier(max_epochs=2, device="cpu")),
    ],
)
def test_one_training_sample_is_a_clear_error_not_a_batchnorm_crash(sets, n, est):
    y = np.arange(n) % 2 if isinstance(est, AtomSetsClassifier) else np.arange(n, dtype=float)
    with pytest.raises(ValueError, match=f"only 1 of {n} samples left for training"):
        est.fit(sets[:n], y)


def test_batch_size_one_with_batch_norm_is_a_clear_error(sets):
    reg = AtomSetsRegressor(max_epochs=2, batch_size=1, device="cpu")
    with pytest.raises(ValueError, match="batch_size=1 cannot train with batch normalisation"):
        reg.fit(sets, np.arange(10.0))
    reg.set_params(batch_norm=False).fit(sets, np.arange(10.0))  # fine without it


def test_batch_norm_must_be_a_bool(sets):
    with pytest.raises(ValueError, match="'batch_norm' parameter of AtomSetsRegressor must be"):
        AtomSetsRegressor(max_epochs=2, batch_norm=np.str_("no")).fit(sets, np.arange(10.0))


def test_diverged_training_raises_instead_of_predicting_nan(sets):
    reg = AtomSetsRegressor(
        max_epochs=10, lr=1e6, loss="mse", n_ensemble=1, random_state=0, device="cpu"
    )
    with pytest.raises(ValueError, match="diverged: ensemble member 1/1 ended with non-finite"):
        reg.fit(sets, np.arange(10.0))


def test_nan_outputs_at_predict_are_an_error_naming_the_row(sets):
    reg = AtomSetsMLPRegressor(max_epochs=2, random_state=0, device="cpu")
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    reg.fit(X, np.arange(10.0))
    # an infinite weight on feature 1: softplus(-inf) = 0 keeps every row whose feature 1 is
    # positive finite; row 4's negative value sends +inf through the network
    with torch.no_grad():
        first = next(m for m in reg.nets_[0].module_.modules() if isinstance(m, torch.nn.Linear))
        first.weight[:, 1] = -float("inf")
    X[:, 1] = np.abs(X[:, 1]) + 0.5
    assert np.isfinite(reg.predict(X)).all()
    X[4, 1] = -1.0
    with pytest.raises(ValueError, match="row 4: the network output is NaN, infinite or beyond"):
        reg.predict(X)


def test_outputs_beyond_float32_range_at_predict_are_an_error_naming_the_row():
    """Prediction runs in float64: an output no float32 network could give is refused."""
    reg = AtomSetsMLPRegressor(max_epochs=2, random_state=0, device="cpu")
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    reg.fit(X, np.arange(10.0))
    with torch.no_grad():  # huge (finite) weights: one row with a large input overflows float32
        first = next(m for m in reg.nets_[0].module_.modules() if isinstance(m, torch.nn.Linear))
        first.weight[:, 1] = 1e30
    assert np.isfinite(reg.predict(X)).all()
    X[4, 1] = 1e10
    with pytest.raises(ValueError, match=r"row 4: .* beyond float32's range for 1 sample"):
        reg.predict(X)


def test_ctrl_c_without_early_stopping_keeps_the_last_completed_epoch(sets, monkeypatch):
    X = ElementEmbeddingFeaturizer().fit_transform(FORMULAS * 6)
    y = np.random.default_rng(0).normal(size=len(X))
    kw = dict(max_epochs=30, batch_size=8, patience=None, random_state=0, device="cpu")
    kw.update(n_ensemble=1, validation_fraction=0.1)
    calls = {"n": 0}
    original = _ensemble.EnsembleTrainer.train_step

    def interrupt_mid_epoch_4(self, *args, **k):
        calls["n"] += 1
        if calls["n"] == 3 * 7 + 4:  # 7 batches per epoch (54 training rows / 8)
            raise KeyboardInterrupt
        return original(self, *args, **k)

    monkeypatch.setattr(_ensemble.EnsembleTrainer, "train_step", interrupt_mid_epoch_4)
    with pytest.warns(UserWarning, match=r"last completed epoch \(3\)"):
        interrupted = AtomSetsRegressor(**kw).fit(X, y)
    monkeypatch.setattr(_ensemble.EnsembleTrainer, "train_step", original)
    three = AtomSetsRegressor(**{**kw, "max_epochs": 3}).fit(X, y)
    assert interrupted.best_epochs_ == [3]
    assert len(interrupted.history_[0]) == 3
    np.testing.assert_array_equal(interrupted.predict(X), three.predict(X))


def test_ctrl_c_before_any_epoch_completes_propagates(sets, monkeypatch):
    def interrupt(self, *args, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(_ensemble.EnsembleTrainer, "train_step", interrupt)
    reg = AtomSetsRegressor(max_epochs=5, device="cpu")
    with pytest.warns(UserWarning, match="no epoch completed"), pytest.raises(KeyboardInterrupt):
        reg.fit(sets, np.arange(10.0))
    assert not hasattr(reg, "nets_")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only torch message")
def test_cuda_device_on_cpu_only_torch_says_what_is_available(sets):
    with pytest.raises(ValueError, match=r"device='cuda' is not available.*available: 'cpu'"):
        AtomSetsRegressor(max_epochs=2, device="cuda").fit(sets, np.arange(10.0))


def test_unavailable_or_unknown_devices_are_clear_errors(sets):
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="device='mps' is not available"):
            AtomSetsRegressor(max_epochs=2, device="mps").fit(sets, np.arange(10.0))
    with pytest.raises(ValueError, match="device='cuda:99' is not available"):
        AtomSetsRegressor(max_epochs=2, device="cuda:99").fit(sets, np.arange(10.0))
    with pytest.raises(ValueError, match="is not a torch device"):
        AtomSetsRegressor(max_epochs=2, device="gpu").fit(sets, np.arange(10.0))


def test_same_width_sets_from_another_featurizer_are_refused_at_predict(sets):
    reg = AtomSetsRegressor(max_epochs=2, random_state=0, device="cpu").fit(sets, np.arange(10.0))
    np.testing.assert_array_equal(reg.feature_names_in_[:2], ["megnet16_0", "megnet16_1"])
    other = ElementEmbeddingFeaturizer({"Fe": np.ones(16), "O": np.zeros(16)})
    with pytest.raises(ValueError, match=r"feature names should match.*'embedding_0'"):
        reg.predict(other.fit_transform(["Fe2O3"]))
    reg.predict(sets)  # the same featurizer is fine


def test_v1_model_refuses_v2_sets(sets):
    from pymatgen.core import Lattice, Structure

    nacl = [
        Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
        for a in np.linspace(3.6, 4.6, 4)
    ]
    v1 = MEGNetSiteFeaturizer(level=1, cache=False).fit_transform(nacl)
    v2 = MEGNetSiteFeaturizer(level=2, cache=False).fit_transform(nacl)
    reg = AtomSetsRegressor(max_epochs=2, validation_fraction=None, device="cpu")
    reg.fit(v1, np.arange(4.0))
    with pytest.raises(ValueError, match="'megnet_V2_0' but AtomSetsRegressor was fitted with"):
        reg.predict(v2)


def test_hand_built_sets_without_names_are_not_checked(sets):
    from skatomsets.sets import RaggedSets

    reg = AtomSetsRegressor(max_epochs=2, random_state=0, device="cpu").fit(sets, np.arange(10.0))
    plain = RaggedSets(sets.values, sets.offsets, sets.weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(reg.predict(plain), reg.predict(sets))


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (["a", None, "b", "a", "b", "a", "b", "a", "b", "a"], r"row 1: class label None"),
        (
            np.array(["a", 1, "b", "a", "b", 1, "a", "b", "a", 1], dtype=object),
            r"class labels mix strings and numbers \(row 0 is 'a', row 1 is 1\)",
        ),
        (np.array([[0, 1]] * 5 + [[1, 0]] * 5), r"must be 1-D class labels, got .*\(10, 2\)"),
        ([1] * 10, r"only one class \(1\) is present"),
        (np.array(["high"] * 10), r"only one class \('high'\) is present"),
    ],
)
def test_bad_class_labels_are_typed_errors(sets, y, match):
    from skatomsets.exceptions import InvalidTargetError

    with pytest.raises(InvalidTargetError, match=match):
        AtomSetsClassifier(max_epochs=2, device="cpu").fit(sets, y)


def test_non_numeric_regression_target_prints_plain_value(sets):
    from skatomsets.exceptions import InvalidTargetError

    y = np.array(["high", 1, 2, 3, 4, 5, 6, 7, 8, 9])
    with pytest.raises(InvalidTargetError, match=r"row 0: non-numeric target 'high'$"):
        AtomSetsRegressor(max_epochs=2).fit(sets, y)
