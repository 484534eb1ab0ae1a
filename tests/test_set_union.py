"""SetFeatureUnion: atom features of several sources side by side in one RaggedSets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.base import clone

from skatomsets.exceptions import InvalidSetError, MissingFeaturesError
from skatomsets.featurizers import (
    CHGNetSiteFeaturizer,
    ElementEmbeddingFeaturizer,
    MEGNetSiteFeaturizer,
)
from skatomsets.featurizers.union import SetFeatureUnion, make_set_union
from skatomsets.parents.megnet import MEGNetParent

FORMULAS = ["Fe2O3", "NaCl", "Li3PO4", "SiO2"]


def _union():
    return make_set_union(
        ElementEmbeddingFeaturizer("megnet16"),
        ElementEmbeddingFeaturizer("matscholar"),
        ElementEmbeddingFeaturizer("magpie"),
    )


def test_union_concatenates_each_source_columns_in_order():
    sets = _union().fit_transform(FORMULAS)
    parts = [
        ElementEmbeddingFeaturizer(t).fit_transform(FORMULAS)
        for t in ("megnet16", "matscholar", "magpie")
    ]
    assert sets.n_features == 16 + 200 + 22
    np.testing.assert_array_equal(sets.values, np.hstack([p.values for p in parts]))
    np.testing.assert_array_equal(sets.offsets, parts[0].offsets)
    np.testing.assert_array_equal(sets.weights, parts[0].weights)


def test_union_feature_names_say_which_source_each_column_came_from():
    u = _union().fit(FORMULAS)
    names = list(u.get_feature_names_out())
    assert names[0] == "megnet16__megnet16_0"
    assert names[16].startswith("matscholar__")
    assert names[-1].startswith("magpie__magpie_")
    assert names == list(u.transform(FORMULAS).feature_names)
    assert u.source_widths_ == {"megnet16": 16, "matscholar": 200, "magpie": 22}


def test_union_does_not_modify_the_featurizers_given():
    f = ElementEmbeddingFeaturizer("megnet16")
    SetFeatureUnion([("a", f), ("b", ElementEmbeddingFeaturizer("magpie"))]).fit(FORMULAS)
    assert not hasattr(f, "table_")


def test_union_nested_params_work_like_feature_union():
    u = _union()
    assert u.get_params()["megnet16__embedding"] == "megnet16"
    u.set_params(magpie__embedding="onehot")
    assert clone(u).get_params()["magpie__embedding"] == "onehot"
    assert u.fit(FORMULAS).n_features_out_ == 16 + 200 + 118


def test_union_carries_dataframe_extra_columns_once():
    df = pd.DataFrame({"formula": FORMULAS, "T": [300.0, 400.0, 500.0, 600.0]})
    sets = _union().fit_transform(df)
    assert sets.extras.shape == (4, 1)
    assert list(sets.extra_names) == ["T"]


def test_union_bad_element_names_the_row_and_source():
    with pytest.raises(MissingFeaturesError) as err:
        _union().fit_transform(["NaCl", "Fe2O3", "PuO2", "FmO2"])  # Fm: no megnet16 row
    assert err.value.row == 3


def test_union_refuses_element_and_site_sets_of_different_sizes():
    s = Structure(
        Lattice.cubic(4.2),
        ["Na", "Na", "Cl", "Cl"],
        [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0], [0, 0.5, 0]],
    )
    u = make_set_union(ElementEmbeddingFeaturizer("megnet16"), MEGNetSiteFeaturizer(level=0))
    with pytest.raises(InvalidSetError, match="different sizes") as err:
        u.fit_transform([s])
    assert err.value.row == 0


@pytest.mark.parametrize("bad", [[], [ElementEmbeddingFeaturizer()], [("a", 3)]])
def test_union_bad_featurizer_list_is_a_clear_error(bad):
    with pytest.raises((ValueError, TypeError)):
        SetFeatureUnion(bad).fit(FORMULAS)


def test_union_duplicate_sources_get_distinct_names():
    u = make_set_union(
        ElementEmbeddingFeaturizer("megnet16"), ElementEmbeddingFeaturizer("megnet16")
    )
    assert [n for n, _ in u.featurizer_list] == ["megnet16", "megnet16_2"]


def test_adding_a_source_never_recomputes_the_cached_ones(monkeypatch):
    s = Structure(Lattice.cubic(4.1), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    calls = []
    original = MEGNetParent.compute

    def counting(self, structures, rows, keys):
        calls.append(tuple(keys))
        return original(self, structures, rows, keys)

    monkeypatch.setattr(MEGNetParent, "compute", counting)
    one = make_set_union(MEGNetSiteFeaturizer(level=1)).fit_transform([s])
    n_first = len(calls)
    two = make_set_union(
        MEGNetSiteFeaturizer(level=1), CHGNetSiteFeaturizer(level=3)
    ).fit_transform([s])
    assert len(calls) == n_first  # MEGNet's V1 came from the cache
    np.testing.assert_array_equal(two.values[:, : one.n_features], one.values)
    assert two.n_features == one.n_features + 64
