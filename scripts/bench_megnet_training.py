"""MEGNet training speed vs AtomSets-V1 training, and a "bring your own parent" round trip.

Prints, in one run:

1. seconds per epoch of ``MEGNetRegressor`` on ``--n`` flla_2015 structures (formation
   energy per atom), from scratch with the architecture of the shipped parent, and
   fine-tuning the shipped parent with ``freeze=2``; plus the same model's forward +
   backward + Adam step alone on pre-built batches (a bare torch loop), so that the cost of
   data handling (one gather per epoch, slicing, tensor conversion) is visible;
2. seconds per epoch of AtomSets-V1 (``AtomSetsRegressor`` on ``MEGNetSiteFeaturizer(level=1)``
   sets, precomputed once; the featurization time is printed separately) on the same
   structures, at the same batch size;
3. with ``--roundtrip``: trains a small parent on flla_2015 formation energies, saves it with
   ``save_parent``, featurizes elastic_tensor_2015 with ``MEGNetSiteFeaturizer(model=path)``
   and prints the 5-fold CV MAE of AtomSets-V1 on ``log10_G_VRH`` with that parent, with the
   shipped parent and of the mean predictor. (The shipped parent was trained on ~133k
   Materials Project structures, which overlap both sets; the small parent sees ~3.5k.)

The data are records of gzipped JSON lists with ``structure`` as ``Structure.as_dict()``.
Structures with an isolated site (no neighbour within 5 Å) are kept (``allow_isolated``).

Usage::

    python scripts/bench_megnet_training.py --data ../shared/data/structures [--n 2000]
        [--epochs 3] [--threads 1] [--roundtrip] [--parent-epochs 30]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skatomsets import AtomSetsRegressor, MEGNetRegressor, MEGNetSiteFeaturizer
from skatomsets.benchmarks.timing import bare_epoch_seconds
from skatomsets.estimators._graph_data import GraphData
from skatomsets.estimators._megnet_base import MEGNetModule
from skatomsets.megnet import MEGNetConfig, build_graphs


def load_records(path: Path, n: int | None, target: str) -> tuple[list[Any], np.ndarray]:
    """The first ``n`` structures of a gzipped JSON file and their ``target``."""
    from pymatgen.core import Structure

    with gzip.open(path, "rt") as fh:
        records = json.load(fh)[:n]
    structures = [Structure.from_dict(r["structure"]) for r in records]
    return structures, np.array([r[target] for r in records], dtype=np.float64)


def epoch_seconds(est: Any) -> float:
    """Median skorch epoch duration over the ensemble's first member, first epoch excluded."""
    durs = [h["dur"] for h in est.history_[0]]
    return float(np.median(durs[1:] if len(durs) > 1 else durs))


def bare_megnet_seconds(structures: list[Any], y: np.ndarray, batch: int, epochs: int) -> float:
    """Seconds per epoch of forward + backward + Adam over pre-built MEGNet batches."""
    torch.manual_seed(0)
    config = MEGNetConfig().to_dict()
    module = MEGNetModule(config)
    opt = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)  # as the estimator
    yy = ((y - y.mean()) / y.std()).astype(np.float32)[:, None]
    data = GraphData(build_graphs(structures, allow_isolated=True), yy)
    batches = list(data.batches(batch, rng=np.random.default_rng(0)))
    return bare_epoch_seconds(module, opt, torch.nn.MSELoss(), batches, epochs)


