"""Grid search and featurization on a dask.distributed LocalCluster (separate processes)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("distributed", reason="dask.distributed is an optional extra")

import joblib
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_dataset
from skatomsets.parallel import local_cluster


@pytest.fixture(scope="module")
def client():
    c = local_cluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    yield c
    c.close()
    c.cluster.close()


def test_workers_are_separate_processes_with_one_thread(client):
    import os

    import torch

    pids = client.run(os.getpid)
    threads = client.run(torch.get_num_threads)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert set(threads.values()) == {1}


def test_grid_search_and_featurization_under_the_dask_backend(client):
    df = load_dataset("steels").iloc[:100]
    X, y = df.composition.to_numpy(), df.target.to_numpy()
    pipe = make_pipeline(
        ElementEmbeddingFeaturizer(n_jobs=2, chunk_size=30),
        AtomSetsRegressor(max_epochs=5, random_state=0, device="cpu"),
    )
    grid = {"atomsetsregressor__n_neurons": [16, 32]}
    with joblib.parallel_backend("dask"):
        search = GridSearchCV(pipe, grid, cv=2, n_jobs=-1).fit(X, y)
        sets = ElementEmbeddingFeaturizer(n_jobs=2, chunk_size=30).fit_transform(X)
    local = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=1e-5
    )
    assert sets == ElementEmbeddingFeaturizer().fit_transform(X)
