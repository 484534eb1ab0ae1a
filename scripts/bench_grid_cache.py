"""Grid-search time with and without the MEGNet featurization cache.

A GridSearchCV over a slice of the paper's grid (Table S2) for AtomSets-V1 on real
structures: with ``cache=False`` every fit re-runs the MEGNet parent on its training split;
with the default in-process cache each structure is featurized once for the whole search.

Usage::

    python scripts/bench_grid_cache.py --data ../shared/data --n 1000
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np
import torch
from pymatgen.core import Structure
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skatomsets import AtomSetsRegressor, MEGNetSiteFeaturizer
from skatomsets.megnet.cache import clear_memory_cache


def main() -> None:
    """Run the comparison and print both wall times."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data", type=Path)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    with gzip.open(args.data / "structures" / "flla_2015.json.gz", "rt") as fh:
        records = json.load(fh)[: args.n]
    X = np.array([Structure.from_dict(r["structure"]) for r in records], dtype=object)
    y = np.array([r["formation_energy_per_atom"] for r in records])
    grid = {"model__n_neurons": [32, 64], "model__readout": ["mean", "set2set"]}
    n_fits = 3 * 4 + 1
    for cache in (False, True):
        clear_memory_cache()
        pipe = Pipeline(
            [
                ("featurize", MEGNetSiteFeaturizer(level=1, cache=cache, allow_isolated=True)),
                ("model", AtomSetsRegressor(max_epochs=args.epochs, random_state=0, device="cpu")),
            ]
        )
        t0 = time.perf_counter()
        GridSearchCV(pipe, grid, cv=3, scoring="neg_mean_absolute_error").fit(X, y)
        print(
            f"cache={cache!s:5s}: {time.perf_counter() - t0:6.1f} s for {n_fits} fits on "
            f"{len(X)} structures ({args.epochs} epochs each)",
            flush=True,
        )


if __name__ == "__main__":
    main()
