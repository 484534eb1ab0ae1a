"""Learning curves (paper Fig. 3): MEGNet from scratch / fine-tuned vs AtomSets-V1 / -V0.

A command line over :mod:`skatomsets.benchmarks.learning_curves`: every model on every
(training-set size, random draw) point, one record per point under ``--out`` (resumable);
after every point the Markdown table (``--table``) and the plot (``--plot``) are rewritten
from all the records under ``--out``.

Usage::

    python scripts/learning_curves.py --data ../shared/data/structures/elastic_tensor_2015.json.gz
        --target log10_G_VRH --name elastic --out results/learning_curves
        --models atomsets-v0,atomsets-v1 --draws 5 --sizes 100,200,400,600,1000,2000
        --table docs/results/learning_curves_table.md --plot docs/results/learning_curves.png
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from pathlib import Path

from skatomsets.benchmarks.config import CONVERGENCE_SIZES, LEARNING_CURVE_MODELS
from skatomsets.benchmarks.learning_curves import (
    BUDGET,
    curve_models,
    report_learning_curves,
    run_learning_curves,
)

MODELS = LEARNING_CURVE_MODELS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="gzipped JSON list of structure records")
    ap.add_argument("--target", default="e_form")
    ap.add_argument("--name", help="dataset label (default: file name stem)")
    ap.add_argument("--unit", default="", help="target unit, for the table and plot")
    ap.add_argument("--out", type=Path, required=True, help="folder of the point records")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--sizes", default=",".join(map(str, CONVERGENCE_SIZES)))
    ap.add_argument("--draws", type=int, default=5, help="random draws (test set + subsets)")
    ap.add_argument("--first-draw", type=int, default=0)
    ap.add_argument("--test-fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0, help="random_state of convergence_splits")
    for key, value in BUDGET.items():  # --validation-fraction, --atomsets-epochs, ...
        ap.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    ap.add_argument(
        "--megnet-min-steps",
        type=int,
        default=0,
        help="raise max_epochs of small training sets to at least this many "
        "optimiser steps (the training-set part after the validation split)",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--deadline", type=float, default=None, help="unix time after which no new point is started"
    )
    ap.add_argument("--table", type=Path, default=None, help="Markdown table to (re)write")
    ap.add_argument("--plot", type=Path, default=None, help="PNG plot to (re)write")
    ap.add_argument("--report-only", action="store_true", help="only rewrite table/plot")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        print(report_learning_curves(args.out, args.table, args.plot))
        return 0
    if args.data is None:
        raise SystemExit("--data is required")
    import torch

    torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    known = curve_models()
    for m in models:
        if m not in known:
            raise SystemExit(f"unknown model {m!r}; choose from {', '.join(known)}")
    run_learning_curves(
        args.data,
        args.target,
        args.out,
        name=args.name,
        unit=args.unit,
        models=models,
        sizes=[int(s) for s in args.sizes.split(",")],
        draws=args.draws,
        first_draw=args.first_draw,
        test_fraction=args.test_fraction,
        seed=args.seed,
        budget={key: getattr(args, key) for key in BUDGET},
        megnet_min_steps=args.megnet_min_steps,
        threads=args.threads,
        deadline=args.deadline,
        table=args.table,
        plot=args.plot,
        log=functools.partial(print, flush=True),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
