"""
Grid search on a dask cluster
=============================

``GridSearchCV`` parallelises through joblib; with ``joblib.parallel_backend("dask")`` the
fits run on a ``dask.distributed`` cluster. :func:`skatomsets.parallel.local_cluster` starts
worker processes with one thread each (torch and BLAS included), so nothing
oversubscribes the cores. On a multi-GPU machine use one worker per GPU and
``device="cuda"``.
"""

import joblib
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_dataset
from skatomsets.parallel import local_cluster

if __name__ == "__main__":
    df = load_dataset("matbench_steels")
    pipe = make_pipeline(
        ElementEmbeddingFeaturizer(), AtomSetsRegressor(max_epochs=10, random_state=0)
    )
    grid = {
        "atomsetsregressor__n_neurons": [16, 32],
        "atomsetsregressor__readout": ["mean", "set2set"],
    }
    with local_cluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        print(client)
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(df.composition, df.target)
    print("best:", search.best_params_)
