"""MEGNetRegressor / MEGNetClassifier: training MEGNet itself, fine-tuning, own parents."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from pymatgen.util import testing as pmg_testing
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skatomsets import (
    MEGNetClassifier,
    MEGNetRegressor,
    MEGNetSiteFeaturizer,
    MEGNetStructureFeaturizer,
)
from skatomsets.estimator_checks import _MEGNET_TINY
from skatomsets.estimators._graph_data import GraphData, take_graphs
from skatomsets.megnet import GraphConstructionError, build_graphs, load_pretrained

_PMG = getattr(pmg_testing, "MatSciTest", None) or pmg_testing.PymatgenTest
NAMES = [
    "BaNiO3", "CsCl", "Graphite", "He_BCC", "K2O2", "La2CoO4F", "Li2O", "Li2O2",
    "Pb2TiZrO6", "Si", "SiO2", "Sn", "SrTiO3", "TiO2", "VO2",
]  # fmt: skip
SCALES = (0.9, 1.0, 1.1)
#: a tiny MEGNet (2 blocks of width 16) so that an epoch on 45 structures takes ~20 ms
TINY = {
    # the architecture of the estimator checks' tiny MEGNet, declared there once
    **{
        k: v for k, v in _MEGNET_TINY.items() if k not in ("max_epochs", "batch_size", "n_ensemble")
    },
    "batch_size": 16,
    "lr": 3e-3,
    "device": "cpu",
    "random_state": 0,
}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """45 small pymatgen test structures (15 crystals at 3 volumes); y = volume per atom."""
    out = []
    for name in NAMES:
        s = _PMG.get_structure(name)
        for f in SCALES:
            t = s.copy()
            t.scale_lattice(s.volume * f)
            out.append(t)
    y = np.array([s.volume / len(s) for s in out])
    return np.array(out, dtype=object), y


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


# --------------------------------------------------------------------------- data path
def test_take_graphs_matches_building_in_that_order(data) -> None:
    X, _ = data
    idx = np.array([7, 0, 3, 3, 12])
    g = take_graphs(build_graphs(list(X[:13])), idx)
    ref = build_graphs([X[i] for i in idx])
    for name in ("species_z", "species_site", "src", "dst", "distance", "site_offsets"):
        np.testing.assert_array_equal(getattr(g, name), getattr(ref, name))
    batches = list(GraphData(ref, np.arange(5)).batches(2, np.random.default_rng(0)))
    assert [len(b) for b, _ in batches] == [2, 3]  # trailing single graph merged
    assert sorted(torch.cat([y for _, y in batches]).tolist()) == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------- behaviour
def test_fit_predict_shapes(data) -> None:
    X, y = data
    reg = MEGNetRegressor(**TINY, max_epochs=2).fit(X[:10], y[:10])
    assert reg.predict(X[:4]).shape == (4,)
    assert reg.predict([]).shape == (0,)
    two = MEGNetRegressor(**TINY, max_epochs=2, n_ensemble=2).fit(
        list(X[:10]), np.c_[y[:10], -y[:10]]
    )
    mean, std = two.predict(X[:3], return_std=True)
    assert mean.shape == std.shape == (3, 2) and (std > 0).all()
    assert len(two.best_epochs_) == 2


def test_learns_volume_per_atom_better_than_the_mean(data) -> None:
    X, y = data
    test = np.arange(len(X)) % 3 == 1  # the unscaled crystals, between the two others
    reg = MEGNetRegressor(**TINY, max_epochs=60, validation_fraction=None)
    reg.fit(X[~test], y[~test])
    mae = np.abs(reg.predict(X[test]) - y[test]).mean()
    baseline = np.abs(y[~test].mean() - y[test]).mean()
    assert mae < 0.5 * baseline, (mae, baseline)


def test_early_stopping_restores_best_epoch(data) -> None:
    X, y = data
    reg = MEGNetRegressor(**TINY, max_epochs=30, patience=3, validation_fraction=0.2, n_ensemble=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an early stop is not an interruption
        reg.fit(X, y)
    assert len(reg.nets_) == 2  # every ensemble member trained
    for hist, best in zip(reg.history_, reg.best_epochs_, strict=True):
        assert len(hist) in (30, best + 3)
        assert best == int(np.argmin(hist[:, "valid_mae"])) + 1


def test_finetune_pretrained_freeze_keeps_leading_blocks(data) -> None:
    X, y = data
    parent = load_pretrained()
    before = _state(parent)
    reg = MEGNetRegressor(
        init="pretrained", freeze=2, max_epochs=3, batch_size=16, lr=1e-2, device="cpu",
        random_state=0, validation_fraction=None,
    )  # fmt: skip
    reg.fit(X[:15], y[:15])
    after = _state(reg.nets_[0].module_.megnet)
    frozen = ("embedding.", "blocks.0.", "blocks.1.", "atom_encoders.0.", "bond_encoders.1.")
    for k, v in after.items():
        if k.startswith(frozen):
            torch.testing.assert_close(v, before[k], rtol=0, atol=0, msg=k)
    block3 = [k for k in after if k.startswith("blocks.2.")]
    assert any(not torch.equal(after[k], before[k]) for k in block3), "block 3 was not trained"
    assert not torch.equal(after["atom_encoders.2.0.weight"], before["atom_encoders.2.0.weight"])
    # the output head is re-initialised for the new target
    assert not torch.allclose(after["head.0.weight"], before["head.0.weight"])
    assert reg.megnet_config_.n_blocks == 3
    # the shipped parent is untouched
    for k, v in _state(load_pretrained()).items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_classifier_proba(data) -> None:
    X, y = data
    labels = np.where(y > np.median(y), "big", "small")
    clf = MEGNetClassifier(**TINY, max_epochs=20, validation_fraction=0.3).fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and list(clf.classes_) == ["big", "small"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(clf.predict(X)) <= {"big", "small"}
    # early stopping picks the best validation ROC-AUC: the ranking is learnt
    assert roc_auc_score(labels == "big", proba[:, 0]) > 0.8
    assert "valid_auc" in clf.history_[0][0]
    trained = MEGNetClassifier(**TINY, max_epochs=20, validation_fraction=None).fit(X, labels)
    assert (trained.predict(X) == labels).mean() > 0.8


def test_grid_search_in_a_pipeline(data) -> None:
    X, y = data
    pipe = make_pipeline(MEGNetRegressor(**TINY, max_epochs=3, validation_fraction=None))
    gs = GridSearchCV(
        pipe,
        {"megnetregressor__lr": [1e-3, 1e-2]},
        cv=KFold(2, shuffle=True, random_state=0),
        scoring="neg_mean_absolute_error",
    )
    gs.fit(list(X[:16]), y[:16])
    assert gs.best_params_["megnetregressor__lr"] in (1e-3, 1e-2)
    assert gs.predict(list(X[:2])).shape == (2,)


def test_joblib_round_trip_and_determinism(data, tmp_path) -> None:
    X, y = data
    a = MEGNetRegressor(**TINY, max_epochs=4).fit(X[:20], y[:20])
    b = MEGNetRegressor(**TINY, max_epochs=4).fit(X[:20], y[:20])
    pa = a.predict(X[20:30])
    np.testing.assert_array_equal(pa, b.predict(X[20:30]))  # same random_state, same model
    joblib.dump(a, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(loaded.predict(X[20:30]), pa)


def test_isolated_atom_error_names_the_row(data) -> None:
    X, _ = data
    lonely = Structure(Lattice.cubic(20.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    bad = [*X[:3], lonely, *X[3:6]]
    with pytest.raises(GraphConstructionError, match=r"row 3: site 0 \(Na\) has no neighbour"):
        MEGNetRegressor(**TINY, max_epochs=1).fit(bad, np.arange(7.0))
    reg = MEGNetRegressor(**TINY, max_epochs=1, allow_isolated=True).fit(bad, np.arange(7.0))
    assert np.isfinite(reg.predict([lonely])).all()
    with pytest.raises(ValueError, match="row 1: expected a pymatgen Structure"):
        reg.predict([X[0], "NaCl"])


def test_parent_save_then_featurize_like_the_shipped_one(data, tmp_path) -> None:
    X, y = data
    reg = MEGNetRegressor(**TINY, max_epochs=5, n_ensemble=2).fit(X, y)
    path = reg.save_parent(tmp_path / "parent.pt")
    best = reg.nets_[reg._best_member()].module_.megnet
    g = build_graphs(list(X[:6])).to_torch()
    with torch.inference_mode():
        want = best.features(g, keys=("V1", "u2", "f"))
    sites = MEGNetSiteFeaturizer(level=1, model=path).fit_transform(X[:6])
    np.testing.assert_allclose(sites.values, want["V1"].numpy(), rtol=1e-5, atol=1e-6)
    vec = MEGNetStructureFeaturizer(features=("u2", "f", "prediction"), model=str(path))
    out = vec.fit_transform(X[:6])
    np.testing.assert_allclose(out[:, :16], want["u2"].numpy(), rtol=1e-5, atol=1e-6)
    # the target scaling is folded into the parent: its prediction is in target units
    member = reg._best_member()
    np.testing.assert_allclose(
        out[:, -1], reg._forward_all(X[:6])[member, :, 0] * reg.y_scale_ + reg.y_mean_, rtol=1e-4
    )
    # ... and the parent can be fine-tuned again
    child = MEGNetRegressor(init=path, freeze=1, max_epochs=2, device="cpu", random_state=0)
    assert child.fit(X[:10], y[:10]).megnet_config_.block_units == (16, 16)


# --------------------------------------------------------------------------- conventions
@pytest.mark.parametrize("cls", [MEGNetRegressor, MEGNetClassifier])
def test_sklearn_conventions(cls, data) -> None:
    X, _ = data
    est = cls(block_units=(8, 8), freeze=0, lr=0.5)
    assert vars(est) == est.get_params()  # __init__ only stores its parameters
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est
    with pytest.raises(NotFittedError):
        est.predict(X[:2])
    with pytest.raises(NotFittedError):
        est.save_parent("never.pt")
    assert not est.__sklearn_tags__().input_tags.two_d_array


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"freeze": 1}, "init=None trains from scratch"),
        ({"init": "pretrained", "freeze": 4}, "parent has only 3 blocks"),
        ({"encoder_units": (16, 8)}, r"encoder_units\[-1\]"),
        ({"block_units": ()}, "'block_units' .* must be a non-empty tuple of positive ints"),
        ({"head_units": (16, 0)}, "'head_units' .* must be a non-empty tuple of positive ints"),
        (
            {"init": 3},
            r"'init' .* must be None, .*'str', .*'pathlib.Path' or .*MEGNet'",
        ),
        ({"cutoff": -1.0}, r"'cutoff' .* a float in the range \(0.0, inf\)"),
        ({"max_epochs": 0}, r"'max_epochs' .* an int in the range \[1, inf\)"),
        ({"freeze": -1}, r"'freeze' .* an int in the range \[0, inf\)"),
        ({"loss": "auto"}, r"'loss' .* a str among"),
    ],
)
def test_bad_parameters_raise_in_fit(params, match, data) -> None:
    X, y = data
    est = MEGNetRegressor(**{**TINY, "max_epochs": 1, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X[:4], y[:4])
