"""scikit-learn conventions for featurizers (sklearn's checks skip string-input estimators)."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skatomsets import ElementEmbeddingFeaturizer

FEATURIZERS = [ElementEmbeddingFeaturizer(), ElementEmbeddingFeaturizer("magpie", n_jobs=2)]
MATERIALS = ["NaCl", "Fe2O3", "LiCoO2"]


@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=repr)
def test_init_only_stores_parameters(featurizer):
    params = inspect.signature(type(featurizer).__init__).parameters
    assert set(vars(featurizer)) == set(params) - {"self"}
    assert clone(featurizer).get_params() == featurizer.get_params()


@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=repr)
def test_fit_returns_self_and_sets_fitted_attributes(featurizer):
    f = clone(featurizer)
    with pytest.raises(NotFittedError):
        f.transform(MATERIALS)
    assert f.fit(MATERIALS) is f
    assert f.n_features_out_ == len(f.get_feature_names_out())


@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=repr)
def test_transform_is_deterministic_and_picklable(featurizer):
    f = clone(featurizer).fit(MATERIALS)
    a = f.transform(MATERIALS)
    b = pickle.loads(pickle.dumps(f)).transform(MATERIALS)
    assert a == b
    assert len(f.transform([])) == 0


@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=repr)
def test_fit_transform_equals_fit_then_transform(featurizer):
    a = clone(featurizer).fit_transform(MATERIALS)
    b = clone(featurizer).fit(MATERIALS).transform(MATERIALS)
    assert a == b
    np.testing.assert_array_equal(a.offsets, [0, 2, 4, 7])
