"""Training-speed benchmark: ours vs the authors' maml AtomSets vs bare torch vs the machine.

Prints, in one run (every figure a median over ``--repeats`` alternating rounds, with the
load average next to it, because a shared machine's speed drifts):

1. seconds per epoch (training pass only) at batch ``--batch-size`` on the
   ``matbench_mp_e_form`` fold-0 training compositions that maml's peer script trains on
   (95,581 rows: fold 0's training rows minus its 10 % validation split), V0 features, mean
   readout (pinned: ``readout="auto"`` picks set2set from 50,000 rows), 64 neurons,
   ``--threads`` torch / TensorFlow threads:

   * ours: ``AtomSetsRegressor.fit`` (the lean training epoch, ``estimators/_fastloop.py``),
     with its default ``n_threads="auto"`` among the ``--threads`` torch threads (one
     thread for 64-neuron layers, which gain nothing from a second; ``--ours-threads N``
     forces N);
   * maml: ``../shared/peer/peer_maml_atomsets.py`` in its own venv (``--peer-python``);
     skipped when that interpreter is missing;
   * bare torch: the same module's forward + backward + fused Adam step over pre-built
     batches (no data handling, no training loop; the same batches, with the distinct
     member rows of ``estimators/_data.py``, and denormals flushed as in ``fit``), on the
     threads our estimator used (on a busy machine 2 torch threads make it 10-30x slower);
   * machine limit: the epoch's arithmetic (counted analytically: the dense layers'
     forward and backward matrix products) at the machine's own float32 matmul rate,
     measured in the same run on large square matrices with the same threads.

   and the three ratios: maml / ours (the peer ratio), ours / bare torch, and our FLOP rate
   as a fraction of the matmul rate;

   then the equal-work comparison of issue 32 (``--ensemble 5``, the default; 0 skips it):
   (a) ours, ``AtomSetsRegressor(n_ensemble=5)`` (the members trained together as one
   stacked network, ``estimators/_ensemble.py``), seconds per ensemble epoch with the same
   options as the single network (no validation split, so no early stopping); (b) maml,
   5 x its seconds per epoch of one network (the same maml run as above: maml trains one
   network per fit); (c) ours, one network; (d) maml, one network; and the ratios (b)/(a)
   (target >= 10x) and (d)/(c) (the single-network peer ratio). Rounds alternate the order
   of the two sides (ours first in odd rounds, maml first in even ones);
2. (``--small``) the small-data regime of the README quickstart: AtomSets-V0 on the 249
   training rows of matbench_steels fold 0 with the auto defaults' batch 16, one thread:
   seconds per epoch and milliseconds per optimizer step, ours vs the bare torch loop.

Usage::

    python scripts/bench_training.py --data ../shared/data/matbench --threads 2 \\
        --peer-python ../peer-venv/bin/python --repeats 2 --small
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer, RaggedSets
from skatomsets.benchmarks.timing import bare_epoch_seconds, cpu_model
from skatomsets.datasets import load_matbench_csv
from skatomsets.estimators._auto import denormals_flushed, torch_threads
from skatomsets.estimators._data import TensorData
from skatomsets.nn import AtomSetsModule

PEER_SCRIPT = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "peer" / "peer_maml_atomsets.py"
)


def load() -> str:
    """The 1-minute load average, for printing next to a figure."""
    return f"{os.getloadavg()[0]:.1f}"


def peer_rows(df, fold: int = 0, val_frac: float = 0.1, seed: int = 0) -> np.ndarray:
    """Row positions maml's peer script trains on (its own split, same seed)."""
    train = np.flatnonzero(df["test_fold"].to_numpy() != fold)
    perm = np.random.RandomState(seed).permutation(len(train))
    n_val = round(val_frac * len(perm))
    return train[perm[n_val:]]


