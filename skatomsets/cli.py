"""Command line: ``skatomsets train``, ``predict``, ``benchmark``, ``list``.

``train`` runs the MatBench official 5-fold protocol for one model on one dataset (built in,
or a MatBench CSV folder) with the benchmark configuration of that model and task
(:data:`skatomsets.benchmark.CONFIG`, overridable by options), prints per-fold and mean
test MAE / ROC-AUC, and optionally saves a model refitted on all rows. ``predict`` loads a
saved model and predicts new formulas.
``benchmark`` runs several models x MatBench tasks on the official folds, resumably, and
writes a results JSON, a Markdown table and parity plots (:mod:`skatomsets.benchmark`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]


def _train(args: argparse.Namespace) -> int:
    import joblib
    from tqdm.auto import tqdm

    from .benchmark import resolve_params
    from .datasets import is_classification, load_matbench, task_name
    from .models import make_model
    from .protocols import run_matbench_folds

    df = load_matbench(args.dataset, data_dir=args.data_dir, download=args.download)
    if args.limit:
        df = df.iloc[: args.limit]
    classification = is_classification(args.dataset)
    # the benchmark configuration of this model and task, then what the command line says
    params = resolve_params(args.model, task_name(args.dataset))
    given = {
        "max_epochs": args.max_epochs,
        "patience": args.patience,
        "n_ensemble": args.n_ensemble,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "loss": None if classification else args.loss,
    }
    params.update({k: v for k, v in given.items() if v is not None})
    params.update(random_state=args.random_state, device=args.device)
    model = make_model(args.model, classification=classification, **params)
    metric = "ROC-AUC" if classification else "MAE"
    print(
        f"{args.model} on {args.dataset}: {len(df)} rows, official MatBench folds "
        f"{sorted(set(args.folds or df.test_fold))}, test {metric}",
        flush=True,
    )
    folds = args.folds or sorted(int(k) for k in np.unique(df["test_fold"]))
    bar = tqdm(total=len(folds), desc="folds", unit="fold", disable=args.quiet)

    def report(res) -> None:
        bar.update(1)
        bar.write(
            f"fold {res.fold}: {metric} = {res.score:.4f}  "
            f"(train {res.n_train}, test {res.n_test}, {res.fit_seconds:.1f} s)"
        )

    results = run_matbench_folds(model, df, classification, folds=folds, callback=report)
    bar.close()
    scores = np.array([r.score for r in results])
    print(f"mean {metric} = {scores.mean():.4f} +/- {scores.std():.4f} over {len(scores)} folds")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "dataset": args.dataset,
                    "model": args.model,
                    "params": params,
                    "metric": metric,
                    "folds": [r.as_dict() for r in results],
                    "mean": float(scores.mean()),
                    "std": float(scores.std()),
                },
                indent=1,
            )
        )
    if args.save:
        final = make_model(args.model, classification=classification, **params)
        final.fit(df["composition"].to_numpy(), df["target"].to_numpy())
        joblib.dump(final, args.save)
        print(f"saved a model fitted on all {len(df)} rows to {args.save}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import joblib
    import pandas as pd

    model = joblib.load(args.model)
    if args.input:
        frame = pd.read_csv(args.input)
        materials = frame[args.column].to_numpy()
    else:
        materials = np.asarray(args.formulas, dtype=object)
        frame = pd.DataFrame({"composition": materials})
    if len(materials) == 0:
        print("nothing to predict: give formulas or --input FILE", file=sys.stderr)
        return 2
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(materials)
        classes = model.classes_
        for j, c in enumerate(classes):
            frame[f"p_{c}"] = proba[:, j]
        frame["prediction"] = classes[proba.argmax(1)]
    else:
        frame["prediction"] = model.predict(materials)
    if args.output:
        frame.to_csv(args.output, index=False)
    else:
        print(frame.to_string(index=False))
    return 0


def _parse_value(text: str) -> Any:
    """``--set`` values: JSON when it parses (numbers, true, null), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _task_names(names: list[str]) -> list[str]:
    """Expand ``all`` (the 13 MatBench tasks) and ``quick`` (the 4 quick ones); check names.

    Raises ``ValueError`` naming an unknown task before any work starts.
    """
    from .benchmark import ALL_TASKS, QUICK_TASKS
    from .datasets import task_name

    groups = {"all": ALL_TASKS, "quick": QUICK_TASKS}
    out: list[str] = []
    for name in names:
        out.extend(groups[name] if name in groups else [task_name(name)])
    return list(dict.fromkeys(out))


def _model_names(names: list[str]) -> list[str]:
    """Check benchmark model names (``make_model`` names or ``dummy``) before any work."""
    from .models import available_models

    known = ["dummy", *available_models()]
    for name in names:
        if name not in known:
            raise ValueError(f"unknown model {name!r}; choose from {known}")
    return list(names)


