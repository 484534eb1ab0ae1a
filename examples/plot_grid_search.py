"""
The paper's hyperparameter search with GridSearchCV
===================================================

The grid of the paper (Table S2) over depth, width, readout and activation, run by
``GridSearchCV`` on a formula pipeline. With ``Pipeline(memory=...)`` the featurization is
computed once per training split and reused for every grid point; here we time a small
grid with and without that cache.
"""

import time
from tempfile import mkdtemp

from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_dataset

# The full paper grid (run it on a GPU machine, or over a dask cluster):
PAPER_GRID = {
    "model__n_layer_before_readout": [1, 2, 3],
    "model__n_layer_after_readout": [2, 3],
    "model__n_neurons": [16, 32, 64, 128],
    "model__readout": ["mean", "set2set"],
    "model__activation": ["softplus", "relu"],
}
# A small slice of it for this example:
grid = {"model__n_neurons": [16, 32], "model__readout": ["mean", "set2set"]}

df = load_dataset("matbench_steels")
X, y = df.composition.to_numpy(), df.target.to_numpy()
for memory in (None, mkdtemp()):
    pipe = Pipeline(
        [
            ("featurize", ElementEmbeddingFeaturizer()),
            # a short training budget, only to keep this timing demo fast; leave the
            # budget at its default ("auto") for real searches
            ("model", AtomSetsRegressor(max_epochs=20, n_ensemble=1, random_state=0)),
        ],
        memory=memory,
    )
    t0 = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=3, scoring="neg_mean_absolute_error").fit(X, y)
    print(
        f"memory={'on ' if memory else 'off'}: {time.perf_counter() - t0:5.1f} s, "
        f"best {search.best_params_}, MAE {-search.best_score_:.0f} MPa"
    )

# %%
# For structure featurizers the cache is built in: ``MEGNetSiteFeaturizer`` and
# ``MEGNetStructureFeaturizer`` keep every structure's features keyed by its content and the
# parent's checksum (``cache=True``, or ``cache="some/dir"`` to persist them), so a grid
# search runs the MEGNet parent once per structure, whatever the number of grid points.
