"""Parent networks side by side on the real structure sets: each parent's levels.

A command line over :mod:`skatomsets.benchmarks.parents` (5-fold CV with the package's
default estimator, only the per-site or structure features change; tasks and models in
:mod:`skatomsets.benchmarks.config`). One record per task/model/fold in ``--out``
(resumable); ``--report`` only prints the Markdown table.

Usage::

    python scripts/bench_parents.py --out results/parents --cache results/feature_cache \\
        --tasks dielectric_n --models atomsets-chgnet-v3 atomsets-v1
    python scripts/bench_parents.py --out docs/results/parents --report \\
        --plot docs/results/parents.png
"""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path

from skatomsets.benchmarks.config import PARENT_MODELS, PARENT_TASKS
from skatomsets.benchmarks.parents import report_parents, run_parent_task

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SKATOMSETS_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(PARENT_TASKS), default=None)
    parser.add_argument("--models", nargs="+", choices=PARENT_MODELS, default=None)
    parser.add_argument("--folds", nargs="+", type=int, default=None)
    parser.add_argument("--data", type=Path, default=DATA / "structures", help="structure folder")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument(
        "--cache", default=True, help="on-disk feature cache folder (default: in memory only)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--report", action="store_true", help="only print the table")
    parser.add_argument("--plot", type=Path, default=None, help="PNG bar plot to (re)write")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if not args.report:
        for task in args.tasks or list(PARENT_TASKS):
            run_parent_task(
                task,
                args.models or list(PARENT_MODELS),
                args.data,
                args.out,
                folds=args.folds,
                cache=args.cache,
                log=functools.partial(print, flush=True),
            )
    print(report_parents(args.out, args.plot))


if __name__ == "__main__":
    main()