def epoch_flops(sets: RaggedSets, n_neurons: int = 64) -> float:
    """Floating-point operations of one training epoch of AtomSets-V0 (dense layers only).

    Forward: 2 m (d h + h h) for phi on ``m`` members, 2 n (h h + h h + h) for rho and the
    output on ``n`` sets; backward: the weight gradients of every layer (same count as the
    forward) and the input gradients of every layer but the first. Element-wise work
    (softplus, readout, batch norm, Adam) is left out; it is small next to the products.
    """
    m, n, d, h = sets.n_members, len(sets), sets.n_features, n_neurons
    phi = 2 * m * (d * h + h * h)
    rho = 2 * n * (h * h + h * h + h)
    forward = phi + rho
    backward = 2 * forward - 2 * m * d * h
    return float(forward + backward)


def matmul_rate(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """Float32 matmul rate of this machine (FLOP/s) with ``threads`` torch threads."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)
    best = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best.append(time.perf_counter() - t0)
    return 2 * size**3 / float(np.median(best))


def bare_loop_seconds(sets: RaggedSets, y: np.ndarray, batch_size: int, epochs: int) -> float:
    """Seconds per epoch of forward + backward + Adam on pre-built batches (no data handling)."""
    torch.manual_seed(0)
    module = AtomSetsModule(sets.n_features, 1, 2, 2, 64, "mean", "softplus")
    opt = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)  # as the estimator
    loss_fn = torch.nn.L1Loss()  # the estimators' default loss (MAE)
    data = TensorData(sets, ((y - y.mean()) / y.std()).astype(np.float32)[:, None])
    batches = list(data.batches(batch_size, rng=np.random.default_rng(0)))
    with denormals_flushed():  # as the estimators' fit
        return bare_epoch_seconds(module, opt, loss_fn, batches, epochs, warmup=1)


def ours_seconds(
    sets: RaggedSets,
    y: np.ndarray,
    batch_size: int,
    epochs: int,
    threads: int | str,
    n_ensemble: int = 1,
) -> tuple[float, int, int]:
    """Seconds per training epoch of ``AtomSetsRegressor.fit`` (first epoch excluded).

    ``threads="auto"`` is the estimator's default choice among torch's threads (one for
    64-neuron layers). With ``n_ensemble > 1`` the members train together (one stacked
    network) and an epoch is every member's epoch. Returns the seconds, the steps per epoch
    and the threads used.
    """
    reg = AtomSetsRegressor(
        max_epochs=epochs + 1,
        batch_size=batch_size,
        n_neurons=64,  # "auto" would pick 256 above 50,000 rows; the comparison is at 64
        readout="mean",  # "auto" picks set2set from 50,000 rows; maml's V0 is the mean
        validation_fraction=None,  # no split, hence no early stopping: training epochs only
        n_ensemble=n_ensemble,
        n_threads=threads,
        random_state=0,
        device="cpu",
    )
    reg.fit(sets, y)
    hist = reg.history_[0]
    seconds = float(np.median([row["dur"] for row in hist][1:]))
    return seconds, int(hist[-1]["train_batch_count"]), int(reg.n_threads_)


def peer_seconds(
    python: str, data: Path, batch_size: int, epochs: int, threads: int
) -> float | None:
    """maml's seconds per training epoch (its own venv, TF_USE_LEGACY_KERAS=1)."""
    cmd = [
        python,
        str(PEER_SCRIPT.resolve()),
        "--task=matbench_mp_e_form",
        "--fold=0",
        f"--epochs={epochs + 1}",
        "--val-frac=0.1",
        "--patience=0",
        f"--batch-size={batch_size}",
        f"--intra-threads={threads}",
        f"--inter-threads={threads}",
        f"--data-dir={data.resolve()}",
    ]
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(f"   maml run failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds_per_epoch_train_only"])


