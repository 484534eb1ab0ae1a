"""Persistence: whole pipelines through joblib, CUDA-trained models on CPU-only machines."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from skorch.exceptions import DeviceWarning

from skatomsets import AtomSetsClassifier, ElementEmbeddingFeaturizer, SetStatsTransformer
from skatomsets.datasets import load_dataset
from skatomsets.models import make_model


@pytest.fixture(scope="module")
def data():
    df = load_dataset("glass").iloc[:200]
    return df.composition.to_numpy(), df.target.to_numpy()


@pytest.mark.parametrize("name", ["atomsets", "atomsets-v0", "mlp-v0-stats"])
def test_named_models_roundtrip_through_joblib(name, data, tmp_path):
    X, y = data
    model = make_model(name, classification=True, max_epochs=3, random_state=0, device="cpu")
    model.fit(X, y)
    joblib.dump(model, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_model_trained_on_cuda_loads_on_a_cpu_only_machine(data):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this test simulates a machine without CUDA")
    X, y = data
    model = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsClassifier(max_epochs=3, random_state=0, device="cpu")
    ).fit(X, y)
    expected = model.predict_proba(X)
    for net in model[-1].nets_:
        net.device = "cuda"  # as saved by a session that trained on a GPU
    with pytest.warns(DeviceWarning, match="no CUDA devices"):
        loaded = pickle.loads(pickle.dumps(model))
    assert all(str(net.device) == "cpu" for net in loaded[-1].nets_)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)


def test_fitted_transformers_pickle(data):
    X, _ = data
    sets = ElementEmbeddingFeaturizer().fit_transform(X)
    t = SetStatsTransformer().fit(sets)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(t)).transform(sets), t.transform(sets))
