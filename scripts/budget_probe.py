"""One MatBench fold of a ready model with a longer training budget: does more training help?

Fits ``make_model(model, random_state=0, **overrides)`` on the official fold's training
rows (compositions) and prints one JSON line: the test MAE, the fit time, the epochs run
and the resolved budget. Used for the issue-12 question on ``matbench_mp_gap`` (the
defaults' 60 epochs against the paper's 1000 / patience 200)::

    python scripts/budget_probe.py --task matbench_mp_gap --fold 0 \\
        --set max_epochs=1000 --set patience=200

``--set`` values are JSON where they parse (numbers, true, null), else strings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from skatomsets.datasets import load_matbench_csv
from skatomsets.models import make_model


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/matbench", help="folder of MatBench CSVs")
    p.add_argument("--task", default="matbench_mp_gap")
    p.add_argument("--model", default="atomsets-v0")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--verbose", type=int, default=1, help="1: a line per epoch")
    args = p.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            p.error(f"--set takes NAME=VALUE, got {item!r}")
        overrides[name] = _value(value)
    df = load_matbench_csv(Path(args.data) / f"{args.task}.csv.gz")
    train, test = df[df.test_fold != args.fold], df[df.test_fold == args.fold]
    pipe = make_model(args.model, random_state=0, verbose=args.verbose, **overrides)
    start = time.perf_counter()
    pipe.fit(train["composition"].to_numpy(), train["target"].to_numpy())
    seconds = time.perf_counter() - start
    pred = pipe.predict(test["composition"].to_numpy())
    est = pipe[-1]
    budget = {
        k: getattr(est, f"{k}_")
        for k in ("max_epochs", "patience", "batch_size", "lr", "lr_schedule", "n_neurons")
        if hasattr(est, f"{k}_")
    }
    print(
        json.dumps(
            {
                "task": args.task,
                "model": args.model,
                "fold": args.fold,
                "overrides": overrides,
                "test_mae": float(np.mean(np.abs(pred - test["target"].to_numpy()))),
                "fit_seconds": round(seconds, 1),
                "epochs_run": [len(net.history) for net in est.nets_],
                "n_threads": est.n_threads_,
                **budget,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
