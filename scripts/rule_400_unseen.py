"""The 400-1,999-row size rule before and after session 12, on data not used to choose it.

Compositions of the elastic (log10 G_VRH) and dielectric (n) structure sets of the shared
data folder (845-945 training rows, inside the rule), ``KFold(5, shuffle=True,
random_state=18012019)`` folds 0 and 1, ``make_model("atomsets-v0", random_state=0)`` with
the defaults against the same model with the earlier rule (400 epochs, patience 80, 3
networks). Prints the test MAE and the fit time of each, one thread.

    python scripts/rule_400_unseen.py --data-dir ../shared/data/structures
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from skatomsets.datasets import load_structure_set
from skatomsets.models import make_model

EARLIER = {"max_epochs": 400, "patience": 80, "n_ensemble": 3}
SETS = (("elastic_tensor_2015.json.gz", "log10_G_VRH"), ("dielectric_constant.json.gz", "n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=2, help="the first N of the 5 folds")
    args = parser.parse_args()
    for fname, target in SETS:
        df = load_structure_set(args.data_dir / fname, target)
        X = np.array([s.composition.formula.replace(" ", "") for s in df["structure"]])
        y = df["target"].to_numpy(float)
        splits = KFold(5, shuffle=True, random_state=18012019).split(X)
        for k, (tr, te) in zip(range(args.folds), splits, strict=False):
            for label, params in (("earlier rule", EARLIER), ("defaults", {})):
                model = make_model("atomsets-v0", random_state=0, n_threads=1, **params)
                t0 = time.perf_counter()
                model.fit(X[tr], y[tr])
                seconds = time.perf_counter() - t0
                mae = np.abs(model.predict(X[te]) - y[te]).mean()
                print(
                    f"{target} fold {k} ({len(tr)} training rows) {label}: "
                    f"MAE {mae:.4f} ({seconds:.0f} s)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
