"""The auto model: candidates scored on held-out rows, the best (or best few) refitted."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skatomsets.auto import (
    AutoAtomSetsClassifier,
    AutoAtomSetsRegressor,
    balanced_threshold,
    default_candidates,
    is_structure_input,
)
from skatomsets.models import make_model

FORMULAS = [
    "Fe2O3", "NaCl", "MgO", "Al2O3", "SiO2", "TiO2", "ZnO", "CuO", "LiF", "KCl", "CaO",
    "BaTiO3", "SrTiO3", "GaAs", "InP", "ZnS", "CdTe", "NiO", "CoO", "MnO", "Cr2O3", "V2O5",
    "LiCoO2", "NaF", "KBr", "RbI", "CsCl", "AgCl", "CuBr", "PbS", "SnO2", "ZrO2",
]  # fmt: skip
RNG = np.random.default_rng(0)
Y = np.abs(RNG.normal(2.0, 1.0, len(FORMULAS)))
LABELS = (Y > np.median(Y)).astype(int)
FAST = {"max_epochs": 3}
TWO = ["atomsets-v0", "mlp-v0-stats"]


def _reg(**kw):
    kw = {"candidates": TWO, "model_params": FAST, "random_state": 0, **kw}
    return AutoAtomSetsRegressor(**kw)


def test_auto_search_is_reproducible_with_random_state():
    a, b = _reg().fit(FORMULAS, Y), _reg().fit(FORMULAS, Y)
    assert a.chosen_ == b.chosen_
    assert a.cv_results_["validation_score"] == b.cv_results_["validation_score"]
    np.testing.assert_array_equal(a.predict(FORMULAS[:5]), b.predict(FORMULAS[:5]))


def test_auto_records_every_candidate_and_chooses_by_validation_score():
    m = _reg().fit(FORMULAS, Y)
    assert m.candidates_ == TWO
    scores = dict(zip(m.cv_results_["candidate"], m.cv_results_["validation_score"], strict=True))
    assert m.best_candidate_ == max(scores, key=scores.get)
    best_single = scores[m.best_candidate_]
    if len(m.chosen_) == 1:
        assert all(s <= best_single for s in m.ensemble_scores_.values())
    else:
        assert m.ensemble_scores_[len(m.chosen_)] > best_single
    assert len(m.estimators_) == len(m.chosen_)
    assert m.scored_on_ == "members' held-out rows"
    held = set()
    for est in m.estimators_:  # the networks' early-stopping rows are the scored rows
        for rows in est[-1].validation_indices_:
            held.update(rows.tolist())
    assert m.n_validation_ == len(held) > 0
    assert _reg(cv=1).fit(FORMULAS, Y).n_validation_ == round(0.2 * len(FORMULAS))
    text = m.describe()
    assert all(name in text for name in TWO) and "chosen:" in text


def test_auto_is_clone_safe_and_survives_joblib(tmp_path):
    m = _reg()
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "estimators_")
    m.fit(FORMULAS, Y)
    joblib.dump(m, tmp_path / "m.joblib")
    back = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_allclose(back.predict(FORMULAS[:4]), m.predict(FORMULAS[:4]))
    assert back.chosen_ == m.chosen_


def test_auto_runs_in_grid_search_and_cross_val_score():
    grid = GridSearchCV(
        _reg(), {"max_ensemble": [1, 2]}, cv=KFold(2), scoring="neg_mean_absolute_error"
    ).fit(FORMULAS, Y)
    assert grid.best_params_["max_ensemble"] in (1, 2)
    scores = cross_val_score(_reg(), FORMULAS, Y, cv=KFold(2))
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_auto_inner_folds_hold_out_every_row_once(monkeypatch):
    import skatomsets.auto._base as base

    seen = []
    original = base._take

    def spy(X, idx):
        seen.append(np.asarray(idx))
        return original(X, idx)

    monkeypatch.setattr(base, "_take", spy)
    m = _reg(candidates=["mlp-v0-stats"], cv=4).fit(FORMULAS, Y)
    held = np.concatenate(seen[1::2])  # (train, held-out) pairs, in order, then the refit
    assert sorted(held[: len(FORMULAS)]) == list(range(len(FORMULAS)))
    assert m.n_validation_ == len(FORMULAS)
    with pytest.raises(ValueError, match="at least 40 rows"):
        _reg(cv=40).fit(FORMULAS, Y)


def test_auto_default_search_costs_one_fit_per_candidate(monkeypatch):
    from sklearn.pipeline import Pipeline

    fits = []
    original = Pipeline.fit

    def counting(self, *args, **kwargs):
        fits.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "fit", counting)
    m = _reg().fit(FORMULAS, Y)
    assert len(fits) == len(TWO)  # no refit: the chosen candidates are kept as fitted
    assert m.chosen_
    fits.clear()
    folds = _reg(cv=2).fit(FORMULAS, Y)
    assert len(fits) == 2 * len(TWO) + len(folds.chosen_)  # 2 folds each, then the refit


def test_auto_member_scores_are_out_of_sample_predictions():
    m = _reg(candidates=["mlp-v0-stats"]).fit(FORMULAS, Y)
    pipe = m.estimators_[0]
    est = pipe[-1]
    feats = pipe[:-1].transform(FORMULAS)
    per_net = est._forward_all(feats)[..., 0] * est.y_scale_[0] + est.y_mean_[0]
    total, count = np.zeros(len(Y)), np.zeros(len(Y))
    for k, rows in enumerate(est.validation_indices_):
        total[rows] += per_net[k, rows]
        count[rows] += 1
    mask = count > 0
    expected = -np.mean(np.abs(Y[mask] - total[mask] / count[mask]))
    assert m.cv_results_["validation_score"][0] == pytest.approx(expected)


def test_auto_max_ensemble_one_keeps_a_single_model():
    m = _reg(max_ensemble=1).fit(FORMULAS, Y)
    assert len(m.chosen_) == 1 and m.ensemble_scores_ == {}


def test_auto_lower_bound_zero_for_non_negative_targets():
    m = _reg().fit(FORMULAS, Y)
    assert m.lower_bound_ == 0.0
    assert (m.predict(FORMULAS) >= 0).all()
    pred = m._bound(np.array([-1.0, 0.5]))
    np.testing.assert_array_equal(pred, [0.0, 0.5])


def test_auto_bounds_follow_the_training_targets_range():
    m = _reg().fit(FORMULAS, Y - 2.0)  # some targets negative: no bound at 0
    span = np.ptp(Y)
    if m.lower_bound_ is not None:  # kept only where the held-out MAE is not worse
        assert m.lower_bound_ == pytest.approx(Y.min() - 2.0 - 0.1 * span)
    if m.upper_bound_ is not None:
        assert m.upper_bound_ == pytest.approx(Y.max() - 2.0 + 0.1 * span)
    assert _reg(lower_bound=None).fit(FORMULAS, Y).lower_bound_ is None
    assert _reg(lower_bound=1.5).fit(FORMULAS, Y).predict(FORMULAS).min() >= 1.5
    assert _reg(upper_bound=2.0).fit(FORMULAS, Y).predict(FORMULAS).max() <= 2.0


def test_auto_upper_bound_stops_a_runaway_extrapolation():
    m = _reg().fit(FORMULAS, Y)
    assert m.upper_bound_ == pytest.approx(Y.max() + 0.1 * np.ptp(Y))
    # a candidate that extrapolates wildly on a material unlike the training ones
    np.testing.assert_array_equal(m._bound(np.array([1e3, -5.0, 1.0])), [m.upper_bound_, 0, 1])
    assert "predictions <=" in m.describe()


def test_auto_predict_return_std_pools_the_networks():
    m = _reg().fit(FORMULAS, Y)
    mean, std = m.predict(FORMULAS[:3], return_std=True)
    np.testing.assert_allclose(mean, m.predict(FORMULAS[:3]))
    assert std.shape == (3,) and (std >= 0).all()
    assert m.domain_score(FORMULAS[:3]).shape == (3,)
    assert isinstance(m.domain_threshold_, float)


def test_auto_leaves_out_a_candidate_that_cannot_featurize_and_says_why(monkeypatch):
    from sklearn.pipeline import Pipeline

    import skatomsets.models as models
    from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer

    def magpie_model(classification, **params):
        featurize = ElementEmbeddingFeaturizer("magpie")
        return Pipeline([("featurize", featurize), ("model", AtomSetsRegressor(**params))])

    monkeypatch.setitem(models._REGISTRY, "magpie-test", magpie_model)
    X = [*FORMULAS[:-1], "FmO2"]  # Fm: covered by magpie, not by megnet16
    m = AutoAtomSetsRegressor(
        candidates=["atomsets-v0", "magpie-test"], model_params=FAST, random_state=0
    ).fit(X, Y)
    errors = dict(zip(m.cv_results_["candidate"], m.cv_results_["error"], strict=True))
    assert "Fm" in errors["atomsets-v0"] and errors["magpie-test"] == ""
    assert m.chosen_ == ["magpie-test"]
    assert "left out" in m.describe()
    with pytest.raises(ValueError, match="no candidate could be fitted"):
        AutoAtomSetsRegressor(candidates=["atomsets-v0"], model_params=FAST).fit(X, Y)


def test_auto_refuses_too_few_rows_and_2d_targets():
    with pytest.raises(ValueError, match="at least 4 rows"):
        _reg().fit(FORMULAS[:3], Y[:3])
    with pytest.raises(ValueError, match="1-D"):
        _reg().fit(FORMULAS, np.c_[Y, Y])


def test_make_model_auto_is_the_auto_estimator():
    assert isinstance(make_model("auto", random_state=1), AutoAtomSetsRegressor)
    assert isinstance(make_model("auto", classification=True), AutoAtomSetsClassifier)


def test_default_candidates_follow_size_rules_not_task_names():
    small = default_candidates(False, 300)
    assert "atomsets" not in small and "mlp-elements-stats" in small
    assert "atomsets" in default_candidates(False, 20_000)
    assert not any(n.startswith("mlp-") for n in default_candidates(False, 100_000))
    assert "atomsets-v1" in default_candidates(True, 500)


def test_structure_inputs_are_detected():
    s = Structure(Lattice.cubic(4.1), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert is_structure_input([s])
    assert is_structure_input([s.as_dict()])
    assert is_structure_input(["a/b/POSCAR"]) and is_structure_input(["x.cif"])
    assert not is_structure_input(["NaCl"]) and not is_structure_input([{"Na": 1, "Cl": 1}])


# ---------------------------------------------------------------------- classification


def test_balanced_threshold_maximises_balanced_accuracy():
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.15).astype(int)  # unbalanced: 15 % positive
    p = np.clip(0.1 + 0.3 * y + rng.normal(0, 0.1, 400), 0, 1)  # probabilities below 0.5
    thr, bal = balanced_threshold(y, p)
    grid = np.linspace(0, 1, 1001)
    best = max(((p >= t).astype(int)[y == 1].mean() + (p < t)[y == 0].mean()) / 2 for t in grid)
    assert bal >= best - 1e-9
    assert 0.1 < thr < 0.5  # 0.5 would call almost everything negative


def test_auto_classifier_predict_follows_the_tuned_threshold():
    m = AutoAtomSetsClassifier(candidates=TWO, model_params=FAST, random_state=0)
    m.fit(FORMULAS, LABELS)
    assert set(m.classes_) == {0, 1}
    assert 0.0 <= m.threshold_ <= 1.0
    proba = m.predict_proba(FORMULAS)
    np.testing.assert_array_equal(
        m.predict(FORMULAS), m.classes_[(proba[:, 1] >= m.threshold_).astype(int)]
    )
    fixed = AutoAtomSetsClassifier(candidates=TWO, model_params=FAST, threshold=0.5, random_state=0)
    assert fixed.fit(FORMULAS, LABELS).threshold_ == 0.5


def test_auto_classifier_string_labels_and_one_class():
    names = np.where(LABELS == 1, "metal", "insulator")
    m = AutoAtomSetsClassifier(candidates=TWO[:1], model_params=FAST, random_state=0)
    assert set(m.fit(FORMULAS, names).predict(FORMULAS[:4])) <= {"metal", "insulator"}
    with pytest.raises(ValueError, match="only one class"):
        m.fit(FORMULAS, ["a"] * len(FORMULAS))


def test_prediction_frame_labels_follow_the_auto_classifiers_threshold():
    from skatomsets.uncertainty import prediction_frame

    m = AutoAtomSetsClassifier(candidates=TWO[:1], model_params=FAST, random_state=0)
    m.fit(FORMULAS, LABELS)
    m.threshold_ = 1e-9  # every material above it: all labels classes_[1], whatever argmax says
    frame = prediction_frame(m, FORMULAS[:6])
    np.testing.assert_array_equal(frame["prediction"], m.predict(FORMULAS[:6]))
    assert (frame["prediction"] == m.classes_[1]).all()


def _cells(n: int) -> list[Structure]:
    """n rock-salt cells of varied size; the last one a lone Cs atom 7 Å from its images."""
    cells = [
        Structure(Lattice.cubic(4.6 + 0.05 * i), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
        for i in range(n - 1)
    ]
    return [*cells, Structure(Lattice.cubic(7.0), ["Cs"], [[0, 0, 0]])]


def test_auto_keeps_a_parent_whose_cutoff_isolates_one_site():
    # one sparse cell (a site with no neighbour within MEGNet's 5 Å) must not cost the
    # search every MEGNet candidate: the auto model's parent featurizers accept it
    X, y = _cells(12), np.linspace(0.0, 1.0, 12)
    m = AutoAtomSetsRegressor(candidates=["mlp-f"], model_params=FAST, random_state=0).fit(X, y)
    assert m.cv_results_["error"] == [""] and m.chosen_ == ["mlp-f"]
    assert np.isfinite(m.predict(X)).all()
    strict = AutoAtomSetsRegressor(
        candidates=["mlp-f", "atomsets-elements"],
        allow_isolated=False,
        model_params=FAST,
        random_state=0,
    ).fit(X, y)
    errors = dict(zip(strict.cv_results_["candidate"], strict.cv_results_["error"], strict=True))
    assert "row 11" in errors["mlp-f"] and "no neighbour" in errors["mlp-f"]
    assert strict.chosen_ == ["atomsets-elements"]
