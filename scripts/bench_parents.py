"""Parent networks side by side on the real structure sets: CHGNet levels vs MEGNet levels.

For each task (a file of ``../shared/data/structures`` and a target) and model, 5-fold
cross-validation on the set's folds (the file's MatBench ``test_fold`` for the perovskites,
else ``KFold(5, shuffle=True, random_state=18012019)``), with the package's **default**
estimator (``AtomSetsRegressor(random_state=0)`` on site sets, ``StandardScaler`` +
``AtomSetsMLPRegressor(random_state=0)`` on structure vectors): only the features change.

Features are computed once per structure through the featurizers' on-disk cache (``--cache``),
before splitting (they are per-structure and unsupervised: nothing leaks); the estimator is
fitted on the training folds only. One JSON per task/model/fold in ``--out`` (resumable);
``--report`` prints the Markdown table.

Leakage caveat: both parents were trained on Materials Project data (MEGNet: ~133k formation
energies; CHGNet: the MPtrj relaxation trajectories), which overlap these structure sets.

Usage::

    python scripts/bench_parents.py --tasks dielectric_n --models chgnet-v3 megnet-v1
    python scripts/bench_parents.py --report
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SKATOMSETS_SHARED_DATA", ROOT.parent / "shared" / "data"))

TASKS = {
    "perovskites": ("matbench_perovskites_partial.json.gz", "e_form"),
    "elastic_log10_K": ("elastic_tensor_2015.json.gz", "log10_K_VRH"),
    "elastic_log10_G": ("elastic_tensor_2015.json.gz", "log10_G_VRH"),
    "dielectric_n": ("dielectric_constant.json.gz", "n"),
    "flla_e_form": ("flla_2015.json.gz", "formation_energy_per_atom"),
}
MODELS = [f"chgnet-v{k}" for k in range(5)] + [f"megnet-v{k}" for k in range(4)]
MODELS += ["mlp-chgnet", "mlp-f"]


def featurizer(model: str, cache: str):
    from skatomsets.featurizers import (
        CHGNetSiteFeaturizer,
        CHGNetStructureFeaturizer,
        MEGNetSiteFeaturizer,
        MEGNetStructureFeaturizer,
    )

    if model == "mlp-chgnet":
        return CHGNetStructureFeaturizer(features=("crystal",), cache=cache)
    if model == "mlp-f":
        return MEGNetStructureFeaturizer(features=("f",), cache=cache, allow_isolated=True)
    parent, level = model.split("-v")
    if parent == "chgnet":
        return CHGNetSiteFeaturizer(level=int(level), cache=cache)
    return MEGNetSiteFeaturizer(level=int(level), cache=cache, allow_isolated=True)


def estimator(model: str):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skatomsets import AtomSetsMLPRegressor, AtomSetsRegressor

    if model.startswith("mlp-"):
        return make_pipeline(StandardScaler(), AtomSetsMLPRegressor(random_state=0))
    return AtomSetsRegressor(random_state=0)


def run(task: str, models: list[str], folds: list[int] | None, out: Path, cache: str) -> None:
    from skatomsets.structure_data import load_structure_set

    fname, target = TASKS[task]
    df = load_structure_set(DATA / "structures" / fname, target=target)
    y = df["target"].to_numpy()
    for model in models:
        todo = [
            k
            for k in (folds or sorted(set(df["test_fold"])))
            if not (out / f"{task}__{model}__fold{k}.json").exists()
        ]
        if not todo:
            continue
        t = time.perf_counter()
        X = featurizer(model, cache).fit_transform(df["structure"].to_numpy())
        feat_s = time.perf_counter() - t
        for k in todo:
            train = df["test_fold"].to_numpy() != k
            tr, te = np.flatnonzero(train), np.flatnonzero(~train)
            est = estimator(model)
            t = time.perf_counter()
            est.fit(X[tr], y[tr])
            pred = est.predict(X[te])
            rec = {
                "task": task,
                "model": model,
                "fold": int(k),
                "mae": float(np.mean(np.abs(pred - y[~train]))),
                "n_train": int(train.sum()),
                "n_test": int((~train).sum()),
                "fit_seconds": time.perf_counter() - t,
                "featurize_seconds": feat_s,
            }
            (out / f"{task}__{model}__fold{k}.json").write_text(json.dumps(rec))
            print(json.dumps(rec), flush=True)


def report(out: Path) -> str:
    recs = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    rows = ["| task | model | folds | test MAE, mean ± std |", "|---|---|---|---|"]
    for task in TASKS:
        for model in MODELS:
            maes = [r["mae"] for r in recs if r["task"] == task and r["model"] == model]
            if maes:
                rows.append(
                    f"| {task} | {model} | {len(maes)} | {np.mean(maes):.4f} ± {np.std(maes):.4f} |"
                )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=MODELS)
    parser.add_argument("--folds", nargs="+", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("results") / "parents")
    parser.add_argument("--cache", default=str(Path("results") / "feature_cache"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--report", action="store_true", help="only print the table")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report:
        for task in args.tasks:
            run(task, args.models, args.folds, args.out, args.cache)
    print(report(args.out))


if __name__ == "__main__":
    main()
