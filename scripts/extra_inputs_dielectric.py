"""Extra per-material inputs on real data: refractive index n with and without the band gap.

The dielectric set (Petousis et al. 2017, 1056 Materials Project structures) gives for each
material its refractive index n and its computed (PBE) band gap. A set model on the
composition alone is compared with the same model given the band gap as an extra input
(a DataFrame with the materials column plus a ``band_gap`` column: the featurizer carries
the number along and the model feeds it in after the readout). 5-fold KFold (shuffle,
random_state=0), default estimator with random_state=0, one thread.

    python scripts/extra_inputs_dielectric.py \
        --data ../shared/data/structures/dielectric_constant.json.gz \
        --models atomsets-v0 mlp-v0-stats --threads 1

Measured (2 shared CPU cores, one thread): 5-fold MAE of n

    model          composition only   + band_gap input
    atomsets-v0    0.3216             0.2692
    mlp-v0-stats   0.3540             0.2918
"""

from __future__ import annotations

import argparse
import gzip
import json
import time

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Structure
from sklearn.model_selection import KFold, cross_val_predict

from skatomsets.models import make_model


def load(path: str) -> tuple[pd.DataFrame, np.ndarray]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = json.load(fh)
    formulas = [Structure.from_dict(r["structure"]).composition.formula for r in records]
    df = pd.DataFrame(
        {"composition": formulas, "band_gap": [float(r["band_gap"]) for r in records]}
    )
    return df, np.array([float(r["n"]) for r in records])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/structures/dielectric_constant.json.gz")
    ap.add_argument("--models", nargs="+", default=["atomsets-v0"])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    df, y = load(args.data)
    cv = KFold(5, shuffle=True, random_state=0)
    print(f"dielectric: {len(df)} materials, n from {y.min():.2f} to {y.max():.2f}")
    print(f"{'model':<14} {'MAE composition only':>22} {'MAE + band_gap input':>22}")
    for name in args.models:
        maes = []
        for cols in (["composition"], ["composition", "band_gap"]):
            t0 = time.perf_counter()
            pred = cross_val_predict(make_model(name, random_state=0), df[cols], y, cv=cv)
            maes.append((np.abs(pred - y).mean(), time.perf_counter() - t0))
        print(
            f"{name:<14} {maes[0][0]:>14.4f} ({maes[0][1]:4.0f} s) "
            f"{maes[1][0]:>14.4f} ({maes[1][1]:4.0f} s)"
        )


if __name__ == "__main__":
    main()
