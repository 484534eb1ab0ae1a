"""Benchmark the structural AtomSets models on real crystal-structure sets (5-fold CV).

A command line over :mod:`skatomsets.benchmarks.structures` (protocol: featurize once, nested
selection among candidates on each fold's training rows, refit, score the test fold; tasks,
budgets and candidates in :mod:`skatomsets.benchmarks.config`). One record per
model/task/fold in ``OUT/folds`` (resumable); at the end ``summary.json``, ``table.md`` and a
parity plot of the perovskites AtomSets-V1 test predictions are written into ``OUT``.

==================  =======================================  ==========================
task                file / target                             models
==================  =======================================  ==========================
perovskites         matbench_perovskites_partial / e_form     atomsets-v0, atomsets-v1,
                    (eV/cell, the file's MatBench folds)      mlp-f
elastic_log10_K     elastic_tensor_2015 / log10_K_VRH         atomsets-v0, atomsets-v1
elastic_log10_G     elastic_tensor_2015 / log10_G_VRH         atomsets-v0, atomsets-v1
dielectric_n        dielectric_constant / n                   atomsets-v0, atomsets-v1
==================  =======================================  ==========================

Usage::

    nohup python scripts/bench_structures.py --out docs/results/structures \\
        > bench_structures.log 2>&1 &
    python scripts/bench_structures.py --out OUT --tasks perovskites --models atomsets-v1 --folds 0
    python scripts/bench_structures.py --out docs/results/structures --report-only

Options: ``--out`` (required: the results folder), ``--data`` (folder with the structure
files; default ``../shared/data/structures`` or ``$SKATOMSETS_SHARED_DATA/structures``),
``--tasks``, ``--models``, ``--folds``, ``--threads`` (torch intra-op threads, default 1),
``--seed`` (network and inner-split seed), ``--max-epochs`` / ``--patience`` /
``--n-ensemble`` (override the per-task budgets), ``--no-select`` (use the first candidate
only), ``--report-only``.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from pathlib import Path

from skatomsets.benchmarks.config import STRUCTURE_TASKS
from skatomsets.benchmarks.structures import report_structures, run_structure_task

ROOT = Path(__file__).resolve().parents[1]
_SHARED = Path(os.environ.get("SKATOMSETS_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_DATA = _SHARED / "structures"


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="structure data folder")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--tasks", nargs="+", choices=list(STRUCTURE_TASKS), default=None)
    parser.add_argument("--models", nargs="+", default=None, help="subset of each task's models")
    parser.add_argument("--folds", nargs="+", type=int, default=None, help="subset of folds")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=0, help="network / inner-split seed")
    parser.add_argument("--max-epochs", type=int, default=None, help="override the budget")
    parser.add_argument("--patience", type=int, default=None, help="override the budget")
    parser.add_argument("--n-ensemble", type=int, default=None, help="override the budget")
    parser.add_argument("--no-select", action="store_true", help="first candidate only")
    parser.add_argument("--report-only", action="store_true", help="only aggregate results")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if not args.report_only:
        budget = {
            k: getattr(args, k)
            for k in ("max_epochs", "patience", "n_ensemble")
            if getattr(args, k) is not None
        }
        for task in args.tasks or list(STRUCTURE_TASKS):
            run_structure_task(
                task,
                args.data,
                args.out,
                models=args.models,
                folds=args.folds,
                seed=args.seed,
                threads=args.threads,
                budget=budget,
                select_candidates=not args.no_select,
                log=functools.partial(print, flush=True),
            )
    summary = report_structures(args.out)
    for task, models in summary.items():
        for model, e in models.items():
            print(f"{task:18s} {model:12s} MAE {e['mean']:.4f} ± {e['std']:.4f}")
    print(f"total wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
