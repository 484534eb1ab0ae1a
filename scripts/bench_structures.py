"""Benchmark the structural AtomSets models on real crystal-structure sets (5-fold CV).

Tasks (files in ``../shared/data/structures``, see its README):

==================  =======================================  ==========================
task                file / target                             models
==================  =======================================  ==========================
perovskites         matbench_perovskites_partial / e_form     atomsets-v0, atomsets-v1,
                    (eV/cell, the file's MatBench folds)      mlp-f
elastic_log10_K     elastic_tensor_2015 / log10_K_VRH         atomsets-v0, atomsets-v1
elastic_log10_G     elastic_tensor_2015 / log10_G_VRH         atomsets-v0, atomsets-v1
dielectric_n        dielectric_constant / n                   atomsets-v0, atomsets-v1
==================  =======================================  ==========================

Files without ``test_fold`` get ``KFold(5, shuffle=True, random_state=18012019)``
(:func:`skatomsets.structure_data.load_structure_set`).

Protocol, per task and fold ``k`` (train on ``test_fold != k``, test on ``test_fold == k``):

1. **Featurize once** per dataset with the featurizer of the named pipeline
   (:func:`skatomsets.models.make_model`; ``allow_isolated=True`` for the MEGNet ones). The
   featurizers are per-structure and unsupervised, so featurizing before splitting leaks
   nothing; the rest of the pipeline (scaler + network) is fitted on training rows only.
2. **Nested selection** among a few candidate settings (:data:`CANDIDATES`), using the
   training rows of fold ``k`` only: a fixed random 80/20 split of them (seed ``seed + k``);
   each candidate is trained on the 80 % (early stopping on its own 10 % validation split)
   and scored by MAE on the 20 %. The test fold is never seen.
3. **Refit** the chosen candidate on all training rows of fold ``k`` (with ``n_ensemble``
   members, early stopping on the estimator's own 10 % validation split) and score the
   test fold (MAE).

Results are written as one JSON per model/task/fold into ``--out`` (atomically: temporary
file + ``os.replace``); a rerun skips folds whose file exists with the same settings, so the
script is resumable. At the end ``summary.json``, ``table.md`` and a parity plot of the
perovskites AtomSets-V1 test predictions are written into ``--out``.

Usage::

    nohup python scripts/bench_structures.py --out docs/results/structures \\
        > bench_structures.log 2>&1 &
    python scripts/bench_structures.py --tasks perovskites --models atomsets-v1 --folds 0
    python scripts/bench_structures.py --report-only

Options: ``--data`` (folder with the structure files; default ``../shared/data/structures``
or ``$SKATOMSETS_SHARED_DATA/structures``), ``--tasks``, ``--models``, ``--folds``,
``--threads`` (torch intra-op threads, default 1), ``--seed`` (network and inner-split seed),
``--max-epochs`` / ``--patience`` / ``--n-ensemble`` (override the per-task budgets in
:data:`TASKS`), ``--no-select`` (use the first candidate only), ``--report-only``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from skatomsets._io import atomic_write_text, pyplot, save_figure

ROOT = Path(__file__).resolve().parents[1]
_SHARED = Path(os.environ.get("SKATOMSETS_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_DATA = _SHARED / "structures"
DEFAULT_OUT = ROOT / "docs" / "results" / "structures"

#: task -> file, target, models, training budget (fixed a priori from the epoch cost).
TASKS: dict[str, dict[str, Any]] = {
    "perovskites": {
        "file": "matbench_perovskites_partial.json.gz",
        "target": "e_form",
        "models": ["atomsets-v0", "atomsets-v1", "mlp-f"],
        "budget": {"max_epochs": 400, "patience": 50, "batch_size": 64, "n_ensemble": 1},
    },
    "elastic_log10_K": {
        "file": "elastic_tensor_2015.json.gz",
        "target": "log10_K_VRH",
        "models": ["atomsets-v0", "atomsets-v1"],
        "budget": {"max_epochs": 400, "patience": 80, "batch_size": 32, "n_ensemble": 3},
    },
    "elastic_log10_G": {
        "file": "elastic_tensor_2015.json.gz",
        "target": "log10_G_VRH",
        "models": ["atomsets-v0", "atomsets-v1"],
        "budget": {"max_epochs": 400, "patience": 80, "batch_size": 32, "n_ensemble": 3},
    },
    "dielectric_n": {
        "file": "dielectric_constant.json.gz",
        "target": "n",
        "models": ["atomsets-v0", "atomsets-v1"],
        "budget": {"max_epochs": 400, "patience": 80, "batch_size": 32, "n_ensemble": 3},
    },
}

#: Parameters shared by every network (fixed a priori).
COMMON: dict[str, Any] = {"loss": "mae", "lr": 1e-3, "validation_fraction": 0.1, "device": "cpu"}

#: Candidate overrides per model, chosen among by nested inner validation (first = default).
CANDIDATES: dict[str, list[dict[str, Any]]] = {
    "atomsets-v0": [{"readout": "mean"}, {"readout": "set2set"}],
    "atomsets-v1": [{"readout": "mean"}, {"readout": "set2set"}],
    "mlp-f": [{"n_layers": 3, "n_neurons": 64}, {"n_layers": 3, "n_neurons": 128}],
}

#: Paper numbers (Chen & Ong 2021, full matbench_perovskites), meV/atom.
PAPER_MEV_PER_ATOM = {("perovskites", "atomsets-v0"): 83.0, ("perovskites", "atomsets-v1"): 12.0,
                      ("perovskites", "mlp-f"): 30.0}  # fmt: skip


# ------------------------------------------------------------------------------ helpers
def fold_file(out: Path, model: str, task: str, fold: int) -> Path:
    """Path of the JSON record of one model/task/fold."""
    return out / "folds" / f"{model}__{task}__fold{fold}.json"


def load_record(path: Path, signature: dict[str, Any]) -> dict[str, Any] | None:
    """The stored record at ``path`` if it parses and matches ``signature``, else None."""
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("signature") != signature:
        return None
    if not isinstance(rec.get("mae"), (int, float)) or not np.isfinite(rec["mae"]):
        return None
    return rec


def featurize(model: str, structures: np.ndarray) -> tuple[Any, Any, dict[str, Any]]:
    """Featurize with the named pipeline's first step; return (X, rest_of_pipeline, info).

    Parameters
    ----------
    model : str
        A :func:`skatomsets.models.make_model` name.
    structures : ndarray of Structure

    Returns
    -------
    X : RaggedSets or ndarray
        The features of all structures.
    template : Pipeline
        The remaining (unfitted) pipeline steps (scaler, network).
    info : dict
        ``seconds`` and ``per_second`` (structures per second) of the featurization.
    """
    from sklearn.pipeline import Pipeline

    from skatomsets.models import make_model

    pipe = make_model(model)
    featurizer = pipe.steps[0][1]
    if "allow_isolated" in featurizer.get_params():
        featurizer.set_params(allow_isolated=True)
    t0 = time.perf_counter()
    X = featurizer.fit().transform(structures)
    seconds = time.perf_counter() - t0
    info = {"seconds": seconds, "per_second": len(structures) / max(seconds, 1e-9)}
    return X, Pipeline(pipe.steps[1:]), info


def make_estimator(template: Any, params: dict[str, Any]) -> Any:
    """A fresh clone of ``template`` with ``params`` set on its final step."""
    from sklearn.base import clone

    est = clone(template)
    last = est.steps[-1][0]
    est.set_params(**{f"{last}__{k}": v for k, v in params.items()})
    return est


def select(
    template: Any,
    X: Any,
    y: np.ndarray,
    train: np.ndarray,
    candidates: list[dict[str, Any]],
    base: dict[str, Any],
    seed: int,
) -> tuple[int, list[float]]:
    """Pick a candidate by inner validation on the training rows only.

    Parameters
    ----------
    template : Pipeline
        Unfitted model (scaler/network steps).
    X : RaggedSets or ndarray
        Features of all rows.
    y : ndarray
        Targets of all rows.
    train : ndarray of int
        Indices of the outer training rows.
    candidates : list of dict
        Overrides to compare.
    base : dict
        Parameters shared by all candidates (``n_ensemble`` is forced to 1 here).
    seed : int
        Seed of the inner 80/20 split.

    Returns
    -------
    best : int
        Index of the chosen candidate.
    scores : list of float
        Inner-validation MAE of every candidate.
    """
    if len(candidates) == 1:
        return 0, [float("nan")]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(train)
    n_va = max(1, round(0.2 * len(perm)))
    inner_va, inner_tr = np.sort(perm[:n_va]), np.sort(perm[n_va:])
    scores = []
    for cand in candidates:
        est = make_estimator(template, {**base, "n_ensemble": 1, **cand})
        est.fit(X[inner_tr], y[inner_tr])
        scores.append(float(np.mean(np.abs(est.predict(X[inner_va]) - y[inner_va]))))
    return int(np.argmin(scores)), scores


# ------------------------------------------------------------------------------ report
def report(out: Path) -> dict[str, Any]:
    """Aggregate the fold records in ``out/folds`` into summary.json, table.md and a plot.

    Parameters
    ----------
    out : Path
        The results folder.

    Returns
    -------
    dict
        The summary (task -> model -> per-fold MAE, mean, std, ...).
    """
    summary: dict[str, Any] = {}
    for path in sorted((out / "folds").glob("*.json")):
        rec = json.loads(path.read_text())
        entry = summary.setdefault(rec["task"], {}).setdefault(rec["model"], {"folds": {}})
        entry["folds"][str(rec["fold"])] = {
            k: rec[k]
            for k in ("mae", "chosen", "inner_scores", "fit_seconds", "select_seconds",
                      "best_epochs", "n_train", "n_test")
        }  # fmt: skip
    lines = [
        "| task | model | folds | test MAE (mean ± std) | meV/atom | paper (full set) |",
        "|---|---|---|---|---|---|",
    ]
    for task, models in summary.items():
        for model, entry in models.items():
            maes = np.array([f["mae"] for f in entry["folds"].values()])
            entry["mean"], entry["std"] = float(maes.mean()), float(maes.std())
            entry["fit_seconds_total"] = float(
                sum(f["fit_seconds"] + f["select_seconds"] for f in entry["folds"].values())
            )
            mev = paper = "-"
            if task == "perovskites":  # eV/cell over 5 atoms -> meV/atom
                mev = f"{entry['mean'] / 5 * 1000:.1f} ± {entry['std'] / 5 * 1000:.1f}"
                paper = f"{PAPER_MEV_PER_ATOM.get((task, model), float('nan')):.0f}"
            lines.append(
                f"| {task} | {model} | {len(maes)} | {entry['mean']:.4f} ± {entry['std']:.4f} "
                f"| {mev} | {paper} |"
            )
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, sort_keys=True))
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    _parity(out, "perovskites", "atomsets-v1")
    return summary


def _parity(out: Path, task: str, model: str) -> None:
    """Parity plot of the test predictions of all folds of one model/task (PNG, Agg)."""
    recs = [json.loads(p.read_text()) for p in sorted((out / "folds").glob(f"{model}__{task}__*"))]
    if not recs:
        return
    plt = pyplot()

    y = np.concatenate([r["y_true"] for r in recs])
    p = np.concatenate([r["predictions"] for r in recs])
    fig, ax = plt.subplots(figsize=(3.4, 3.4))
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8)
    ax.scatter(y, p, s=2, alpha=0.4, linewidths=0, rasterized=True)
    mae = float(np.mean(np.abs(y - p)))
    ax.set_title(
        f"{model} on {task} ({len(recs)} test folds)\nMAE {mae:.3f} eV/cell "
        f"= {mae / 5 * 1000:.0f} meV/atom",
        fontsize=8,
    )
    ax.set_xlabel("DFT e_form (eV/cell)", fontsize=8)
    ax.set_ylabel("predicted (eV/cell)", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    save_figure(fig, out / f"parity_{task}_{model}.png", dpi=100)


# ------------------------------------------------------------------------------ main
def run_task(task: str, args: argparse.Namespace, out: Path) -> None:
    """Run every requested model and fold of one task (featurizing each model's input once).

    Parameters
    ----------
    task : str
        A key of :data:`TASKS`.
    args : Namespace
        Parsed command-line arguments.
    out : Path
        Results folder.
    """
    from tqdm import tqdm

    from skatomsets.structure_data import load_structure_set

    spec = TASKS[task]
    budget = dict(spec["budget"])
    for key in ("max_epochs", "patience", "n_ensemble"):
        if getattr(args, key) is not None:
            budget[key] = getattr(args, key)
    t0 = time.perf_counter()
    df = load_structure_set(args.data / spec["file"], spec["target"])
    print(f"[{task}] loaded {len(df)} structures in {time.perf_counter() - t0:.1f} s", flush=True)
    structures = df["structure"].to_numpy()
    y = df["target"].to_numpy(dtype=float)
    test_fold = df["test_fold"].to_numpy()
    folds = args.folds if args.folds is not None else sorted(np.unique(test_fold).tolist())
    models = [m for m in spec["models"] if args.models is None or m in args.models]
    for model in models:
        candidates = CANDIDATES[model][:1] if args.no_select else CANDIDATES[model]
        base = {**COMMON, **budget}
        signature = json.loads(
            json.dumps(
                {"task": task, "model": model, "n_rows": len(df), "base": base,
                 "candidates": candidates, "seed": args.seed},
                sort_keys=True,
            )
        )  # fmt: skip
        todo = [k for k in folds if load_record(fold_file(out, model, task, k), signature) is None]
        if not todo:
            print(f"[{task}] {model}: all folds done", flush=True)
            continue
        X, template, feat = featurize(model, structures)
        print(
            f"[{task}] {model}: featurized {len(df)} in {feat['seconds']:.1f} s "
            f"({feat['per_second']:.0f} structures/s)",
            flush=True,
        )
        for k in tqdm(todo, desc=f"{task} {model}", mininterval=10):
            train = np.flatnonzero(test_fold != k)
            test = np.flatnonzero(test_fold == k)
            seed = args.seed + int(k)
            t1 = time.perf_counter()
            best, scores = select(template, X, y, train, candidates, base | {"random_state": seed},
                                  seed)  # fmt: skip
            t2 = time.perf_counter()
            est = make_estimator(template, {**base, **candidates[best], "random_state": seed})
            est.fit(X[train], y[train])
            t3 = time.perf_counter()
            pred = est.predict(X[test])
            mae = float(np.mean(np.abs(pred - y[test])))
            rec = {
                "task": task, "model": model, "fold": int(k), "signature": signature,
                "mae": mae, "chosen": candidates[best], "inner_scores": scores,
                "select_seconds": t2 - t1, "fit_seconds": t3 - t2,
                "best_epochs": [int(e) for e in est.steps[-1][1].best_epochs_],
                "n_train": len(train), "n_test": len(test),
                "featurize": feat, "ids": df["id"].iloc[test].tolist(),
                "y_true": y[test].tolist(), "predictions": [float(p) for p in pred],
                "host": platform.node(), "torch_threads": args.threads,
            }  # fmt: skip
            atomic_write_text(fold_file(out, model, task, k), json.dumps(rec))
            tqdm.write(
                f"[{task}] {model} fold {k}: MAE {mae:.4f} (chose {candidates[best]}, inner "
                f"{[round(s, 4) for s in scores]}; select {t2 - t1:.0f} s, fit {t3 - t2:.0f} s)"
            )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="structure data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--models", nargs="+", default=None, help="subset of each task's models")
    parser.add_argument("--folds", nargs="+", type=int, default=None, help="subset of folds")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=0, help="network / inner-split seed")
    parser.add_argument("--max-epochs", type=int, default=None, help="override TASKS budget")
    parser.add_argument("--patience", type=int, default=None, help="override TASKS budget")
    parser.add_argument("--n-ensemble", type=int, default=None, help="override TASKS budget")
    parser.add_argument("--no-select", action="store_true", help="first candidate only")
    parser.add_argument("--report-only", action="store_true", help="only aggregate results")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if not args.report_only:
        for task in args.tasks:
            run_task(task, args, args.out)
    summary = report(args.out)
    for task, models in summary.items():
        for model, e in models.items():
            print(f"{task:18s} {model:12s} MAE {e['mean']:.4f} ± {e['std']:.4f}")
    print(f"total wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
