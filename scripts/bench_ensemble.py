"""Default-fit time of this tree against another code version, side by side in one run.

Times, in fresh subprocesses that alternate between the two code versions (``--base``: a
checkout of the reference, e.g. ``git worktree add /tmp/base a05d27f``; this tree is the
other side), round after round:

* ``fit``: the default ``AtomSetsRegressor(random_state=0)`` fitted on the first N rows
  (fixed-seed shuffle) of a MatBench task featurized with
  ``ElementEmbeddingFeaturizer("megnet16")``; only the ``fit`` call is timed (wall and
  process CPU time inside the child). Sizes from ``--cap-from`` rows up run with
  ``max_epochs=--cap`` and ``patience=None`` on both sides: the same number of epochs and
  networks for both (equal work), so the figure is time per epoch times a fixed count;
* ``cli``: ``python -m skatomsets train matbench_steels`` (the README's main job), wall
  time and the CPU time of the whole process tree (``RUSAGE_CHILDREN``).

Prints one line per run and a table of medians with the ratio reference / ours. Wall
times on a shared machine are noisy; compare the CPU columns too.

Examples
--------
python scripts/bench_ensemble.py --base /tmp/base --sizes 300 1000 4000 10000 --rounds 2
python scripts/bench_ensemble.py --base /tmp/base --cli --rounds 1 --sizes
python scripts/bench_ensemble.py --base /tmp/base --sizes 4000 10000 --cap 25 --cap-low 5 --big
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np
import torch
from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_matbench
task, n, cap, data_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
df = load_matbench(task, data_dir=data_dir or None, download=False)
idx = np.random.default_rng(0).permutation(len(df))[:n]
X = ElementEmbeddingFeaturizer("megnet16").fit_transform(df.composition.iloc[idx].tolist())
y = df.target.to_numpy()[idx]
kw = dict(random_state=0)
if cap:
    kw.update(max_epochs=cap, patience=None)
kw.update(extra)
reg = AtomSetsRegressor(**kw)
t0, c0 = time.perf_counter(), time.process_time()
reg.fit(X, y)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print("RESULT " + json.dumps({
    "wall": wall, "cpu": cpu, "epochs": [len(h) for h in reg.history_],
    "n_ensemble": len(reg.nets_), "batch_size": reg.batch_size_,
    "code": __import__("skatomsets").__file__,
}))
"""


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_fit(root: Path, task: str, n: int, cap: int, data_dir: str, extra=None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, task, str(n), str(cap), data_dir, json.dumps(extra or {})],
        env=_env(root),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def run_cli(root: Path, extra: list[str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-m", "skatomsets", "train", "matbench_steels", *extra],
            env=_env(root),
            cwd=tmp,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [x for x in out.splitlines() if "MAE" in x]
    return {"wall": wall, "cpu": cpu, "printed": lines[-1] if lines else out[-200:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, type=Path, help="checkout of the reference")
    ap.add_argument("--ours", type=Path, default=HERE, help="checkout of ours (this tree)")
    ap.add_argument("--task", default="matbench_log_gvrh")
    ap.add_argument("--data-dir", default=str(HERE.parent / "shared" / "data" / "matbench"))
    ap.add_argument("--sizes", type=int, nargs="*", default=[300, 1000, 4000, 10000])
    ap.add_argument("--cap", type=int, default=30, help="max_epochs from --cap-from rows")
    ap.add_argument("--cap-from", type=int, default=4000)
    ap.add_argument(
        "--cap-low",
        type=int,
        default=0,
        help="also fit capped sizes with this many epochs and report the time per epoch "
        "from the difference (the per-fit costs cancel)",
    )
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cli", action="store_true", help="also time skatomsets train steels")
    ap.add_argument("--cli-args", nargs="*", default=[])
    ap.add_argument(
        "--big",
        action="store_true",
        help="also time 2 epochs of a 5-network ensemble on 95,581 mp_e_form rows, batch 128",
    )
    args = ap.parse_args()
    sides = {"reference": args.base.resolve(), "ours": args.ours.resolve()}
    results: dict[tuple[str, str], list[dict]] = {}
    for rnd in range(args.rounds):
        for n in args.sizes:
            cap = args.cap if n >= args.cap_from else 0
            order = list(sides.items()) if rnd % 2 == 0 else list(sides.items())[::-1]
            for name, root in order:
                r = run_fit(root, args.task, n, cap, args.data_dir)
                work = f"fit {n}" + (f" ({cap} ep)" if cap else "")
                if cap and args.cap_low:  # per epoch, the fixed per-fit costs cancelled
                    low = run_fit(root, args.task, n, args.cap_low, args.data_dir)
                    r = {
                        **r,
                        "wall": (r["wall"] - low["wall"]) / (cap - args.cap_low),
                        "cpu": (r["cpu"] - low["cpu"]) / (cap - args.cap_low),
                    }
                    work = f"fit {n}: one epoch ({cap} - {args.cap_low} epochs)"
                results.setdefault((work, name), []).append(r)
                load = os.getloadavg()[0]
                print(
                    f"round {rnd} fit n={n} {name}: wall {r['wall']:.1f} s, cpu {r['cpu']:.1f} s, "
                    f"epochs {r['epochs']}, load {load:.1f}",
                    flush=True,
                )
        if args.big:  # the maml peer's workload: 95,581 rows (fold 0), batch 128, 64 neurons
            big = {"n_ensemble": 5, "batch_size": 128, "n_neurons": 64, "readout": "mean",
                   "validation_fraction": None, "n_threads": 1, "lr": 1e-3}  # fmt: skip
            order = list(sides.items()) if rnd % 2 == 0 else list(sides.items())[::-1]
            for name, root in order:  # per epoch: 3 epochs - 1 epoch (per-fit costs cancel)
                r = run_fit(root, "matbench_mp_e_form", 95581, 3, args.data_dir, big)
                low = run_fit(root, "matbench_mp_e_form", 95581, 1, args.data_dir, big)
                r = {**r, "wall": (r["wall"] - low["wall"]) / 2, "cpu": (r["cpu"] - low["cpu"]) / 2}
                work = "5-network epoch, 95,581 mp_e_form rows, batch 128 (3 - 1 epochs)"
                results.setdefault((work, name), []).append(r)
                print(f"round {rnd} big {name}: {r['wall']:.2f} s/epoch wall, "
                      f"{r['cpu']:.2f} s/epoch cpu", flush=True)  # fmt: skip
        if args.cli:
            order = list(sides.items()) if rnd % 2 == 0 else list(sides.items())[::-1]
            for name, root in order:
                r = run_cli(root, args.cli_args)
                results.setdefault(("skatomsets train matbench_steels", name), []).append(r)
                load = os.getloadavg()[0]
                print(
                    f"round {rnd} cli {name}: wall {r['wall']:.1f} s, cpu {r['cpu']:.1f} s, "
                    f"load {load:.1f}; {r['printed']}",
                    flush=True,
                )
    print()
    print(
        "| workload | reference wall s | ours wall s | wall ratio "
        "| reference CPU s | ours CPU s | CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for work in dict.fromkeys(k[0] for k in results):
        ref, ours = results[(work, "reference")], results[(work, "ours")]
        rw, ow = (statistics.median(r["wall"] for r in x) for x in (ref, ours))
        rc, oc = (statistics.median(r["cpu"] for r in x) for x in (ref, ours))
        print(
            f"| {work} | {rw:.2f} | {ow:.2f} | {rw / ow:.2f}x "
            f"| {rc:.2f} | {oc:.2f} | {rc / oc:.2f}x |"
        )


if __name__ == "__main__":
    main()
