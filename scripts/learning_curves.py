"""Learning curves (paper Fig. 3): MEGNet from scratch / fine-tuned vs AtomSets-V1 / -V0.

For each random draw ``r`` a fixed test set (``--test-fraction`` of the data) is held out with
:func:`skatomsets.protocols.convergence_splits`; training sets of each ``--sizes`` are drawn
from the rest (sizes larger than the pool are skipped). Every model is trained on every
(size, draw) training set and scored (MAE) on that draw's test set. Each point is written
atomically to ``OUT/<dataset>/<model>/n<size>_d<draw>.json`` (temp file + ``os.replace``) and
skipped when it already exists, so an interrupted run resumes where it stopped; after every
point the Markdown table (``--table``) and the plot (``--plot``) are rewritten from all the
JSONs under ``OUT``.

Models: ``megnet-scratch`` (``MEGNetRegressor(init=None)``, the shipped parent's
architecture), ``megnet-finetune`` (``MEGNetRegressor(init="pretrained")``, all blocks
trained, head re-initialised), ``atomsets-v1`` and ``atomsets-v0`` (``make_model``). The
AtomSets featurizers are fixed (not fitted to data), so each dataset is featurized once and
the sets are indexed per split; this is equivalent to fitting the pipeline per split.

Training-set tuning only: each estimator early-stops on its own validation split
(``validation_fraction`` of the training set); the test sets are never used for tuning.

Usage::

    python scripts/learning_curves.py --data ../shared/data/structures/elastic_tensor_2015.json.gz
        --target log10_G_VRH --name elastic --out results/learning_curves
        --models atomsets-v0,atomsets-v1 --draws 5 --sizes 100,200,400,600,1000,2000
        --table docs/results/learning_curves_table.md --plot docs/results/learning_curves.png
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skatomsets._io import atomic_write_text, pyplot, save_figure

MODELS = ("megnet-scratch", "megnet-finetune", "atomsets-v1", "atomsets-v0")
PAPER_SIZES = (100, 200, 400, 600, 1000, 2000)


def model_params(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Estimator hyperparameters of ``name`` (recorded in every point's JSON)."""
    if name.startswith("megnet"):
        p: dict[str, Any] = {
            "batch_size": args.megnet_batch_size,
            "max_epochs": args.megnet_epochs,
            "patience": args.megnet_patience,
            "lr": args.megnet_lr if name == "megnet-scratch" else args.finetune_lr,
            "loss": "mse",
            "validation_fraction": args.validation_fraction,
            "allow_isolated": True,
            "device": "cpu",
        }
        if name == "megnet-finetune":
            p.update(init="pretrained", freeze=0)
        return p
    return {
        "batch_size": args.atomsets_batch_size,
        "max_epochs": args.atomsets_epochs,
        "patience": args.atomsets_patience,
        "lr": args.atomsets_lr,
        "loss": "mae",
        "validation_fraction": args.validation_fraction,
        "device": "cpu",
    }


def build_estimator(name: str, params: dict[str, Any], seed: int) -> Any:
    """The unfitted final estimator of ``name``."""
    if name.startswith("megnet"):
        from skatomsets import MEGNetRegressor

        return MEGNetRegressor(random_state=seed, **params)
    from skatomsets.models import make_model

    return make_model(name, random_state=seed, **params).steps[-1][1]


def featurize(name: str, structures: np.ndarray) -> Any:
    """Inputs of ``name``'s estimator for all structures (fixed featurizers, run once)."""
    if name.startswith("megnet"):
        return structures
    from skatomsets.models import make_model

    featurizer = make_model(name)[:-1]
    if name == "atomsets-v1":
        featurizer.set_params(featurize__allow_isolated=True)
    return featurizer.fit_transform(list(structures))