def small_data(data: Path, epochs: int, repeats: int) -> None:
    """The README quickstart's regime: steels fold-0 training rows, batch 16, one thread."""
    df = load_matbench_csv(data / "matbench_steels.csv.gz")
    df = df[df["test_fold"] != 0]
    sets = ElementEmbeddingFeaturizer("megnet16").fit_transform(df["composition"])
    y = df["target"].to_numpy()
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    ours, bare = [], []
    try:
        for r in range(repeats):
            reg = AtomSetsRegressor(random_state=0, n_ensemble=1, max_epochs=epochs, patience=None)
            t0 = time.perf_counter()
            reg.fit(sets, y)
            fit_s = time.perf_counter() - t0
            hist = reg.history_[0]
            steps = int(hist[-1]["train_batch_count"])
            ep = float(np.median([row["dur"] for row in hist][1:]))
            ours.append((ep, steps))
            tr = np.sort(np.random.default_rng(0).permutation(len(sets))[: steps * 16])
            b = bare_loop_seconds(sets[tr], y[tr], reg.batch_size_, min(epochs, 50))
            bare.append((b, -(-len(tr) // reg.batch_size_)))
            print(
                f"   round {r + 1}: ours {ep * 1e3:6.1f} ms/epoch ({steps} steps + validation; "
                f"fit {fit_s:.1f} s for {epochs} epochs), bare torch {b * 1e3:6.1f} ms/epoch, "
                f"load {load()}",
                flush=True,
            )
    finally:
        torch.set_num_threads(saved)
    ep, steps = np.median([o[0] for o in ours]), ours[0][1]
    b, bsteps = np.median([o[0] for o in bare]), bare[0][1]
    print(
        f"2. steels fold 0 ({len(sets)} rows, batch 16, 1 thread): ours {ep * 1e3:.1f} ms/epoch = "
        f"{ep / steps * 1e3:.2f} ms/step (epoch incl. validation), bare torch "
        f"{b / bsteps * 1e3:.2f} ms/step",
        flush=True,
    )


def equal_work(args, res: dict, med: dict, n_batches: int, n_rows: int) -> None:
    """Print the equal-work table of issue 32: our ensemble epoch against maml's networks."""
    e = args.ensemble

    def rounds(key: str, factor: float = 1.0) -> str:
        return ", ".join(f"{v * factor:.3f}" for v in res[key]) or "-"

    ens, maml, ours = med["ens"], med["maml"], med["ours"]
    rows = (
        (f"(a) ours, {e}-member ensemble (stacked), one epoch", ens, rounds("ens")),
        (f"(b) maml, {e} x one network's epoch", e * maml, rounds("maml", e)),
        ("(c) ours, one network, one epoch", ours, rounds("ours")),
        ("(d) maml, one network, one epoch", maml, rounds("maml")),
    )
    print(
        f"\n3. Equal work (issue 32): {e} network epochs over {n_rows} mp_e_form rows, batch "
        f"{args.batch_size} ({n_batches} steps per network epoch), {args.threads} threads "
        f"(ours: n_threads={args.ours_threads!r}), median of {args.repeats} rounds, CPU "
        f"{cpu_model()}, load average now {load()}\n"
        "| | s (median) | rounds |\n|---|---|---|\n"
        + "".join(f"| {name} | {s:.3f} | {r} |\n" for name, s, r in rows)
        + f"(b)/(a) = {e * maml / ens:.2f}x (target >= 10x); "
        f"(d)/(c) = {maml / ours:.2f}x (single network; earlier 2.1-2.9x); "
        f"our ensemble epoch / our single epoch = {ens / ours:.2f}",
        flush=True,
    )


def main() -> None:
    """Run the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/matbench", help="folder of MatBench CSVs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per run (+1 warm-up)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=2, help="alternating rounds (median taken)")
    p.add_argument("--peer-python", default="../peer-venv/bin/python")
    p.add_argument("--small", action="store_true", help="also the steels batch-16 regime")
    p.add_argument("--small-epochs", type=int, default=100)
    p.add_argument("--skip-large", action="store_true")
    p.add_argument(
        "--ensemble",
        type=int,
        default=5,
        help="members of our ensemble for the equal-work comparison (0: skip it)",
    )
    p.add_argument(
        "--ours-threads",
        default="auto",
        type=lambda s: s if s == "auto" else int(s),
        help="n_threads of our estimator: 'auto' (its default choice among --threads) or N",
    )
    args = p.parse_args()
    data = Path(args.data)
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"device cpu, {args.epochs} timed epochs per run, {args.repeats} alternating rounds, "
        f"load average {load()}\nCPU (lscpu model name): {cpu_model()}",
        flush=True,
    )
    if not args.skip_large:
        df = load_matbench_csv(data / "matbench_mp_e_form.csv.gz")
        rows = peer_rows(df)
        df = df.iloc[rows]
        sets = ElementEmbeddingFeaturizer("megnet16").fit_transform(df["composition"])
        y = df["target"].to_numpy()
        flops = epoch_flops(sets)
        print(
            f"mp_e_form fold-0 training rows (maml's split): {len(sets)} sets, "
            f"{sets.n_members} members; one epoch = {flops / 1e9:.1f} GFLOP (dense layers)",
            flush=True,
        )
        peer_ok = Path(args.peer_python).exists() and PEER_SCRIPT.exists()
        res: dict[str, list[float]] = {"ours": [], "maml": [], "bare": [], "mm": [], "ens": []}
        for r in range(args.repeats):

            def run_ours(r: int = r) -> tuple[int, int]:
                if args.ensemble > 0:
                    ens, _, ens_threads = ours_seconds(
                        sets, y, args.batch_size, args.epochs, args.ours_threads, args.ensemble
                    )
                    res["ens"].append(ens)
                    print(
                        f"   round {r + 1}: ours {args.ensemble}-member ensemble {ens:.3f} "
                        f"s/epoch ({ens_threads} thread(s)), load {load()}",
                        flush=True,
                    )
                ours, n_batches, ours_threads = ours_seconds(
                    sets, y, args.batch_size, args.epochs, args.ours_threads
                )
                res["ours"].append(ours)
                print(f"   round {r + 1}: ours {ours:.3f} s/epoch, load {load()}", flush=True)
                return n_batches, ours_threads

            def run_peer(r: int = r) -> None:
                if not peer_ok:
                    return
                peer = peer_seconds(
                    args.peer_python, data, args.batch_size, args.epochs, args.threads
                )
                if peer is not None:
                    res["maml"].append(peer)
                    print(f"   round {r + 1}: maml {peer:.3f} s/epoch, load {load()}", flush=True)

            if r % 2 == 0:  # alternate which side runs first
                n_batches, ours_threads = run_ours()
                run_peer()
            else:
                run_peer()
                n_batches, ours_threads = run_ours()
            with torch_threads(ours_threads):  # the bare loop on our estimator's threads
                bare = bare_loop_seconds(sets, y, args.batch_size, args.epochs)
            res["bare"].append(bare)
            res["mm"].append(matmul_rate(args.threads))
            print(
                f"   round {r + 1}: bare torch {bare:.3f} s/epoch, matmul "
                f"{res['mm'][-1] / 1e9:.0f} GFLOP/s, load {load()}",
                flush=True,
            )
        med = {k: float(np.median(v)) if v else float("nan") for k, v in res.items()}
        limit = flops / med["mm"]
        print(
            f"\n1. AtomSets-V0 on {len(sets)} mp_e_form rows, batch {args.batch_size} "
            f"({n_batches} steps/epoch), {args.threads} threads, median of {args.repeats} "
            f"rounds, load average now {load()}\n"
            f"| | s/epoch | ms/step | GFLOP/s |\n|---|---|---|---|\n"
            + "".join(
                f"| {name} | {s:.3f} | {s / n_batches * 1e3:.2f} | {flops / s / 1e9:.1f} |\n"
                for name, s in (
                    (f"ours (AtomSetsRegressor, {ours_threads} thread(s))", med["ours"]),
                    ("maml AtomSets (TF/Keras)", med["maml"]),
                    ("bare eager torch loop", med["bare"]),
                    ("machine limit (matmul rate)", limit),
                )
            )
            + f"peer ratio maml / ours = {med['maml'] / med['ours']:.2f}x; "
            f"ours / bare torch = {med['ours'] / med['bare']:.2f}; "
            f"FLOP rate ours / matmul = {limit / med['ours']:.3f} "
            f"({flops / med['ours'] / 1e9:.1f} of {med['mm'] / 1e9:.0f} GFLOP/s)",
            flush=True,
        )
        if args.ensemble > 0:
            equal_work(args, res, med, n_batches, len(sets))
    if args.small:
        small_data(data, args.small_epochs, args.repeats)


if __name__ == "__main__":
    main()
