"""sample_weight in every estimator's fit: weighted loss, metric, scaling; routing."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from pymatgen.core import Lattice, Structure
from sklearn.metrics import make_scorer, mean_absolute_error
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
    MEGNetRegressor,
)
from skatomsets.estimators._data import TensorData
from skatomsets.estimators._targets import ScaledMAE, ValidationAUC
from skatomsets.estimators._weights import check_sample_weight
from skatomsets.exceptions import InvalidSampleWeightError
from skatomsets.sets import RaggedSets

FORMULAS = ["Fe2O3", "NaCl", "MgO", "Al2O3", "FeO", "KCl", "CuO", "ZnS", "TiO2", "SiO2"]
X_RAW = FORMULAS * 3
Y = np.linspace(0.0, 3.0, len(X_RAW))
FAST = {"max_epochs": 15, "batch_size": 16, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def sets() -> RaggedSets:
    return ElementEmbeddingFeaturizer().fit_transform(X_RAW)


def _dense(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, X[:, 0] - 0.5 * X[:, 1]


@pytest.mark.parametrize(
    "make, X_kind",
    [
        (lambda: AtomSetsRegressor(**FAST), "sets"),
        (lambda: AtomSetsMLPRegressor(**FAST), "dense"),
        (lambda: AtomSetsClassifier(**FAST), "sets"),
        (lambda: AtomSetsMLPClassifier(**FAST), "dense"),
    ],
)
def test_zero_weight_is_exactly_the_row_left_out(make, X_kind, sets) -> None:
    X, y = (sets, Y) if X_kind == "sets" else _dense()
    if isinstance(make(), (AtomSetsClassifier, AtomSetsMLPClassifier)):
        y = (y > np.median(y)).astype(int)
    w = np.ones(len(y))
    w[[1, 4, 7]] = 0.0
    keep = w > 0
    a = make().fit(X, y, sample_weight=w)
    b = make().fit(X[keep], y[keep])
    method = "predict_proba" if hasattr(a, "classes_") else "predict"
    np.testing.assert_array_equal(getattr(a, method)(X), getattr(b, method)(X))


def test_uniform_weights_equal_no_weights(sets) -> None:
    a = AtomSetsRegressor(**FAST).fit(sets, Y, sample_weight=np.full(len(Y), 3.0))
    b = AtomSetsRegressor(**FAST).fit(sets, Y)
    np.testing.assert_array_equal(a.predict(sets), b.predict(sets))


@pytest.mark.parametrize("cls", [AtomSetsRegressor, AtomSetsMLPRegressor])
def test_integer_weights_equal_duplicated_rows_in_full_batch_training(cls, sets) -> None:
    # deterministic setup: one batch holding everything, no validation split, no batch norm
    # (MSE: the L1 loss is not smooth at zero residuals, so float rounding could flip a
    # gradient sign and part the two trajectories)
    params = {"max_epochs": 40, "batch_size": 1000, "validation_fraction": None, "n_ensemble": 1}
    params.update(random_state=0, device="cpu", lr=3e-3, loss="mse")
    if cls is AtomSetsRegressor:
        params["batch_norm"] = False
        X = sets
    else:
        X, _ = _dense(len(Y))
    w = np.tile([1, 2, 3], len(Y) // 3)
    rep = np.repeat(np.arange(len(Y)), w)
    a = cls(**params).fit(X, Y, sample_weight=w)
    b = cls(**params).fit(X[rep], Y[rep])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(a.y_mean_, b.y_mean_, rtol=1e-12)
    # and the weights did change the fit
    c = cls(**params).fit(X, Y)
    assert np.abs(c.predict(X) - a.predict(X)).max() > 1e-3


def test_weights_pull_the_prediction_towards_heavy_rows() -> None:
    # the same material with targets 0 and 1: the best constant is the weighted mean
    X = ElementEmbeddingFeaturizer().fit_transform(["NaCl"] * 20)
    y = np.r_[np.zeros(10), np.ones(10)]
    w = np.r_[np.full(10, 9.0), np.ones(10)]
    # (no batch norm: identical sets have zero readout variance; no validation split: the
    # best epoch on 2 held-out rows would not be the weighted-mean fit)
    # (MSE: its best constant is the weighted mean; MAE would give the weighted median)
    params = {"max_epochs": 150, "lr": 1e-2, "validation_fraction": None, "batch_norm": False}
    params.update(random_state=0, device="cpu", loss="mse", n_ensemble=1)
    weighted = AtomSetsRegressor(**params).fit(X, y, sample_weight=w).predict(X[:1])[0]
    plain = AtomSetsRegressor(**params).fit(X, y).predict(X[:1])[0]
    assert abs(weighted - 0.1) < 0.05
    assert abs(plain - 0.5) < 0.05


def test_weights_follow_the_split_and_the_shuffling(sets) -> None:
    n = len(sets)
    y = np.arange(n, dtype=np.float32)[:, None]
    data = TensorData(sets, y, sample_weight=np.arange(n, dtype=np.float32) + 100)
    sub = data.subset(np.array([3, 5, 8]))
    np.testing.assert_array_equal(sub.sample_weight, [103, 105, 108])
    seen = []
    for _batch, (yb, wb) in data.batches(7, np.random.default_rng(0)):
        np.testing.assert_array_equal(wb.numpy(), yb.numpy()[:, 0] + 100)
        seen.append(yb.numpy()[:, 0])
    assert sorted(np.concatenate(seen).tolist()) == list(range(n))


def test_validation_metrics_are_weighted() -> None:
    y_true = np.array([0.0, 0.0, 0.0])
    y_pred = np.array([1.0, 2.0, 3.0])
    mae = ScaledMAE(np.array([1.0]))
    assert mae(y_true, y_pred) == pytest.approx(2.0)
    assert mae(y_true, y_pred, sample_weight=np.array([1.0, 0.0, 1.0])) == pytest.approx(2.0)
    assert mae(y_true, y_pred, sample_weight=np.array([3.0, 1.0, 0.0])) == pytest.approx(1.25)
    auc = ValidationAUC(2)
    yc = np.array([0, 1, 0, 1])
    logits = np.array([[0, 1.0], [0, 2.0], [0, 3.0], [0, 0.0]])  # ranks rows 2 and 3 wrong
    assert auc(yc, logits) < 0.5
    assert auc(yc, logits, sample_weight=np.array([1.0, 1.0, 0.0, 0.0])) > 0.99


@pytest.mark.parametrize(
    "w, match, row",
    [
        (np.ones(5), "5 entries for 30 samples", None),
        (np.ones((30, 2)), "must be 1-D", None),
        (np.r_[np.ones(12), -1.0, np.ones(17)], "negative", 12),
        (np.r_[np.ones(4), np.nan, np.ones(25)], "NaN or infinite", 4),
        (np.zeros(30), "all sample weights are zero", None),
        (["1"] * 29 + ["x"], "is not a number", 0),
    ],
)
def test_bad_sample_weight_is_a_clear_error(w, match, row, sets) -> None:
    with pytest.raises(InvalidSampleWeightError, match=match) as info:
        AtomSetsRegressor(**FAST).fit(sets, Y, sample_weight=w)
    assert info.value.row == row
    assert isinstance(info.value, ValueError)


def test_scalar_weight_and_lists_are_accepted() -> None:
    np.testing.assert_array_equal(check_sample_weight(2, 3), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(check_sample_weight([1, 0, 2], 3), [1.0, 0.0, 2.0])


def test_user_weights_are_not_mutated(sets) -> None:
    w = np.r_[np.zeros(3), np.arange(1.0, len(Y) - 2)]
    before = w.copy()
    AtomSetsRegressor(**FAST).fit(sets, Y, sample_weight=w)
    np.testing.assert_array_equal(w, before)


def _pipe() -> Pipeline:
    return Pipeline(
        [("featurize", ElementEmbeddingFeaturizer()), ("model", AtomSetsRegressor(**FAST))]
    )


def test_pipeline_step_parameter_passes_the_weights() -> None:
    w = np.ones(len(Y))
    w[:5] = 0
    a = _pipe().fit(X_RAW, Y, model__sample_weight=w)
    b = _pipe().fit(X_RAW[5:], Y[5:])
    np.testing.assert_array_equal(a.predict(X_RAW), b.predict(X_RAW))


def test_metadata_routing_through_pipeline_and_grid_search() -> None:
    w = np.ones(len(Y))
    w[:5] = 0
    X = np.array(X_RAW, dtype=object)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = _pipe()
        pipe.set_params(model=AtomSetsRegressor(**FAST).set_fit_request(sample_weight=True))
        a = pipe.fit(X, Y, sample_weight=w)
        search = GridSearchCV(
            pipe,
            {"model__lr": [1e-3, 1e-2]},
            cv=KFold(2),
            scoring=make_scorer(mean_absolute_error, greater_is_better=False).set_score_request(
                sample_weight=True
            ),
        ).fit(X, Y, sample_weight=w)
        unrouted = _pipe()
        with pytest.raises(sklearn.exceptions.UnsetMetadataPassedError):
            unrouted.fit(X, Y, sample_weight=w)
    b = _pipe().fit(X[5:], Y[5:])
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    best = _pipe().set_params(**search.best_params_).fit(X[5:], Y[5:])
    np.testing.assert_array_equal(search.predict(X), best.predict(X))


def test_megnet_estimator_takes_sample_weight() -> None:
    structures = [
        Structure(Lattice.cubic(a), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
        for a in np.linspace(3.9, 4.5, 8)
    ]
    y = np.linspace(0, 1, 8)
    w = np.r_[0.0, 0.0, np.ones(6)]
    params = {"n_blocks": 1, "embedding_dim": 4, "encoder_units": (8, 8), "block_units": (8, 8)}
    params.update(set2set_hidden=4, head_units=(8,), max_epochs=3, random_state=0)
    params.update(device="cpu")
    a = MEGNetRegressor(**params).fit(structures, y, sample_weight=w)
    b = MEGNetRegressor(**params).fit(structures[2:], y[2:])
    np.testing.assert_array_equal(a.predict(structures), b.predict(structures))