# ------------------------------------------------------------------------------- reporting
def collect(out: Path) -> list[dict[str, Any]]:
    """All point JSONs under ``out``."""
    rows = []
    for p in sorted(out.glob("*/*/n*_d*.json")):
        with open(p) as fh:
            rows.append(json.load(fh))
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """(dataset, model, size) -> mean/std MAE, draws, mean fit seconds, mean epochs."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["model"], r["n_train"]), []).append(r)
    out = {}
    for key, g in groups.items():
        maes = np.array([r["test_mae"] for r in g])
        out[key] = {
            "mean": float(maes.mean()),
            "std": float(maes.std(ddof=1)) if len(maes) > 1 else float("nan"),
            "n": len(maes),
            "fit_s": float(np.mean([r["fit_seconds"] for r in g])),
            "epochs": float(np.mean([r["epochs_run"] for r in g])),
        }
    return out


def _order(models: Sequence[str]) -> list[str]:
    known = [m for m in MODELS if m in models]
    return known + sorted(set(models) - set(known))


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Test MAE mean ± std (number of draws) per dataset, model and training-set size."""
    s = summarize(rows)
    lines = []
    for ds in sorted({k[0] for k in s}):
        sizes = sorted({k[2] for k in s if k[0] == ds})
        models = _order({k[1] for k in s if k[0] == ds})
        unit = next(r.get("unit", "") for r in rows if r["dataset"] == ds)
        lines += [f"**{ds}** (test MAE, {unit}; mean ± std over draws, (n) = draws)", ""]
        lines.append("| model | " + " | ".join(f"n={n}" for n in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for m in models:
            cells = []
            for n in sizes:
                v = s.get((ds, m, n))
                if v is None:
                    cells.append("-")
                elif v["n"] > 1:
                    cells.append(f"{v['mean']:.4f} ± {v['std']:.4f} ({v['n']})")
                else:
                    cells.append(f"{v['mean']:.4f} (1)")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines += ["", "Mean fit wall time per point, s (mean epochs run):", ""]
        lines.append("| model | " + " | ".join(f"n={n}" for n in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for m in models:
            cells = []
            for n in sizes:
                v = s.get((ds, m, n))
                cells.append("-" if v is None else f"{v['fit_s']:.0f} ({v['epochs']:.0f})")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """One panel per dataset: test MAE vs training-set size (log x), error bars = std."""
    plt = pyplot()

    s = summarize(rows)
    datasets = sorted({k[0] for k in s})
    if not datasets:
        return
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 3.8), squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=True):
        for m in _order({k[1] for k in s if k[0] == ds}):
            pts = sorted((k[2], v) for k, v in s.items() if k[0] == ds and k[1] == m)
            x = [p[0] for p in pts]
            y = [p[1]["mean"] for p in pts]
            e = [0.0 if np.isnan(p[1]["std"]) else p[1]["std"] for p in pts]
            nd = sorted({p[1]["n"] for p in pts})
            label = f"{m} ({'/'.join(map(str, nd))} draws)"
            ax.errorbar(x, y, yerr=e, marker="o", ms=4, capsize=3, label=label)
        unit = next(r.get("unit", "") for r in rows if r["dataset"] == ds)
        ax.set_xscale("log")
        ax.set_xlabel("training-set size")
        ax.set_ylabel(f"test MAE ({unit})" if unit else "test MAE")
        ax.set_title(ds)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    save_figure(fig, path)


def report(out: Path, table: Path | None, plot_path: Path | None) -> str:
    """Rewrite the table / plot from all JSONs under ``out``; returns the table."""
    rows = collect(out)
    text = markdown_table(rows)
    if table is not None:
        atomic_write_text(table, text)
    if plot_path is not None and rows:
        plot(rows, plot_path)
    return text


# ------------------------------------------------------------------------------------ run
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="gzipped JSON list of structure records")
    ap.add_argument("--target", default="e_form")
    ap.add_argument("--name", help="dataset label (default: file name stem)")
    ap.add_argument("--unit", default="", help="target unit, for the table and plot")
    ap.add_argument("--out", type=Path, default=Path("results/learning_curves"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--sizes", default=",".join(map(str, PAPER_SIZES)))
    ap.add_argument("--draws", type=int, default=5, help="random draws (test set + subsets)")
    ap.add_argument("--first-draw", type=int, default=0)
    ap.add_argument("--test-fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0, help="random_state of convergence_splits")
    ap.add_argument("--validation-fraction", type=float, default=0.1)
    ap.add_argument("--atomsets-epochs", type=int, default=300)
    ap.add_argument("--atomsets-patience", type=int, default=50)
    ap.add_argument("--atomsets-batch-size", type=int, default=32)
    ap.add_argument("--atomsets-lr", type=float, default=1e-3)
    ap.add_argument("--megnet-epochs", type=int, default=60)
    ap.add_argument("--megnet-patience", type=int, default=20)
    ap.add_argument("--megnet-batch-size", type=int, default=32)
    ap.add_argument(
        "--megnet-min-steps",
        type=int,
        default=0,
        help="raise max_epochs of small training sets to at least this many "
        "optimiser steps (the training-set part after the validation split)",
    )
    ap.add_argument("--megnet-lr", type=float, default=1e-3)
    ap.add_argument("--finetune-lr", type=float, default=5e-4)
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
        print(report(args.out, args.table, args.plot))
        return 0
    if args.data is None:
        raise SystemExit("--data is required")
    import torch

    from skatomsets.protocols import convergence_splits
    from skatomsets.structure_data import load_structure_set

    torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            raise SystemExit(f"unknown model {m!r}; choose from {MODELS}")
    sizes = [int(s) for s in args.sizes.split(",")]
    name = args.name or args.data.name.split(".")[0]
    df = load_structure_set(args.data, args.target)
    X = df["structure"].to_numpy()
    y = df["target"].to_numpy(dtype=float)
    splits = convergence_splits(
        len(df),
        sizes=sizes,
        n_repeats=args.first_draw + args.draws,
        test_fraction=args.test_fraction,
        random_state=args.seed,
    )
    by_draw: dict[int, list[Any]] = {}
    for sp in splits:
        r = int(sp.name.rsplit("repeat", 1)[1])
        if r >= args.first_draw:
            by_draw.setdefault(r, []).append(sp)
    inputs: dict[str, Any] = {}
    for draw in sorted(by_draw):
        for m in models:
            for sp in by_draw[draw]:
                path = args.out / name / m / f"n{len(sp.train)}_d{draw}.json"
                if path.exists():
                    continue
                if args.deadline is not None and time.time() > args.deadline:
                    print("deadline reached; stopping", flush=True)
                    return 0
                if m not in inputs:
                    t0 = time.perf_counter()
                    inputs[m] = featurize(m, X)
                    print(f"[{name}] featurized for {m} in {time.perf_counter() - t0:.1f} s")
                Xm = inputs[m]
                params = model_params(m, args)
                if m.startswith("megnet") and args.megnet_min_steps:
                    n_fit = len(sp.train) - round(args.validation_fraction * len(sp.train))
                    per_epoch = -(-n_fit // args.megnet_batch_size)
                    params["max_epochs"] = max(
                        args.megnet_epochs, -(-args.megnet_min_steps // per_epoch)
                    )
                est = build_estimator(m, params, seed=draw)
                test = sp.test["test"]
                t0 = time.perf_counter()
                est.fit(Xm[sp.train], y[sp.train])
                fit_s = time.perf_counter() - t0
                pred = np.ravel(est.predict(Xm[test]))
                mae = float(np.mean(np.abs(pred - y[test])))
                epochs = [len(h) for h in est.history_] if hasattr(est, "history_") else []
                best = [int(b) for b in getattr(est, "best_epochs_", [])]
                row = {
                    "dataset": name,
                    "data": str(args.data),
                    "target": args.target,
                    "unit": args.unit,
                    "model": m,
                    "n_train": len(sp.train),
                    "draw": draw,
                    "n_test": len(test),
                    "test_mae": mae,
                    "fit_seconds": fit_s,
                    "epochs_run": int(max(epochs)) if epochs else 0,
                    "best_epochs": best,
                    "params": {k: v for k, v in params.items()},
                    "seed": args.seed,
                    "test_fraction": args.test_fraction,
                    "threads": args.threads,
                    "mean_predictor_mae": float(np.mean(np.abs(y[test] - y[sp.train].mean()))),
                }
                atomic_write_text(path, json.dumps(row, indent=1))
                print(
                    f"[{name}] {m} n={len(sp.train)} draw={draw}: MAE {mae:.4f} "
                    f"({fit_s:.1f} s, {row['epochs_run']} epochs)",
                    flush=True,
                )
                report(args.out, args.table, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
