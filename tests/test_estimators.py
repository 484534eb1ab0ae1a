"""AtomSets and MLP estimators: pipelines, model selection, persistence, targets, errors."""

from __future__ import annotations

import dataclasses
import inspect
import re

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
    MEGNetClassifier,
    MEGNetRegressor,
    SetStatsTransformer,
)
from skatomsets._sklearn_compat import InvalidParameterError
from skatomsets.datasets import load_dataset
from skatomsets.estimators._docstrings import fill_doc
from skatomsets.estimators._params import MEGNET_ARCHITECTURE
from skatomsets.exceptions import InvalidSetError, InvalidTargetError
from skatomsets.megnet import MEGNetConfig
from skatomsets.nn import AtomSetsModule, MLPModule


@pytest.fixture(scope="module")
def steels():
    df = load_dataset("steels")
    return df["composition"].to_numpy()[:120], df["target"].to_numpy()[:120]


def test_pipeline_on_formulas_learns_something(steels, fast):
    X, y = steels
    model = make_pipeline(
        ElementEmbeddingFeaturizer(),
        SetStatsTransformer(),
        AtomSetsMLPRegressor(**{**fast, "max_epochs": 60}),
    )
    model.fit(X, y)
    mae = np.abs(model.predict(X) - y).mean()
    assert mae < np.abs(y - y.mean()).mean()  # beats predicting the mean on its training data


def test_cross_val_score_and_grid_search_on_formula_pipeline(steels, fast):
    X, y = steels
    pipe = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast))
    scores = cross_val_score(pipe, X, y, cv=KFold(3), scoring="neg_mean_absolute_error")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    grid = GridSearchCV(
        pipe,
        {"atomsetsregressor__readout": ["mean", "set2set"], "atomsetsregressor__n_neurons": [16]},
        cv=2,
        scoring="neg_mean_absolute_error",
    ).fit(X, y)
    assert grid.best_params_["atomsetsregressor__readout"] in ("mean", "set2set")
    assert len(grid.cv_results_["mean_test_score"]) == 2


def test_joblib_roundtrip_gives_identical_predictions(steels, fast, tmp_path):
    X, y = steels
    pipe = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y)
    joblib.dump(pipe, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_same_random_state_same_predictions(steels, fast):
    X, y = steels
    a = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y)
    b = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_predictions_are_permutation_and_scaling_invariant(steels, fast):
    X, y = steels
    model = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast, readout="set2set")
    )
    model.fit(X, y)
    p = model.predict(["Fe0.5Ni0.5", "FeNi", "Fe2Ni2", "NiFe", "Ni2Fe2"])
    np.testing.assert_allclose(p, p[0], rtol=1e-5)


def test_trainable_embedding_mode(steels, fast):
    X, y = steels
    model = make_pipeline(
        ElementEmbeddingFeaturizer("atomic_number"), AtomSetsRegressor(embedding_dim=8, **fast)
    ).fit(X, y)
    assert model[-1].nets_[0].module_.embedding.weight.shape == (119, 8)
    with pytest.raises(InvalidSetError, match="atomic numbers"):
        make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(embedding_dim=8, **fast)).fit(
            X, y
        )


def test_early_stopping_restores_the_best_epoch(steels):
    X, y = steels
    model = make_pipeline(
        ElementEmbeddingFeaturizer(),
        AtomSetsRegressor(max_epochs=40, patience=5, lr=0.05, random_state=0, device="cpu"),
    ).fit(X, y)
    reg = model[-1]
    hist = reg.history_[0]
    best = reg.best_epochs_[0]
    valid = np.array(hist[:, "valid_mae"])
    assert valid[best - 1] == valid.min()
    assert len(hist) <= best + 5  # stopped patience epochs after the best one
    # the restored network reproduces the best validation MAE
    assert len(hist) < 40 or best == 40


def test_nan_and_inf_targets_name_the_row(steels, fast):
    X, y = steels
    y = y.astype(float).copy()
    y[7] = np.nan
    with pytest.raises(InvalidTargetError, match="row 7"):
        make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y)
    y[7] = np.inf
    with pytest.raises(InvalidTargetError, match="row 7"):
        make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y)


def test_non_numeric_target_names_the_row(steels, fast):
    X, y = steels
    y = y.astype(object).copy()
    y[3] = "high"
    with pytest.raises(InvalidTargetError, match="row 3: non-numeric target 'high'"):
        make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y)


def test_mismatched_lengths(steels, fast):
    X, y = steels
    with pytest.raises(InvalidTargetError, match="120 samples but y has 119"):
        make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y[:-1])


def test_classifier_with_string_labels_and_probabilities(steels, fast):
    X, y = steels
    labels = np.where(y > np.median(y), "strong", "weak")
    clf = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsClassifier(**fast)).fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    assert set(clf.predict(X)) <= {"strong", "weak"}
    assert list(clf.classes_) == ["strong", "weak"]
    assert "valid_auc" in clf[-1].history_[0][-1]


def test_classifier_single_class_is_a_clear_error(steels, fast):
    X, _ = steels
    with pytest.raises(InvalidTargetError, match="only one class"):
        make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsClassifier(**fast)).fit(X, [1] * len(X))


def test_ensemble_std(steels, fast):
    X, y = steels
    model = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsRegressor(**{**fast, "n_ensemble": 3})
    )
    model.fit(X, y)
    mean, std = model.predict(X, return_std=True)
    assert mean.shape == std.shape == (120,) and (std > 0).all()
    single = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, y)
    with pytest.raises(ValueError, match="n_ensemble"):
        single.predict(X, return_std=True)


