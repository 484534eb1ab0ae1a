"""CHGNet featurization throughput: the package's featurizer vs CHGNet's own call, one run.

Loads structures (default: the dielectric set, ``../shared/data/structures``), then times, on
the same structures and alternating the two (``--repeats`` rounds, the median reported):

- **chgnet**: ``CHGNet.predict_structure(structures, task="e", return_atom_feas=True,
  batch_size=16)``, CHGNet's own way to get its atom features (torch's default threads);
- **ours**: ``CHGNetSiteFeaturizer(level=3, cache=False)`` (energy path only, no autograd,
  ``--batch-size`` structures per pass) in one process with the same threads;
- **ours, n_jobs**: the same with ``n_jobs=--jobs`` worker processes of one thread each.

Both give the same features (checked, to 1e-5). Prints structures/s and the ratios. With
``--memory N`` it also featurizes N structures (the set repeated) in a fresh process and
prints its peak resident memory (one process).

Usage::

    python scripts/bench_chgnet_featurize.py [--limit 400] [--jobs 2] [--memory 20000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from skatomsets.benchmarks.timing import (
    featurize_bench_parser,
    featurizer_runs,
    load_structures,
    print_throughput,
    time_alternating,
)


def _memory_child(path: str, n: int) -> None:
    from skatomsets.featurizers import CHGNetSiteFeaturizer

    base = load_structures(Path(path), None)
    structures = [base[i % len(base)].copy() for i in range(n)]
    for i, s in enumerate(structures):  # distinct content: nothing deduplicated
        s.perturb(1e-4 * (1 + i % 7), min_distance=0.0)
    t = time.perf_counter()
    sets = CHGNetSiteFeaturizer(level=3, cache=False).fit_transform(structures)
    dt = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"n": n, "sites": len(sets.values), "seconds": round(dt, 1), "peak_rss_mib": rss}
        )
    )


def main() -> None:
    parser = featurize_bench_parser(__doc__, __file__, limit=400, batch_size=32)
    parser.add_argument("--memory", type=int, default=0, help="peak-memory run on N structures")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(str(args.data), args.memory_child)
        return

    import torch

    from skatomsets.featurizers import CHGNetSiteFeaturizer
    from skatomsets.parents.chgnet import CHGNetParent, _pretrained

    structures = load_structures(args.data, args.limit)
    n = len(structures)
    model = _pretrained("0.3.0")
    print(f"{n} structures from {args.data.name}; torch threads {torch.get_num_threads()}")

    def chgnet() -> np.ndarray:
        out = model.predict_structure(structures, task="e", return_atom_feas=True, batch_size=16)
        return np.concatenate([p["atom_fea"] for p in out])

    def ours(jobs: int | None) -> CHGNetSiteFeaturizer:
        parent = CHGNetParent(model, batch_size=args.batch_size)
        return CHGNetSiteFeaturizer(parent=parent, level=3, cache=False, n_jobs=jobs)

    runs = {"chgnet predict_structure": chgnet, **featurizer_runs(ours, structures, args.jobs)}

    def agree(name: str, out: np.ndarray, ref: np.ndarray) -> None:
        if np.abs(out - ref).max() > 1e-5:
            raise SystemExit(f"{name}: features differ from CHGNet's by {np.abs(out - ref).max()}")

    times = time_alternating(runs, args.repeats, agree)
    print_throughput(times, n, "chgnet predict_structure", "chgnet", 28)
    if args.memory:
        cmd = [
            sys.executable,
            __file__,
            "--data",
            str(args.data),
            "--memory-child",
            str(args.memory),
        ]
        print(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())


if __name__ == "__main__":
    main()
