"""One prepared GPU check: the CUDA tests, then the GPU timings of issue 17.

Run on a machine with CUDA (about 5-8 minutes on one H200)::

    python scripts/gpu_check.py --data ../shared/data

It prints, each with its wall time:

1. ``pytest -m gpu tests/test_gpu.py`` (fit / predict on CUDA for the AtomSets regressor,
   classifier and the MLP, a CUDA-fitted model loaded and used in a CPU-only process,
   MEGNet features on CUDA vs CPU to 1e-5);
2. seconds per epoch of AtomSets-V0 (megnet16, mean readout, 64 neurons) on all 132,752
   matbench_mp_e_form compositions, at batch 128 and 1024;
3. seconds per epoch of AtomSets-V1 on **synthetic** site sets of the same size (132,752
   sets, ~30 sites of 32 features each, Poisson sizes): mp_e_form's structures are not
   available offline, so the shapes stand in for MEGNet V1 features;
4. MEGNet featurization throughput on CUDA (structures/s: graph building on the CPU plus
   the network on the GPU, V0..V3 + f) over the FLLA structure set, next to the CPU;
5. a ``GridSearchCV`` over a slice of the paper's grid (Table S2: ``n_neurons`` x
   ``readout``) for AtomSets-V0 on matbench_steels, every fit on the one GPU;
6. the default 5-network ``AtomSetsRegressor`` fit on matbench_steels fold 0 with the
   members trained together (``estimators._ensemble``) against one after another, on the
   device (wall time each, test MAE each).

``--device cpu --quick`` runs the same code on small sizes (a smoke test without a GPU).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def section(title: str) -> float:
    """Print a section title; return the start time."""
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def done(t0: float) -> None:
    """Print a section's wall time."""
    print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)


def epoch_seconds(sets, y, batch_size: int, epochs: int, device: str) -> float:
    """Median seconds per training epoch of AtomSetsRegressor (first epoch excluded)."""
    from skatomsets import AtomSetsRegressor

    reg = AtomSetsRegressor(
        max_epochs=epochs + 1,
        batch_size=batch_size,
        n_neurons=64,  # as the CPU figures ("auto" picks 256 above 50,000 rows)
        validation_fraction=None,
        n_ensemble=1,
        random_state=0,
        device=device,
    )
    reg.fit(sets, y)
    return float(np.median([row["dur"] for row in reg.history_[0]][1:]))


def synthetic_sets(n: int, mean_sites: int, n_features: int, seed: int = 0):
    """Random per-site feature sets of Materials Project size (stand-in for MEGNet V1)."""
    from skatomsets import RaggedSets

    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.poisson(mean_sites, n), 1, None)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    values = rng.standard_normal((int(offsets[-1]), n_features), dtype=np.float32)
    return RaggedSets(values, offsets)


def megnet_rate(structures, device: str, batch_size: int = 256) -> tuple[float, float]:
    """Structures/s of graphs + MEGNet V0..V3 + f on ``device``; and max |CPU - device|."""
    from skatomsets.megnet.graph import build_graphs
    from skatomsets.megnet.weights import load_pretrained

    model = load_pretrained().to(device)
    dtype = next(model.parameters()).dtype
    keys = ("V0", "V1", "V2", "V3", "f")
    cfg = model.config
    t0 = time.perf_counter()
    first = None
    for start in range(0, len(structures), batch_size):
        g = build_graphs(
            structures[start : start + batch_size],
            cutoff=cfg.cutoff,
            max_z=cfg.n_elements - 1,
            allow_isolated=True,  # FLLA has a few sparse cells
        )
        with torch.inference_mode():
            feats = model.features(g.to_torch(dtype=dtype, device=device), keys=keys)
            out = {k: v.cpu() for k, v in feats.items()}  # features come back to the host
        if first is None:
            first = (g, out)
    rate = len(structures) / (time.perf_counter() - t0)
    cpu_model = load_pretrained()
    with torch.inference_mode():
        ref = cpu_model.features(first[0].to_torch(dtype=dtype), keys=keys)
    err = max(float((ref[k] - first[1][k]).abs().max()) for k in keys)
    return rate, err


