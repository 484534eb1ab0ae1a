"""SetStatsTransformer: weighted statistics over sets, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from skatomsets import ElementEmbeddingFeaturizer, RaggedSets, SetStatsTransformer


def test_hand_computed_statistics():
    sets = RaggedSets([[1.0], [3.0], [5.0]], offsets=[0, 2, 3], weights=[1, 3, 1])
    out = SetStatsTransformer().fit_transform(sets)
    # set 0: weights 0.25/0.75 -> mean 2.5, var 0.25*2.25 + 0.75*0.25 = 0.75
    np.testing.assert_allclose(out[0], [2.5, np.sqrt(0.75), 1, 3, 2])
    np.testing.assert_allclose(out[1], [5, 0, 5, 5, 0])


def test_selected_stats_and_names():
    sets = ElementEmbeddingFeaturizer().fit_transform(["NaCl", "Fe2O3"])
    t = SetStatsTransformer(stats=("max", "mean")).fit(sets)
    names = t.get_feature_names_out()
    assert names[0] == "max_megnet16_0" and names[16] == "mean_megnet16_0"
    assert t.transform(sets).shape == (2, 32)


def test_unknown_stat_raises_in_fit():
    with pytest.raises(ValueError, match="stats must be"):
        SetStatsTransformer(stats=("median",)).fit(np.ones((2, 2)))


def test_pandas_output():
    sets = ElementEmbeddingFeaturizer().fit_transform(["NaCl", "Fe2O3"])
    df = SetStatsTransformer().set_output(transform="pandas").fit_transform(sets)
    assert df.columns[0] == "mean_megnet16_0" and df.shape == (2, 80)