def _benchmark(args: argparse.Namespace) -> int:
    from .benchmark import run_benchmark

    overrides: dict[str, Any] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --set expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key] = _parse_value(value)
    try:
        models, tasks = _model_names(args.models), _task_names(args.tasks)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    protocols = list(dict.fromkeys(args.protocols))
    common = {  # what both runners take
        "models": models,
        "tasks": tasks,
        "data_dir": args.data_dir,
        "out_dir": args.out_dir,
        "docs_dir": args.docs_dir or Path(args.out_dir) / "report",
        "limit": args.limit,
        "overrides": overrides or None,
        "num_threads": args.threads,
        "progress": not args.quiet,
        "plots": not args.no_plots,
        "compute": not args.report_only,
    }
    if "matbench" in protocols:
        from .benchmark import markdown_table

        results = run_benchmark(folds=args.folds, tune=args.tune, **common)
        print(markdown_table(results), end="")
    others = [p for p in protocols if p != "matbench"]
    if others:
        from .benchmark_protocols import protocols_table, run_protocols

        results = run_protocols(
            protocols=others, n_repeats=args.repeats, sizes=args.sizes, **common
        )
        print(protocols_table(results), end="")
    return 0


def _list(args: argparse.Namespace) -> int:
    from .datasets import BUILTIN_DATASETS, MATBENCH_TASKS
    from .models import available_models

    print("models:           " + ", ".join(available_models()))
    print("built-in data:    " + ", ".join(BUILTIN_DATASETS))
    print("MatBench tasks:   " + ", ".join(MATBENCH_TASKS))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skatomsets`` command."""
    p = argparse.ArgumentParser(prog="skatomsets", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="MatBench 5-fold protocol on a dataset, then save a model")
    t.add_argument("dataset", help="e.g. matbench_steels (see `skatomsets list`)")
    t.add_argument("--model", default="atomsets-v0", help="model name (default atomsets-v0)")
    t.add_argument("--data-dir", default=None, help="folder of matbench_<task>.csv.gz files")
    t.add_argument("--download", action="store_true", help="allow fetching MatBench online")
    t.add_argument(
        "--max-epochs", type=int, default=None, help="default: the benchmark configuration"
    )
    t.add_argument("--patience", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--loss", choices=["mse", "mae", "huber"], default=None)
    t.add_argument("--n-ensemble", type=int, default=None)
    t.add_argument("--random-state", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.add_argument("--folds", type=int, nargs="*", default=None, help="subset of folds")
    t.add_argument("--limit", type=int, default=None, help="use only the first N rows")
    t.add_argument("--json", default=None, help="write per-fold results to this JSON file")
    t.add_argument("--save", default=None, help="refit on all rows and joblib.dump here")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: fastest for small sets, safe on busy machines)",
    )
    t.set_defaults(func=_train)

    q = sub.add_parser("predict", help="predict formulas with a saved model")
    q.add_argument("model", help="a .joblib file written by `skatomsets train --save`")
    q.add_argument("formulas", nargs="*", help="formulas, e.g. Fe2O3 NaCl")
    q.add_argument("--input", default=None, help="CSV file with a column of formulas")
    q.add_argument("--column", default="composition")
    q.add_argument("--output", default=None, help="write a CSV here instead of printing")
    q.set_defaults(func=_predict)

    from .benchmark import DEFAULT_MODELS, DEFAULT_TASKS

    b = sub.add_parser(
        "benchmark", help="models x MatBench tasks on the official folds (resumable)"
    )
    b.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    b.add_argument(
        "--tasks",
        nargs="+",
        default=list(DEFAULT_TASKS),
        help="MatBench task names, 'all' (13 tasks) or 'quick' (default: the 4 quick ones)",
    )
    b.add_argument(
        "--protocols",
        nargs="+",
        default=["matbench"],
        choices=["matbench", "random", "convergence", "extrapolation"],
        help="matbench (official 5 folds, default), random 90/10 repeats, convergence "
        "(training sizes), extrapolation (top 10%% targets held out)",
    )
    b.add_argument("--repeats", type=int, default=5, help="repeats of random / convergence")
    b.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100, 200, 400, 600, 1000, 2000],
        help="training-set sizes of the convergence protocol",
    )
    b.add_argument("--data-dir", default=None, help="folder of matbench_<task>.csv.gz files")
    b.add_argument(
        "--out-dir",
        required=True,
        help="folder for the per-fold JSON files (resume state); required: the benchmark "
        "writes nothing where it is not told to",
    )
    b.add_argument(
        "--docs-dir",
        default=None,
        help="results JSON, tables and plots (default: OUT_DIR/report)",
    )
    b.add_argument("--folds", type=int, nargs="*", default=None, help="subset of folds")
    b.add_argument("--limit", type=int, default=None, help="use only the first N rows")
    b.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="estimator parameter for every neural model, applied last (repeatable)",
    )
    b.add_argument(
        "--tune", action="store_true", help="choose among CANDIDATES on fold 0's training part"
    )
    b.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    b.add_argument("--no-plots", action="store_true")
    b.add_argument(
        "--report-only", action="store_true", help="fit nothing; report the finished folds"
    )
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_benchmark)

    a = sub.add_parser("list", help="list models and datasets")
    a.set_defaults(func=_list)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skatomsets`` command."""
    from .exceptions import SkatomsetsInputError

    args = build_parser().parse_args(argv)
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    try:
        return args.func(args)
    except (SkatomsetsInputError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
