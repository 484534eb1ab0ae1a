"""Paired fold scores of the default atomsets-v0 under two code versions (issue 32).

Run it once per code version, with that version first on the path, then pair the records:

    git worktree add /tmp/base a05d27f          # the code before the stacked ensembles
    PYTHONPATH=/tmp/base python scripts/bench_ensemble_accuracy.py run old \\
        matbench_steels:0,1,2,3,4 matbench_jdft2d:0,1,2,3,4 --data-dir ../shared/data/matbench
    python scripts/bench_ensemble_accuracy.py run new matbench_steels:0,1,2,3,4 ...
    python scripts/bench_ensemble_accuracy.py pair old new

Records: one JSON line per fold in ``--out/<tag>.jsonl`` (MAE, wall and CPU seconds, best
epochs, the code's path). ``pair`` prints, per task, both means, the mean and std of the
paired differences and the old fold std.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np


def run(tag: str, specs: list[str], data_dir: str, out: Path) -> None:
    import skatomsets
    from skatomsets.datasets import load_matbench
    from skatomsets.models import make_model

    out.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        task, folds = spec.split(":")
        df = load_matbench(task, data_dir=data_dir, download=False)
        for fold in [int(f) for f in folds.split(",")]:
            train, test = df[df.test_fold != fold], df[df.test_fold == fold]
            t0, c0 = time.time(), time.process_time()
            model = make_model("atomsets-v0", random_state=0)
            model.fit(train["composition"].tolist(), train["target"].to_numpy())
            pred = model.predict(test["composition"].tolist())
            mae = float(np.mean(np.abs(pred - test["target"].to_numpy())))
            est = model[-1]
            rec = {
                "tag": tag, "task": task, "fold": fold, "mae": mae,
                "wall": time.time() - t0, "cpu": time.process_time() - c0,
                "best_epochs": est.best_epochs_, "n_ensemble": len(est.nets_),
                "code": skatomsets.__file__,
            }  # fmt: skip
            with open(out / f"{tag}.jsonl", "a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(rec, flush=True)


def pair(old: str, new: list[str], out: Path) -> None:
    def read(tag: str) -> dict:
        recs = {}
        for line in (out / f"{tag}.jsonl").read_text().splitlines():
            r = json.loads(line)
            recs[(r["task"], r["fold"])] = r
        return recs

    a = read(old)
    b: dict = {}
    for tag in new:  # later files win (re-runs)
        b.update(read(tag))
    by_task = defaultdict(list)
    for key in sorted(a.keys() & b.keys()):
        by_task[key[0]].append((a[key], b[key]))
    print("| task | folds | mean MAE old -> new | mean diff | std of diffs | old fold std |")
    print("|---|---|---|---|---|---|")
    for task, pairs in by_task.items():
        x = np.array([p[0]["mae"] for p in pairs])
        y = np.array([p[1]["mae"] for p in pairs])
        d = y - x
        print(
            f"| {task} | {len(pairs)} | {x.mean():.4g} -> {y.mean():.4g} | {d.mean():+.3g} "
            f"| {d.std():.3g} | {x.std():.3g} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("tag")
    r.add_argument("specs", nargs="+", help="task:fold,fold,...")
    r.add_argument("--data-dir", default="../shared/data/matbench")
    r.add_argument("--out", default="docs/results/ensemble_accuracy")
    p = sub.add_parser("pair")
    p.add_argument("old")
    p.add_argument("new", nargs="+")
    p.add_argument("--out", default="docs/results/ensemble_accuracy")
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.tag, args.specs, args.data_dir, Path(args.out))
    else:
        pair(args.old, args.new, Path(args.out))


if __name__ == "__main__":
    main()
