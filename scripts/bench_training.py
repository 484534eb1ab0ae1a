"""Training-speed benchmark: estimator epochs vs the bare torch math, on MatBench-size data.

Prints, in one run:

1. seconds per epoch of ``AtomSetsRegressor`` (V0 = megnet16, mean readout, 64 neurons) on
   all 132,752 matbench_mp_e_form compositions, at batch sizes 128 and 1024;
2. seconds per epoch of AtomSets-V1 on synthetic feature sets of Materials Project size
   (132,752 materials, 30 sites each on average, 32 features), batch size 128;
3. for 1 and 2, the time of the same model's forward + backward + optimiser step alone (a
   bare torch loop over pre-built batches) and the ratio estimator / bare loop, so that
   the overhead of data handling, collation and the training loop is visible.

Featurization throughput of V1..V3 + f is measured by ``scripts/bench_megnet_featurize.py``.

Usage::

    python scripts/bench_training.py --data ../shared/data/matbench [--threads 2] [--epochs 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer, RaggedSets
from skatomsets.datasets import load_matbench_csv
from skatomsets.estimators._data import TensorData
from skatomsets.nn import AtomSetsModule


def bare_loop_seconds(sets: RaggedSets, y: np.ndarray, batch_size: int, epochs: int) -> float:
    """Seconds per epoch of forward + backward + Adam on pre-built batches (no data handling)."""
    torch.manual_seed(0)
    module = AtomSetsModule(sets.n_features, 1, 2, 2, 64, "mean", "softplus")
    opt = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)  # as the estimator
    loss_fn = torch.nn.MSELoss()
    data = TensorData(sets, ((y - y.mean()) / y.std()).astype(np.float32)[:, None])
    batches = list(data.batches(batch_size, rng=np.random.default_rng(0)))
    module.train()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for xb, yb in batches:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(module(xb), yb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def estimator_seconds(sets: RaggedSets, y: np.ndarray, batch_size: int, epochs: int) -> float:
    """Seconds per epoch of ``AtomSetsRegressor.fit`` (median over epochs, first one excluded)."""
    reg = AtomSetsRegressor(
        max_epochs=epochs + 1,
        batch_size=batch_size,
        validation_fraction=None,
        random_state=0,
        device="cpu",
    )
    reg.fit(sets, y)
    durations = [row["dur"] for row in reg.history_[0]][1:]
    return float(np.median(durations))


def synthetic_sets(n: int, mean_sites: int, n_features: int, seed: int = 0) -> RaggedSets:
    """Random per-site feature sets of Materials Project size."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.poisson(mean_sites, n), 1, None)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    values = rng.standard_normal((int(offsets[-1]), n_features), dtype=np.float32)
    return RaggedSets(values, offsets)


def report(name: str, est: float, bare: float) -> None:
    """Print one line of results."""
    print(
        f"{name:<48s} estimator {est:7.3f} s/epoch   bare torch {bare:7.3f} s/epoch   "
        f"ratio {est / bare:5.2f}",
        flush=True,
    )


def main() -> None:
    """Run the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/matbench", help="folder of MatBench CSVs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--skip-synthetic", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"device cpu, {args.epochs} timed epochs each"
    )

    df = load_matbench_csv(Path(args.data) / "matbench_mp_e_form.csv.gz")
    t0 = time.perf_counter()
    sets = ElementEmbeddingFeaturizer().fit_transform(df["composition"])
    print(
        f"featurized {len(df)} compositions (V0) in {time.perf_counter() - t0:.1f} s; "
        f"{sets.n_members} element members"
    )
    y = df["target"].to_numpy()
    for bs in (1024, 128):
        report(
            f"1. AtomSets-V0 mp_e_form ({len(df)}), batch {bs}",
            estimator_seconds(sets, y, bs, args.epochs),
            bare_loop_seconds(sets, y, bs, args.epochs),
        )
    if not args.skip_synthetic:
        syn = synthetic_sets(len(df), 30, 32)
        y_syn = np.random.default_rng(1).standard_normal(len(syn))
        report(
            f"2. AtomSets-V1 synthetic ({len(syn)} x ~30 sites x 32), batch 128",
            estimator_seconds(syn, y_syn, 128, args.epochs),
            bare_loop_seconds(syn, y_syn, 128, args.epochs),
        )


if __name__ == "__main__":
    main()
