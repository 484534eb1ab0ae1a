"""Fit cost of the auto model against ``atomsets-v0`` at several data sizes, side by side.

For each MatBench task given, the rows of its official training fold 0 are fitted with
``make_model("atomsets-v0", random_state=0)`` and ``make_model("auto", random_state=0)``
(defaults only), each in a fresh subprocess on one torch thread, alternating; the child
times ``fit`` alone (wall and process CPU time). Prints one line per fit and a table with
the ratio auto / atomsets-v0, the CPU model and the load average.

Example
-------
python scripts/bench_auto_cost.py --tasks matbench_steels matbench_phonons matbench_expt_gap
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from skatomsets.benchmarks.timing import cpu_model

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from skatomsets.datasets import load_matbench
from skatomsets.models import make_model
task, name, data_dir = sys.argv[1], sys.argv[2], sys.argv[3]
df = load_matbench(task, data_dir=data_dir or None, download=False)
train = df[df.test_fold != 0]
model = make_model(name, random_state=0)
t0, c0 = time.perf_counter(), time.process_time()
model.fit(train.composition.to_numpy(), train.target.to_numpy())
print(json.dumps({"task": task, "model": name, "n": len(train),
                  "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="+", default=["matbench_steels", "matbench_phonons",
                                                     "matbench_expt_gap"])  # fmt: skip
    ap.add_argument("--data-dir", default=str(HERE.parent / "shared" / "data" / "matbench"))
    ap.add_argument("--models", nargs="+", default=["atomsets-v0", "auto"])
    args = ap.parse_args()
    rows = []
    for task in args.tasks:
        for name in args.models:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, task, name, args.data_dir],
                capture_output=True, text=True, check=True, env={**os.environ},
            )  # fmt: skip
            rec = json.loads(done.stdout.strip().splitlines()[-1])
            rec["load"] = os.getloadavg()[0]
            rows.append(rec)
            print(json.dumps(rec), flush=True)
    print(f"\nCPU: {cpu_model()}; one torch thread per fit; official training fold 0")
    print("| task | rows | model | fit wall s | fit CPU s | CPU vs atomsets-v0 | load |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        base = next(b for b in rows if b["task"] == r["task"] and b["model"] == args.models[0])
        print(
            f"| {r['task']} | {r['n']} | {r['model']} | {r['wall']:.1f} | {r['cpu']:.1f} | "
            f"{r['cpu'] / base['cpu']:.1f}x | {r['load']:.1f} |"
        )


if __name__ == "__main__":
    main()