def main() -> None:
    """Run the checks."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--device", default="cuda")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    p.add_argument("--grid-jobs", type=int, default=1, help="GridSearchCV n_jobs (one GPU)")
    p.add_argument("--skip-tests", action="store_true")
    args = p.parse_args()
    data = Path(args.data)
    dev = args.device
    if dev.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("CUDA is not available: run with --device cpu --quick for a smoke test")
    name = torch.cuda.get_device_name(0) if dev.startswith("cuda") else "cpu"
    print(f"torch {torch.__version__}, device {dev} ({name}), quick={args.quick}", flush=True)
    t_all = time.perf_counter()

    if not args.skip_tests:
        t0 = section("1. pytest -m gpu tests/test_gpu.py")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu", "-rs",
             str(ROOT / "tests" / "test_gpu.py")],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        print("\n".join(proc.stdout.strip().splitlines()[-12:]), flush=True)
        done(t0)

    from skatomsets import ElementEmbeddingFeaturizer
    from skatomsets.datasets import load_matbench_csv

    t0 = section("2. AtomSets-V0 epoch on all matbench_mp_e_form compositions")
    df = load_matbench_csv(data / "matbench" / "matbench_mp_e_form.csv.gz")
    if args.quick:
        df = df.iloc[:5000]
    sets = ElementEmbeddingFeaturizer("megnet16").fit_transform(df["composition"])
    y = df["target"].to_numpy()
    for bs in (128, 1024):
        s = epoch_seconds(sets, y, bs, args.epochs, dev)
        print(f"   {len(sets)} rows, batch {bs}: {s:.3f} s/epoch", flush=True)
    done(t0)

    t0 = section("3. AtomSets-V1 epoch on SYNTHETIC site sets of mp_e_form size (~30 x 32)")
    syn = synthetic_sets(len(sets), 30, 32)
    y_syn = np.random.default_rng(1).standard_normal(len(syn))
    s = epoch_seconds(syn, y_syn, 128, args.epochs, dev)
    print(f"   {len(syn)} synthetic sets, {syn.n_members} sites, batch 128: {s:.3f} s/epoch")
    done(t0)

    t0 = section("4. MEGNet featurization (graphs on CPU + network on the device), FLLA")
    from pymatgen.core import Structure

    with gzip.open(data / "structures" / "flla_2015.json.gz", "rt") as fh:
        records = json.load(fh)
    if args.quick:
        records = records[:300]
    structures = [Structure.from_dict(r["structure"]) for r in records]
    rate, err = megnet_rate(structures, dev)
    print(f"   {len(structures)} structures: {rate:.0f} structures/s on {dev}; "
          f"max |device - cpu| of V0..V3, f on the first batch: {err:.2e}")  # fmt: skip
    if dev != "cpu":
        sub = structures[: min(1000, len(structures))]
        cpu_rate, _ = megnet_rate(sub, "cpu")
        print(f"   (same code on the CPU, {len(sub)} structures: {cpu_rate:.0f} structures/s)")
    done(t0)

    t0 = section("5. GridSearchCV over the paper's grid (n_neurons x readout), steels, one GPU")
    from sklearn.model_selection import GridSearchCV

    from skatomsets import AtomSetsRegressor

    steels = load_matbench_csv(data / "matbench" / "matbench_steels.csv.gz")
    X = ElementEmbeddingFeaturizer("megnet16").fit_transform(steels["composition"])
    grid = {"n_neurons": [32, 64, 128], "readout": ["mean", "set2set"]}
    est = AtomSetsRegressor(
        max_epochs=30 if args.quick else 300, n_ensemble=1, random_state=0, device=dev
    )
    search = GridSearchCV(
        est, grid, cv=3, scoring="neg_mean_absolute_error", n_jobs=args.grid_jobs
    ).fit(X, steels["target"].to_numpy())
    n_fits = len(search.cv_results_["params"]) * 3 + 1
    print(f"   {n_fits} fits ({len(X)} rows, batch {search.best_estimator_.batch_size_}, "
          f"up to {est.max_epochs} epochs): {time.perf_counter() - t0:.1f} s; best "
          f"{search.best_params_}, CV MAE {-search.best_score_:.1f} MPa")  # fmt: skip
    done(t0)
    t0 = section("6. Default 5-network fit, steels fold 0: members together vs one by one")
    from skatomsets.estimators import _ensemble

    train = np.flatnonzero(steels["test_fold"].to_numpy() != 0)
    test = np.flatnonzero(steels["test_fold"].to_numpy() == 0)
    y_st = steels["target"].to_numpy()
    for together in (True, False):
        _ensemble.VECTORISED = together
        kw = {"max_epochs": 100} if args.quick else {}
        t1 = time.perf_counter()
        reg = AtomSetsRegressor(random_state=0, device=dev, **kw).fit(X[train], y_st[train])
        took = time.perf_counter() - t1
        mae = float(np.mean(np.abs(reg.predict(X[test]) - y_st[test])))
        epochs = [len(h) for h in reg.history_]
        print(f"   {'together' if together else 'one by one'}: {took:.1f} s, "
              f"epochs {epochs}, test MAE {mae:.1f} MPa", flush=True)  # fmt: skip
    _ensemble.VECTORISED = True
    done(t0)
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s", flush=True)


if __name__ == "__main__":
    main()
