"""In-sample error floor of any composition-only model on a MatBench task.

Rows that share a reduced formula (polymorphs) cannot be told apart from the composition;
predicting every row by the mean target of its formula group is the best a composition
model can do *on the same rows* (an optimistic floor: it uses the test labels).

    python scripts/composition_floor.py --data-dir ../shared/data/matbench \
        --tasks matbench_mp_e_form matbench_mp_gap
"""

from __future__ import annotations

import argparse

from pymatgen.core import Composition

from skatomsets.datasets import load_matbench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--tasks", nargs="+", default=["matbench_mp_e_form", "matbench_mp_gap"])
    args = ap.parse_args()
    for task in args.tasks:
        df = load_matbench(task, data_dir=args.data_dir, download=False)
        formula = [Composition(c).reduced_formula for c in df["composition"]]
        groups = df.assign(formula=formula).groupby("formula")["target"]
        shared = groups.transform("size") > 1
        dev = (df["target"] - groups.transform("mean")).abs()
        print(
            f"{task}: {100 * shared.mean():.1f} % of rows share a reduced formula; "
            f"floor MAE {dev.mean():.4f} (among shared rows {dev[shared].mean():.4f})"
        )


if __name__ == "__main__":
    main()
