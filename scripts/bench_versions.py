"""Training speed of two code versions side by side: the same fit, alternating rounds.

Each round runs, for every ``--code`` folder (a checkout or ``git archive`` of skatomsets,
put first on ``sys.path`` in a fresh process), ``AtomSetsRegressor(max_epochs=E + 1,
batch_size=128, n_neurons=64, validation_fraction=None, n_ensemble=1, n_threads=1,
random_state=0)`` on the 95,581 ``matbench_mp_e_form`` fold-0 training rows that
``bench_training.py`` uses (V0 features), and prints its median seconds per epoch (first
epoch excluded) and its training losses, one JSON line per run. ``--set KEY=VALUE``
(repeatable, values read as Python literals) overrides those parameters, e.g.
``--set readout="'set2set'" --set n_neurons=256 --set batch_size=256`` for the set2set
readout of the 50,000-row rule.

Usage::

    git archive <old commit> | tar -x -C /tmp/old
    python scripts/bench_versions.py --code /tmp/old . --data ../shared/data/matbench
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, sys
import numpy as np, torch
sys.path.insert(0, {code!r})
import skatomsets
from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_matbench_csv
torch.set_num_threads(1)
df = load_matbench_csv({data!r})
train = np.flatnonzero(df["test_fold"].to_numpy() != 0)
perm = np.random.RandomState(0).permutation(len(train))
df = df.iloc[train[perm[round(0.1 * len(perm)):]]]
sets = ElementEmbeddingFeaturizer("megnet16").fit_transform(df["composition"])
params = dict(max_epochs={epochs} + 1, batch_size=128, n_neurons=64,
    validation_fraction=None, n_ensemble=1, n_threads=1, random_state=0, device="cpu")
reg = AtomSetsRegressor(**{{**params, **{overrides!r}}})
hist = reg.fit(sets, df["target"].to_numpy()).history_[0]
print(json.dumps({{"code": {code!r}, "loaded": skatomsets.__file__,
    "s_per_epoch": float(np.median([r["dur"] for r in hist][1:])),
    "train_losses": [r["train_loss"] for r in hist]}}))
"""


def main() -> None:
    """Command-line entry point (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code", nargs="+", required=True, help="skatomsets source folders")
    p.add_argument("--data", type=Path, default=Path("../shared/data/matbench"))
    p.add_argument("--epochs", type=int, default=3, help="timed epochs (+1 untimed)")
    p.add_argument("--repeats", type=int, default=3, help="alternating rounds")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="estimator parameter override, VALUE a Python literal (repeatable)",
    )
    args = p.parse_args()
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            p.error(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key] = ast.literal_eval(value)
    data = str((args.data / "matbench_mp_e_form.csv.gz").resolve())
    for _ in range(args.repeats):
        for code in args.code:
            src = CHILD.format(
                code=str(Path(code).resolve()), data=data, epochs=args.epochs, overrides=overrides
            )
            out = subprocess.run(
                [sys.executable, "-c", src], capture_output=True, text=True, check=True
            )
            print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
