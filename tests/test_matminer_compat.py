"""Our featurizers compose with matminer's, and estimators take what featurize_dataframe wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matminer.featurizers.base import BaseFeaturizer, MultipleFeaturizer
from matminer.featurizers.composition import ElementProperty, Stoichiometry
from pymatgen.core import Composition
from sklearn.base import clone

from skatomsets import (
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
    MEGNetStructureFeaturizer,
    SetStatsTransformer,
)
from skatomsets.exceptions import InvalidSetError
from skatomsets.sets import RaggedSets, sets_from_column

FORMULAS = ["Fe2O3", "NaCl", "SiO2", "Al2O3", "MgO", "CuZn"]


@pytest.fixture
def frame():
    return pd.DataFrame(
        {"composition": [Composition(f) for f in FORMULAS], "y": np.arange(6.0)},
        index=[10, 11, 12, 13, 14, 15],
    )


def test_featurizers_are_matminer_base_featurizers():
    assert isinstance(ElementEmbeddingFeaturizer(), BaseFeaturizer)
    assert isinstance(MEGNetStructureFeaturizer(), BaseFeaturizer)
    # n_jobs stays an ordinary scikit-learn parameter despite matminer's property
    fz = ElementEmbeddingFeaturizer(n_jobs=2)
    assert fz.get_params()["n_jobs"] == 2 and clone(fz).n_jobs == 2
    fz.set_n_jobs(1)
    assert fz.n_jobs == 1


@pytest.mark.parametrize("iterate_over_entries", [True, False])
def test_multiple_featurizer_with_matminer_featurizers(frame, iterate_over_entries):
    magpie = ElementProperty.from_preset("magpie")
    multi = MultipleFeaturizer(
        [ElementEmbeddingFeaturizer(), magpie, Stoichiometry()],
        iterate_over_entries=iterate_over_entries,
    )
    multi.set_n_jobs(1)
    out = multi.fit(frame["composition"]).featurize_dataframe(frame, "composition", pbar=False)
    labels = multi.feature_labels()
    assert labels[0] == "ElementEmbeddingFeaturizer_set"
    assert list(out.columns) == ["composition", "y", *labels]
    assert list(out.index) == list(frame.index)
    first = out["ElementEmbeddingFeaturizer_set"].iloc[0]
    expected = ElementEmbeddingFeaturizer().fit_transform(["Fe2O3"])
    assert first == expected
    magpie_only = magpie.featurize_dataframe(frame, "composition", pbar=False)
    np.testing.assert_allclose(
        out[magpie.feature_labels()].to_numpy(float),
        magpie_only[magpie.feature_labels()].to_numpy(float),
    )


def test_featurize_many_matches_transform_and_marks_failures():
    fz = ElementEmbeddingFeaturizer().fit()
    rows = fz.featurize_many(FORMULAS, pbar=False)
    assert len(rows) == 6 and all(len(r) == 1 for r in rows)
    assert RaggedSets.from_rows([r[0] for r in rows]) == fz.transform(FORMULAS)
    bad = fz.featurize_many(["NaCl", "Xx"], ignore_errors=True, return_errors=True, pbar=False)
    assert isinstance(bad[0][0], RaggedSets) and np.isnan(bad[0][1])
    assert np.isnan(bad[1][0]) and "Xx" in bad[1][1]
    with pytest.raises(ValueError, match="Xx"):
        fz.featurize_many(["NaCl", "Xx"], pbar=False)


def test_estimator_accepts_featurize_dataframe_column(frame, tiny):
    out = ElementEmbeddingFeaturizer().featurize_dataframe(frame, "composition", pbar=False)
    column = out["ElementEmbeddingFeaturizer_set"]
    direct = AtomSetsRegressor(**tiny).fit(
        ElementEmbeddingFeaturizer().fit_transform(frame["composition"]), frame["y"]
    )
    model = AtomSetsRegressor(**tiny).fit(column, frame["y"])
    np.testing.assert_allclose(
        model.predict(column), direct.predict(column.to_numpy()), rtol=1e-5, atol=1e-6
    )
    # the one-column frame and a plain list work too
    np.testing.assert_allclose(
        model.predict(out[["ElementEmbeddingFeaturizer_set"]]), model.predict(list(column))
    )
    stats = SetStatsTransformer().fit(column)
    assert stats.transform(column).shape == (6, 80)


def test_rows_that_are_not_sets_are_named(frame, tiny):
    f = frame.copy()
    f.loc[12, "composition"] = "Xx"
    out = ElementEmbeddingFeaturizer().featurize_dataframe(
        f, "composition", ignore_errors=True, pbar=False
    )
    with pytest.raises(InvalidSetError, match=r"row 2: expected a feature set, got NaN"):
        AtomSetsRegressor(**tiny).fit(out["ElementEmbeddingFeaturizer_set"], f["y"])
    mixed = [np.ones((2, 3)), (np.ones((1, 4)), np.ones(1))]
    with pytest.raises(InvalidSetError, match="row 1: set has 4 features"):
        sets_from_column(mixed)


def test_old_style_value_weight_pairs_are_sets():
    sets = sets_from_column(pd.Series([[np.ones((2, 3)), [1.0, 3.0]], [np.zeros((1, 3)), [2.0]]]))
    assert isinstance(sets, RaggedSets) and list(sets.lengths) == [2, 1]
    np.testing.assert_allclose(sets.weights, [0.25, 0.75, 1.0])
    # anything that is not a set column passes through unchanged
    plain = np.ones((3, 2))
    assert sets_from_column(plain) is plain
    assert sets_from_column(["NaCl"]) == ["NaCl"]