def speed(args: argparse.Namespace) -> None:
    """Part 1 and 2: seconds per epoch, MEGNet vs AtomSets-V1, on the same structures."""
    structures, y = load_records(
        args.data / "flla_2015.json.gz", args.n, "formation_energy_per_atom"
    )
    n_atoms = np.mean([len(s) for s in structures])
    print(f"flla_2015: {len(structures)} structures, {n_atoms:.1f} sites on average")
    common = {
        "max_epochs": args.epochs + 1,
        "batch_size": args.batch_size,
        "validation_fraction": None,
        "random_state": 0,
        "device": "cpu",
    }
    t0 = time.perf_counter()
    graphs = build_graphs(structures, allow_isolated=True)
    t_graph = time.perf_counter() - t0
    print(f"  graph building: {t_graph:.2f} s ({graphs.n_bonds / len(structures):.0f} bonds/graph)")

    scratch = MEGNetRegressor(allow_isolated=True, **common).fit(structures, y)
    print(
        f"  MEGNetRegressor from scratch (pretrained widths): {epoch_seconds(scratch):.2f} s/epoch"
    )
    tuned = MEGNetRegressor(init="pretrained", freeze=2, allow_isolated=True, **common)
    tuned.fit(structures, y)
    print(f"  MEGNetRegressor fine-tuning, freeze=2:            {epoch_seconds(tuned):.2f} s/epoch")
    bare = bare_megnet_seconds(structures, y, args.batch_size, args.epochs)
    print(f"  bare torch loop, same model, pre-built batches:   {bare:.2f} s/epoch")

    t0 = time.perf_counter()
    v1 = MEGNetSiteFeaturizer(level=1, cache=False, allow_isolated=True).fit_transform(structures)
    t_feat = time.perf_counter() - t0
    print(f"  V1 featurization (once): {t_feat:.2f} s")
    atomsets = AtomSetsRegressor(**common).fit(v1, y)
    print(
        f"  AtomSets-V1 (AtomSetsRegressor on V1 sets):       {epoch_seconds(atomsets):.3f} s/epoch"
    )
    ratio = epoch_seconds(scratch) / epoch_seconds(atomsets)
    print(f"  ratio MEGNet / AtomSets-V1 per epoch: {ratio:.0f}x")


def roundtrip(args: argparse.Namespace) -> None:
    """Part 3: own parent on flla formation energies -> V1 features -> AtomSets on log10 G."""
    structures, y = load_records(args.data / "flla_2015.json.gz", None, "formation_energy_per_atom")
    t0 = time.perf_counter()
    parent = MEGNetRegressor(
        max_epochs=args.parent_epochs,
        batch_size=args.batch_size,
        lr=2e-3,
        patience=10,
        allow_isolated=True,
        random_state=0,
        device="cpu",
    ).fit(structures, y)
    hist = parent.history_[0]
    best = parent.best_epochs_[0]
    print(
        f"own parent: {len(structures)} flla structures, {len(hist)} epochs in "
        f"{time.perf_counter() - t0:.0f} s, best validation MAE "
        f"{hist[best - 1, 'valid_mae']:.3f} eV/atom (epoch {best})"
    )
    path = parent.save_parent(args.out / "flla_parent.pt")
    elastic, g = load_records(args.data / "elastic_tensor_2015.json.gz", None, "log10_G_VRH")
    cv = KFold(5, shuffle=True, random_state=0)
    print(f"elastic_tensor_2015: {len(elastic)} structures, target log10_G_VRH")
    print(f"  mean predictor CV MAE: {np.mean(np.abs(g - g.mean())):.3f} (in-sample mean)")
    for name, model in (
        ("own flla parent", str(path)),
        ("shipped parent", "formation_energy_mp-2019.4.1"),
    ):
        t0 = time.perf_counter()
        pipe = make_pipeline(
            MEGNetSiteFeaturizer(level=1, model=model, allow_isolated=True),
            AtomSetsRegressor(
                max_epochs=args.atomsets_epochs, patience=50, random_state=0, device="cpu"
            ),
        )
        scores = -cross_val_score(pipe, elastic, g, cv=cv, scoring="neg_mean_absolute_error")
        print(
            f"  AtomSets-V1 with {name}: CV MAE {scores.mean():.3f} +- {scores.std():.3f} "
            f"({time.perf_counter() - t0:.0f} s)"
        )


def main() -> None:
    """Parse arguments and run the benchmark parts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/structures"))
    parser.add_argument("--n", type=int, default=2000, help="structures for the speed part")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--roundtrip", action="store_true", help="also run part 3")
    parser.add_argument("--skip-speed", action="store_true", help="skip parts 1 and 2")
    parser.add_argument("--parent-epochs", type=int, default=30)
    parser.add_argument("--atomsets-epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("."), help="where the parent is saved")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    if not args.skip_speed:
        speed(args)
    if args.roundtrip:
        roundtrip(args)


if __name__ == "__main__":
    main()