def test_multioutput_regression(steels, fast):
    X, y = steels
    Y = np.c_[y, -2 * y]
    pred = (
        make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X, Y).predict(X)
    )
    assert pred.shape == (120, 2)


def test_inputs_are_not_mutated(steels, fast):
    X, y = steels
    X2, y2 = X.copy(), y.copy()
    make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**fast)).fit(X2, y2).predict(X2)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("readout", "max", r"'readout' .* a str among"),
        ("activation", "tanh", r"'activation' .* a str among"),
        ("n_neurons", 0, r"'n_neurons' .* an int in the range \[1, inf\)"),
        ("n_layer_before_readout", -1, r"'n_layer_before_readout' .* \[0, inf\)"),
        ("dropout", 1.0, r"'dropout' .* a float in the range \[0.0, 1.0\)"),
        ("embedding_dim", 0, r"'embedding_dim' .* \[1, inf\) or None"),
        ("validation_fraction", 1.5, "'validation_fraction' parameter"),
        ("loss", "hinge", "'loss' parameter of AtomSetsRegressor must be a str among"),
        ("lr_schedule", "step", "'lr_schedule' parameter of AtomSetsRegressor must be"),
    ],
)
def test_bad_parameters_raise_in_fit(param, value, match):
    est = AtomSetsRegressor(**{param: value})  # no error in __init__
    with pytest.raises(InvalidParameterError, match=match):
        est.fit(np.ones((4, 2)), np.arange(4.0))


def test_version_is_stored_and_mismatch_warns(steels, fast):
    import pickle

    X, y = steels
    reg = AtomSetsRegressor(**fast).fit(ElementEmbeddingFeaturizer().fit_transform(X), y)
    assert reg.skatomsets_version_
    state = pickle.dumps(reg).replace(
        reg.skatomsets_version_.encode(), b"9" * len(reg.skatomsets_version_.encode())
    )
    with pytest.warns(UserWarning, match="was saved with skatomsets"):
        pickle.loads(state)


@pytest.mark.parametrize("Est", [AtomSetsRegressor, AtomSetsMLPRegressor])
def test_cosine_lr_schedule_decays_the_learning_rate(Est):
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40.0)
    const = Est(max_epochs=6, lr=1e-2, random_state=0).fit(X, y)
    cos = Est(max_epochs=6, lr=1e-2, lr_schedule="cosine", random_state=0).fit(X, y)
    assert const.nets_[0].optimizer_.param_groups[0]["lr"] == pytest.approx(1e-2)
    lr_end = cos.nets_[0].optimizer_.param_groups[0]["lr"]
    assert 0 <= lr_end < 1e-3  # cos(pi * 6/6) -> 0 after max_epochs
    assert not np.allclose(const.predict(X), cos.predict(X))


ESTIMATOR_CLASSES = [
    AtomSetsRegressor,
    AtomSetsClassifier,
    AtomSetsMLPRegressor,
    AtomSetsMLPClassifier,
    MEGNetRegressor,
    MEGNetClassifier,
]


@pytest.mark.parametrize("cls", ESTIMATOR_CLASSES, ids=lambda c: c.__name__)
def test_docstring_documents_exactly_the_parameters(cls):
    section = cls.__doc__.split("Parameters\n    ----------\n")[1].split("Attributes\n")[0]
    documented = re.findall(r"^    (\w+) :", section, flags=re.MULTILINE)
    params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert documented == params
    assert not re.search(r"^\s*\{\w+\}\s*$", cls.__doc__ + cls.fit.__doc__, flags=re.MULTILINE)


def test_fill_doc_refuses_an_unknown_fragment():
    def f():
        """Doc.

        {no_such_fragment}
        """

    with pytest.raises(KeyError, match="no_such_fragment"):
        fill_doc(f)


@pytest.mark.parametrize(
    ("cls", "module"),
    [(AtomSetsRegressor, AtomSetsModule), (AtomSetsMLPClassifier, MLPModule)],
    ids=["set", "mlp"],
)
def test_architecture_parameters_reach_the_torch_module(cls, module):
    """One declaration (_params.py) is both the constraints and the module's keywords."""
    arch = cls._architecture
    assert set(arch) <= set(inspect.signature(module).parameters)
    assert set(arch) <= set(cls._parameter_constraints)
    X = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float32)
    y = np.arange(12) % 2
    params = {"n_neurons": 8, "activation": "relu", "dropout": 0.1}
    est = cls(**params, max_epochs=1, n_ensemble=1, random_state=0, device="cpu").fit(X, y)
    net = est.nets_[0]
    for name in arch:
        # "auto" architecture parameters (readout) reach the module as resolved in fit
        expected = params.get(name, getattr(est, f"{name}_", getattr(est, name)))
        assert net.get_params()[f"module__{name}"] == expected, name
    assert isinstance(net.module_, module)


def test_megnet_architecture_parameters_are_config_fields():
    fields = {f.name for f in dataclasses.fields(MEGNetConfig)}
    assert set(MEGNET_ARCHITECTURE) <= fields


def test_models_pickled_before_the_split_of_base_still_load():
    """Pickles of 0.1 models name these classes as ``skatomsets.estimators._base.<name>``."""
    from skatomsets.estimators import _base, _net, _split, _targets

    for module, name in [
        (_net, "_SetNet"),
        (_net, "_ValidationScore"),
        (_split, "_HoldOut"),
        (_targets, "ScaledMAE"),
        (_targets, "ValidationAUC"),
    ]:
        assert getattr(_base, name) is getattr(module, name)
