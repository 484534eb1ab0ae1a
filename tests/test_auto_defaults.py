"""The size-aware "auto" training defaults (issue 12, items 1-3)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    MEGNetRegressor,
    RaggedSets,
)
from skatomsets._sklearn_compat import InvalidParameterError
from skatomsets.benchmarks import CONFIG, make_benchmark_model, resolve_params
from skatomsets.estimators._auto import (
    AUTO_PARAMS,
    resolve_training_params,
    size_rule,
    torch_threads,
)

#: every "auto" parameter but ``loss`` (regressors only) and ``readout`` (set models only)
AUTO_NAMES = tuple(name for name in AUTO_PARAMS if name not in ("loss", "readout"))
ESTIMATORS = (AtomSetsRegressor, AtomSetsClassifier, AtomSetsMLPRegressor, AtomSetsMLPClassifier)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_training_budget_defaults_to_auto(cls):
    params = cls().get_params()
    assert all(params[name] == "auto" for name in AUTO_NAMES)
    if "loss" in params:
        assert params["loss"] == "auto"


@pytest.mark.parametrize(
    ("n", "batch", "epochs", "patience", "ensemble", "schedule"),
    [
        (250, 16, 1500, 300, 5, "constant"),  # steels
        (399, 16, 1500, 300, 5, "constant"),
        (400, 32, 1000, 200, 5, "constant"),  # jdft2d, phonons
        (1999, 32, 1000, 200, 5, "constant"),
        (2000, 64, 400, 80, 3, "constant"),  # expt_gap ... glass
        (8000, 256, 1000, 100, 3, "constant"),  # log_gvrh ... perovskites
        (49_999, 256, 1000, 100, 3, "constant"),
        (50_000, 256, 60, 30, 1, "cosine"),  # mp_*
    ],
)
def test_size_rules_resolve_per_number_of_training_rows(
    n, batch, epochs, patience, ensemble, schedule
):
    got = resolve_training_params(AtomSetsRegressor(), n)
    assert (got["batch_size"], got["max_epochs"], got["patience"]) == (batch, epochs, patience)
    assert (got["n_ensemble"], got["lr_schedule"]) == (ensemble, schedule)
    assert got["n_neurons"] == (256 if n >= 50_000 else 64)
    assert got["readout"] == ("set2set" if n >= 50_000 else "mean")
    assert resolve_training_params(AtomSetsClassifier(), n)["readout"] == "mean"


def test_set_models_default_to_the_auto_readout_and_record_it():
    """``readout="auto"``: the mean on small data, set2set from 50,000 rows for regressors
    (mp_gap: 0.243-0.248 eV against 0.350 with the mean; classifiers gained nothing on
    mp_is_metal and keep the mean); the MLPs have no readout to resolve."""
    assert AtomSetsRegressor().readout == AtomSetsClassifier().readout == "auto"
    assert "readout" not in resolve_training_params(AtomSetsMLPRegressor(), 100_000)
    assert resolve_training_params(AtomSetsRegressor(readout="mean"), 100_000)["readout"] == "mean"
    rng = np.random.default_rng(0)
    sets = RaggedSets(rng.normal(size=(90, 4)), np.arange(0, 91, 3))
    est = AtomSetsRegressor(max_epochs=2, n_ensemble=1, random_state=0).fit(
        sets, rng.normal(size=30)
    )
    assert est.readout_ == "mean" and est.get_params()["readout"] == "auto"
    assert type(est.nets_[0].module_.readout).__name__ == "WeightedMean"
    est.set_params(readout="set2set").fit(sets, rng.normal(size=30))
    assert type(est.nets_[0].module_.readout).__name__ == "WeightedSet2Set"


@pytest.mark.parametrize(
    ("est", "n", "lr"),
    [
        (AtomSetsRegressor(), 250, 1e-3),
        (AtomSetsRegressor(), 1000, 3e-3),  # given member features (V0): 3e-3 at 400-7999
        (AtomSetsRegressor(embedding_dim=16), 1000, 1e-3),  # trainable embedding: 1e-3
        (AtomSetsClassifier(), 4000, 3e-3),
        (AtomSetsRegressor(), 10_000, 2e-3),
        (AtomSetsMLPRegressor(), 250, 2e-3),
        (AtomSetsMLPRegressor(), 1000, 1e-3),
        (AtomSetsMLPClassifier(), 100_000, 2e-3),
    ],
)
def test_auto_learning_rate_by_size_and_model_family(est, n, lr):
    assert resolve_training_params(est, n)["lr"] == lr


def test_mlp_auto_width_is_128_below_50k_rows_and_256_above():
    assert resolve_training_params(AtomSetsMLPRegressor(), 3000)["n_neurons"] == 128
    assert resolve_training_params(AtomSetsMLPRegressor(), 60_000)["n_neurons"] == 256


@pytest.mark.parametrize("n", [30, 250, 300, 500, 640, 5000, 100_000])
def test_auto_validation_split_holds_out_at_least_64_rows_or_a_quarter(n):
    fraction = resolve_training_params(AtomSetsRegressor(), n)["validation_fraction"]
    assert 0.1 <= fraction <= 0.25
    assert round(fraction * n) >= min(64, round(0.25 * n))


def test_explicit_parameters_are_used_as_given():
    est = AtomSetsRegressor(
        batch_size=7, max_epochs=3, patience=None, n_ensemble=2, lr=0.05, loss="huber"
    )
    got = resolve_training_params(est, 100_000)
    assert (got["batch_size"], got["max_epochs"], got["patience"]) == (7, 3, None)
    assert (got["n_ensemble"], got["lr"], got["loss"]) == (2, 0.05, "huber")
    assert got["lr_schedule"] == "cosine"  # still auto


def test_fit_records_resolved_attributes_and_leaves_params_auto():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    est = AtomSetsMLPRegressor(max_epochs=2, n_ensemble=2, random_state=0)
    est.fit(X, y)
    assert (est.batch_size_, est.max_epochs_, est.patience_) == (16, 2, 300)
    assert (est.n_ensemble_, est.lr_, est.lr_schedule_) == (2, 2e-3, "constant")
    assert (est.loss_, est.n_neurons_, est.n_threads_) == ("mae", 128, 1)
    assert est.validation_fraction_ == 0.25
    assert len(est.nets_) == 2 and est.nets_[0].batch_size == 16
    assert est.nets_[0].module_.out.in_features == 128
    assert est.get_params()["batch_size"] == "auto"
    assert (
        clone(est).get_params()
        == AtomSetsMLPRegressor(max_epochs=2, n_ensemble=2, random_state=0).get_params()
    )
    est.set_params(batch_size=8).fit(X, y)
    assert est.batch_size_ == 8 and est.get_params()["n_ensemble"] == 2


def test_regressor_loss_matches_the_early_stopping_metric(fast):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    reg = AtomSetsMLPRegressor(**{**fast, "max_epochs": 2, "n_ensemble": 1}).fit(X, y)
    assert isinstance(reg.nets_[0].criterion_, torch.nn.L1Loss)
    assert dict(reg.nets_[0].callbacks_)["early_stopping"].monitor == "valid_mae"
    clf = AtomSetsMLPClassifier(**{**fast, "max_epochs": 2, "n_ensemble": 1}).fit(X, y > 0)
    assert isinstance(clf.nets_[0].criterion_, torch.nn.CrossEntropyLoss)
    assert dict(clf.nets_[0].callbacks_)["early_stopping"].monitor == "valid_auc"
    assert not hasattr(clf, "loss_")


def test_default_fit_on_small_heavy_tailed_data_beats_the_median_and_not_at_epoch_1():
    # 240 rows, Cauchy noise: the old defaults (MSE loss, 24 validation rows, batch 128)
    # kept epoch 7 and lost to the training median here (3.72 vs 3.32)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 5))
    y = np.exp(X[:, 0]) + X[:, 1] + rng.standard_cauchy(300)
    Xtr, ytr, Xte, yte = X[:240], y[:240], X[240:], y[240:]
    median_mae = np.mean(np.abs(yte - np.median(ytr)))
    est = AtomSetsMLPRegressor(max_epochs=40, n_ensemble=1, random_state=4).fit(Xtr, ytr)
    assert est.best_epochs_[0] > 10
    assert np.mean(np.abs(est.predict(Xte) - yte)) < 0.95 * median_mae


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"batch_size": "big"},
            r"'batch_size' .* an int in the range \[1, inf\) or a str among \{'auto'\}",
        ),
        ({"batch_size": True}, r"'batch_size' .* an int in the range \[1, inf\).*Got True"),
        (
            {"n_threads": 0},
            r"'n_threads' .* an int in the range \[1, inf\) or a str among \{'auto'\}",
        ),
        ({"lr": "fast"}, r"'lr' .* a float in the range \(0.0, inf\) or a str among \{'auto'\}"),
        ({"lr_schedule": "step"}, r"'lr_schedule' .* a str among"),
        ({"validation_fraction": 1.5}, r"'validation_fraction' .* \[0.0, 1.0\), None or a str"),
        ({"loss": "l2"}, r"'loss' .* a str among"),
        ({"n_neurons": "wide"}, r"'n_neurons' .* an int in the range \[1, inf\)"),
        ({"weight_decay": -1.0}, r"'weight_decay' .* a float in the range \[0.0, inf\)"),
    ],
)
def test_bad_training_parameters_raise_clear_errors_in_fit(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        AtomSetsRegressor(**params).fit(np.zeros((4, 2)), np.arange(4.0))


def test_torch_threads_are_set_during_fit_and_predict_then_restored(monkeypatch):
    before = torch.get_num_threads()
    seen = []
    est = AtomSetsMLPRegressor(max_epochs=1, n_ensemble=1, n_threads=2, random_state=0)
    orig = est._fit_nets
    monkeypatch.setattr(
        est, "_fit_nets", lambda *a, **k: (seen.append(torch.get_num_threads()), orig(*a, **k))
    )
    est.fit(np.zeros((10, 2)), np.arange(10.0))
    assert seen == [2] and est.n_threads_ == 2
    assert torch.get_num_threads() == before
    est.predict(np.zeros((3, 2)))
    assert torch.get_num_threads() == before


def test_auto_threads_never_exceed_torchs_setting():
    with torch_threads(1):
        assert resolve_training_params(AtomSetsRegressor(), 100_000)["n_threads"] == 1
    with torch_threads(3):
        assert resolve_training_params(AtomSetsRegressor(), 100_000)["n_threads"] == 3
        assert resolve_training_params(AtomSetsRegressor(), 1000)["n_threads"] == 1


def test_auto_threads_stay_at_one_for_narrow_layers_on_large_data():
    with torch_threads(2):
        assert resolve_training_params(AtomSetsRegressor(), 100_000)["n_threads"] == 2
        narrow = AtomSetsRegressor(n_neurons=64)
        assert resolve_training_params(narrow, 100_000)["n_threads"] == 1
        assert resolve_training_params(AtomSetsRegressor(n_neurons=128), 100_000)["n_threads"] == 2


def test_megnet_estimators_accept_auto_and_keep_their_fixed_defaults():
    assert MEGNetRegressor().get_params()["batch_size"] == 128
    got = resolve_training_params(MEGNetRegressor(batch_size="auto", loss="auto"), 300)
    assert (got["batch_size"], got["loss"], got["max_epochs"]) == (16, "mae", 1000)
    assert "n_neurons" not in got and "n_threads" not in got


def test_benchmark_runs_the_defaults():
    assert CONFIG == {("*", "*"): {"random_state": 0}}
    for model in ("atomsets", "atomsets-v0", "mlp-v0-stats"):
        params = resolve_params(model, "matbench_steels")
        assert params == {"random_state": 0}
        final = make_benchmark_model(model, "matbench_steels", params).steps[-1][1]
        assert all(final.get_params()[name] == "auto" for name in AUTO_NAMES)


def test_size_rule_is_monotone_in_batch_size():
    sizes = [size_rule(n)["batch_size"] for n in (10, 500, 3000, 10_000, 100_000)]
    assert sizes == sorted(sizes)
