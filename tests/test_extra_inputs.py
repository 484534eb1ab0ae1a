"""Extra per-material inputs beside the material (a DataFrame's numeric columns)."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
    SetStatsTransformer,
)
from skatomsets.exceptions import InvalidExtraInputError
from skatomsets.models import make_model
from skatomsets.sets import RaggedSets

FAST = {"max_epochs": 40, "batch_size": 16, "lr": 3e-3, "random_state": 0, "device": "cpu"}
FORMULAS = ["Fe2O3", "NaCl", "MgO", "Al2O3", "FeO", "KCl"]


def _frame(n: int = 36) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "temperature": rng.uniform(200, 900, n),
            "composition": [FORMULAS[i % len(FORMULAS)] for i in range(n)],
            "pressure": rng.integers(1, 5, n),
        }
    )


def test_featurizer_carries_numeric_columns_as_extras_aligned_by_indexing() -> None:
    df = _frame(9)
    sets = ElementEmbeddingFeaturizer(chunk_size=4).fit_transform(df)  # 3 chunks -> concat
    assert sets.n_extras == 2
    assert list(sets.extra_names) == ["temperature", "pressure"]
    np.testing.assert_allclose(sets.extras, df[["temperature", "pressure"]].to_numpy(), 1e-6)
    plain = ElementEmbeddingFeaturizer().fit_transform(df.composition)
    np.testing.assert_array_equal(sets.values, plain.values)
    for key in ([4, 0, 4], slice(2, 7, 2), np.arange(9) % 3 == 0, 5):
        sub = sets[key]
        np.testing.assert_array_equal(sub.extras, sets.extras[key].reshape(-1, 2))
        np.testing.assert_array_equal(sub.values, plain[key].values)
    both = RaggedSets.concat([sets[:3], sets[3:]])
    assert both == sets
    assert "n_extras=2" in repr(sets)


def test_the_materials_column_can_be_anywhere_and_one_column_has_no_extras() -> None:
    df = _frame(6)[["pressure", "temperature", "composition"]]
    sets = ElementEmbeddingFeaturizer().fit_transform(df)
    assert list(sets.extra_names) == ["pressure", "temperature"]
    # two non-numeric columns: the one holding materials is found, by name or by content
    odd = df.assign(temperature=df.temperature.astype(object)).rename(columns={"composition": "x"})
    assert list(ElementEmbeddingFeaturizer().fit_transform(odd).extra_names) == [
        "pressure",
        "temperature",
    ]
    assert ElementEmbeddingFeaturizer().fit_transform(df[["composition"]]).extras is None


@pytest.mark.parametrize(
    "value, match",
    [(np.nan, "is NaN or infinite"), (np.inf, "is NaN or infinite"), ("hot", "non-numeric")],
)
def test_bad_extra_value_names_the_row_and_column(value, match) -> None:
    df = _frame(8)
    df["temperature"] = df["temperature"].astype(object)
    df.loc[5, "temperature"] = value
    with pytest.raises(InvalidExtraInputError, match=match) as info:
        ElementEmbeddingFeaturizer().fit_transform(df)
    assert info.value.row == 5
    assert info.value.column == "temperature"
    assert "row 5" in str(info.value) and "'temperature'" in str(info.value)


def test_frame_without_a_materials_column_is_a_clear_error() -> None:
    with pytest.raises(InvalidExtraInputError, match="one column must hold the materials"):
        ElementEmbeddingFeaturizer().fit_transform(pd.DataFrame({"a": [1.0], "b": [2.0]}))


def test_ragged_sets_constructor_checks_extras() -> None:
    with pytest.raises(InvalidExtraInputError, match=r"shape \(2, k\)"):
        RaggedSets(np.ones((3, 2)), [0, 1, 3], extras=np.ones((3, 1)))
    s = RaggedSets(np.ones((3, 2)), [0, 1, 3], extras=[[1.0], [2.0]], extra_names=["T"])
    assert s.extras.dtype == np.float32 and list(s.extra_names) == ["T"]
    assert s.with_extras(None).extras is None


def test_set_model_uses_the_extra_inputs() -> None:
    # the target depends only on the extra input: the composition alone cannot predict it
    df = _frame(48)
    y = df.temperature.to_numpy() / 100
    params = {**FAST, "max_epochs": 150, "lr": 1e-2, "validation_fraction": None}
    with_extra = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**params))
    without = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**params))
    err_with = np.abs(with_extra.fit(df, y).predict(df) - y).mean()
    err_without = np.abs(without.fit(df.composition, y).predict(df.composition) - y).mean()
    assert err_with < 0.5 * err_without
    model = with_extra[-1]
    assert model.n_extras_in_ == 2
    assert list(model.extra_names_in_) == ["temperature", "pressure"]
    np.testing.assert_allclose(model.extras_mean_[0], df.temperature.mean(), rtol=1e-5)


def test_extras_are_standardised_inside_without_touching_the_input() -> None:
    df = _frame(24)
    sets = ElementEmbeddingFeaturizer().fit_transform(df)
    before = sets.extras.copy()
    model = AtomSetsRegressor(**{**FAST, "max_epochs": 2}).fit(sets, np.arange(24.0))
    np.testing.assert_array_equal(sets.extras, before)
    scaled = model._check_X(sets, reset=False).extras
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.std(axis=0), 1, atol=1e-4)


def test_predict_refuses_missing_renamed_or_unexpected_extra_columns() -> None:
    df = _frame(24)
    y = np.arange(24.0)
    pipe = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsRegressor(**{**FAST, "max_epochs": 2})
    )
    pipe.fit(df, y)
    with pytest.raises(InvalidExtraInputError, match="fitted with extra inputs"):
        pipe.predict(df.composition)
    with pytest.raises(InvalidExtraInputError, match=r"\['temperature', 'P'\]"):
        pipe.predict(df.rename(columns={"pressure": "P"}))
    with pytest.raises(InvalidExtraInputError, match="same names, same order"):
        pipe.predict(df[["composition", "pressure", "temperature"]])
    plain = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsRegressor(**{**FAST, "max_epochs": 2})
    )
    plain.fit(df.composition, y)
    with pytest.raises(InvalidExtraInputError, match="fitted without extra inputs"):
        plain.predict(df)


def test_extras_work_in_grid_search_cross_validation_and_joblib(tmp_path) -> None:
    df = _frame(30)
    y = df.temperature.to_numpy() / 100 + np.arange(30) % 3
    pipe = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsClassifier(**{**FAST, "max_epochs": 5})
    )
    labels = (y > np.median(y)).astype(int)
    search = GridSearchCV(pipe, {"atomsetsclassifier__n_neurons": [8, 16]}, cv=KFold(2))
    search.fit(df, labels)
    assert search.best_estimator_[-1].n_extras_in_ == 2
    reg = make_model("atomsets-v0", **{**FAST, "max_epochs": 5})
    scores = cross_val_score(reg, df, y, cv=KFold(3), scoring="neg_mean_absolute_error")
    assert np.isfinite(scores).all()
    reg.fit(df, y)
    path = tmp_path / "model.joblib"
    joblib.dump(reg, path)
    np.testing.assert_array_equal(joblib.load(path).predict(df), reg.predict(df))


def test_set_stats_appends_the_extras_for_the_stats_models() -> None:
    df = _frame(12)
    sets = ElementEmbeddingFeaturizer().fit_transform(df)
    stats = SetStatsTransformer(stats=("mean",)).fit(sets)
    out = stats.transform(sets)
    assert out.shape == (12, 16 + 2)
    np.testing.assert_allclose(out[:, -2:], sets.extras, rtol=1e-6)
    assert list(stats.get_feature_names_out()[-2:]) == ["temperature", "pressure"]
    with pytest.raises(InvalidExtraInputError, match="fitted with"):
        stats.transform(sets.with_extras(None))
    model = make_model("mlp-v0-stats", **{**FAST, "max_epochs": 3}).fit(df, np.arange(12.0))
    assert model.predict(df).shape == (12,)
