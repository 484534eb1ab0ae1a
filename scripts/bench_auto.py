"""The auto model at its defaults on the official MatBench folds (records, then a table).

Each fold is fitted by ``make_model("auto", random_state=0)`` (nothing else set) on the
official training rows and scored on the official test rows; one JSON record per task and
fold in ``--out`` (a finished record is reused, so the run resumes). Regression: MAE;
classification: MatBench's "ROC-AUC" of predicted labels (= balanced accuracy) and, in
brackets, ROC-AUC of probabilities. The table prints what the search chose in each fold,
and the fit time with the CPU it ran on.

    python scripts/bench_auto.py --tasks matbench_steels matbench_jdft2d \
        --data-dir ../shared/data/matbench --out docs/results/auto
    python scripts/bench_auto.py --tasks dielectric_n elastic_log10_G \
        --structures-dir ../shared/data/structures --out docs/results/auto

Structure sets are those of the parent comparison (``docs/benchmarks_structures.md``), with
the same folds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, mean_absolute_error, roc_auc_score

import skatomsets.auto  # noqa: F401 - registers make_model("auto")
from skatomsets.benchmarks.config import PARENT_TASKS
from skatomsets.benchmarks.timing import cpu_model
from skatomsets.datasets import is_classification, load_matbench
from skatomsets.models import make_model


def load_task(task: str, data_dir: str | None, structures_dir: str | None):
    """A MatBench task (compositions) or a structure set of the parent comparison."""
    if task in PARENT_TASKS:
        from skatomsets.datasets import load_structure_set

        file, target = PARENT_TASKS[task]
        df = load_structure_set(Path(structures_dir) / file, target)
        return df.rename(columns={"structure": "material"}), False
    df = load_matbench(task, data_dir=data_dir)
    return df.rename(columns={"composition": "material"}), is_classification(task)


def run_fold(task: str, df, clf: bool, fold: int, threads: int, candidates=None) -> dict:
    import torch

    torch.set_num_threads(threads)
    train, test = df[df.test_fold != fold], df[df.test_fold == fold]
    params = {} if candidates is None else {"candidates": candidates}
    model = make_model("auto", classification=clf, random_state=0, **params)
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(train.material.tolist(), train.target.to_numpy())
    fit_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rec = {
        "task": task,
        "fold": fold,
        "n_train": len(train),
        "chosen": model.chosen_,
        "cv_results": model.cv_results_,
        "ensemble_scores": {str(k): v for k, v in model.ensemble_scores_.items()},
        "fit_s": fit_s,
        "cpu_s": cpu_s,
        "cpu": cpu_model(),
        "threads": threads,
    }
    y = test.target.to_numpy()
    if clf:
        proba = model.predict_proba(test.material.tolist())[:, 1]
        labels = model.predict(test.material.tolist())
        rec["label_auc"] = float(balanced_accuracy_score(y, labels))
        rec["label_auc_0.5"] = float(balanced_accuracy_score(y, (proba >= 0.5).astype(int)))
        rec["proba_auc"] = float(roc_auc_score(y, proba))
        rec["threshold"] = model.threshold_
    else:
        pred = model.predict(test.material.tolist())
        rec["mae"] = float(mean_absolute_error(y, pred))
        rec["lower_bound"] = model.lower_bound_
        rec["upper_bound"] = model.upper_bound_
    return rec


#: Records of the default models on the 106k-133k-row tasks (their own budget run).
LARGE_RUNS = Path("docs/results/large/runs")


def _best_default(task: str, folds: list[int], folder: str, key: str) -> str:
    """The best of atomsets / atomsets-v0 / mlp-v0-stats on the same folds, from records
    (:data:`LARGE_RUNS`, then ``folder``, then the first all-task table, whose large-task
    runs had a shorter budget than the defaults).

    Classification records hold the ROC-AUC of probabilities (labels were not recorded
    then), so the comparison there is of probabilities.
    """
    best = None
    table = Path("docs/results/matbench_results.json")  # where no re-run record exists
    runs = json.loads(table.read_text())["runs"] if table.exists() else []
    for model in ("atomsets", "atomsets-v0", "mlp-v0-stats"):
        # the large tasks' runs with today's defaults (set2set from 50,000 rows) come first:
        # defaults/runs holds their older re-runs (mp_e_form with a mean readout)
        for where in (LARGE_RUNS, Path(folder)):
            paths = [where / f"{model}__{task}__fold{k}.json" for k in folds]
            if all(p.exists() for p in paths):
                scores = [json.loads(p.read_text())["score"] for p in paths]
                break
        else:  # no record folder holds every fold: the first all-task table
            run = [r for r in runs if r["model"] == model and r["task"] == task]
            by_fold = {f["fold"]: f["score"] for f in run[0]["folds"]} if run else {}
            if not all(k in by_fold for k in folds):
                continue
            scores = [by_fold[k] for k in folds]
        score = float(np.mean(scores))
        better = best is None or (score < best[1] if key == "mae" else score > best[1])
        if better:
            best = (model, score)
    if best is None:
        return "-"
    what = " (proba)" if key != "mae" else ""
    return f"{best[1]:.4g}{what} ({best[0]})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", required=True)
    ap.add_argument("--folds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--data-dir", default=None, help="folder of the MatBench csv.gz files")
    ap.add_argument(
        "--structures-dir",
        default="../shared/data/structures",
        help="folder of the structure sets (tasks named as in the parent comparison)",
    )
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument(
        "--defaults-dir",
        default="docs/results/defaults/runs",
        help="fold records of the three default models (the reference column of the table)",
    )
    ap.add_argument(
        "--candidates",
        nargs="+",
        default=None,
        help="ablation only: these candidates instead of the default search (use another --out)",
    )
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for task in [] if args.report_only else args.tasks:  # the report reads records only
        todo = [f for f in args.folds if not (out / f"{task}_fold{f}.json").exists()]
        if not todo:
            continue
        df, clf = load_task(task, args.data_dir, args.structures_dir)
        for fold in todo:
            path = out / f"{task}_fold{fold}.json"
            rec = run_fold(task, df, clf, fold, args.threads, args.candidates)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rec, indent=1))
            os.replace(tmp, path)
            score = rec.get("mae", rec.get("label_auc"))
            print(f"{task} fold {fold}: {score:.4g} chosen {rec['chosen']} ({rec['fit_s']:.0f} s)")
    print(
        "\n| task | folds | auto (mean +/- std) | best default, same folds | chosen per fold "
        "| fit s / fold | CPU |"
    )
    print("|---|---|---|---|---|---|---|")
    for task in args.tasks:
        recs = [
            json.loads((out / f"{task}_fold{f}.json").read_text())
            for f in args.folds
            if (out / f"{task}_fold{f}.json").exists()
        ]
        if not recs:
            continue
        key = "mae" if "mae" in recs[0] else "label_auc"
        vals = np.array([r[key] for r in recs])
        extra = ""
        if key == "label_auc":
            pa = np.mean([r["proba_auc"] for r in recs])
            l5 = np.mean([r["label_auc_0.5"] for r in recs])
            extra = f" (proba {pa:.3f}; labels at 0.5: {l5:.3f})"
        chosen = "; ".join("+".join(r["chosen"]) for r in recs)
        best = _best_default(task, [r["fold"] for r in recs], args.defaults_dir, key)
        fit = np.mean([r["fit_s"] for r in recs])
        print(
            f"| {task} | {len(recs)} | {vals.mean():.4g} +/- {vals.std():.2g}{extra} | {best} "
            f"| {chosen} | {fit:.0f} | {recs[0]['cpu']} |"
        )
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(f"\nCPU time of this run: {ru.ru_utime + ru.ru_stime:.0f} s")


if __name__ == "__main__":
    main()
