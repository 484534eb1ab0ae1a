"""Command line: ``skatomsets train``, ``predict``, ``list``, ``benchmark``.

``train DATA`` has two routes, chosen by what DATA is:

- a MatBench task name (``matbench_steels`` or ``steels``): the MatBench official 5-fold
  protocol (:func:`skatomsets.protocols.run_matbench_folds`) for one model with the
  estimators' defaults (what the benchmark runs too; overridable by options), per-fold and
  mean test MAE / ROC-AUC, and optionally (``--save``) a model refitted on all rows;
- an existing file or folder: **your own data**. A CSV / TSV / parquet table with a materials
  column (formulas: a column named ``composition`` or ``formula``; structures: ``structure``
  or ``cif``, holding CIF text or structure-file paths relative to the table; or name it
  with ``--formula-column`` / ``--structure-column``) and a target column (``--target``;
  default ``target`` or the only other column); or a folder of structure files (``.cif``,
  POSCAR*, CONTCAR*, ``.vasp``) with ``--targets TABLE`` (a column naming each file, by name
  or name without ending, and a target column). The task is ``--task auto`` by default: bool
  or text targets and integer targets with at most 10 distinct values are classification,
  anything else regression (the choice is printed). The model is
  ``make_model(--model, classification=..., random_state=--random-state)`` with only the
  estimator options given on the command line (``--max-epochs``...). It is evaluated by
  shuffled 5-fold cross-validation (``KFold``; ``StratifiedKFold`` for classification;
  ``--cv K``, ``--cv 0`` for none; ``--random-state``), printing per-fold and mean test
  MAE / ROC-AUC (one-vs-rest macro for more than two classes), then refitted on all rows
  for ``--save``.

A model that needs crystal structures (``atomsets-v1``..``v3``, ``mlp-u1``..``u3``,
``mlp-f``, ``mlp-v_r``; see ``skatomsets list``) given data with only formulas is refused
before any work.

``predict MODEL INPUT...`` loads a saved model and predicts formulas, structure files,
folders of structure files, or one table (its materials column found by name or given
with ``--column``). It prints (or writes with ``--output``) one row per material: the
input (for a table: its columns), ``prediction``, ``std`` (the ensemble standard deviation,
when the model has ``n_ensemble >= 2``), for classifiers ``p_<class>`` (and
``p_<class>_std`` where the classifier gives it), and ``domain_score`` /
``out_of_domain``: the distance to the training materials in the network's last hidden
layer (1 = a typical training material) and whether it exceeds the model's threshold (the
99th percentile of the training materials' own scores; see
:mod:`skatomsets.uncertainty`). A line on stderr says how many materials are out of domain.

``list`` prints one line per ready model (inputs, paper row, what it is) and the datasets.
``benchmark`` runs several models x MatBench tasks on the official folds, resumably, and
writes a results JSON, a Markdown table and parity plots (:mod:`skatomsets.benchmarks`,
imported only by this subcommand).

The folds and the final refit are independent fits of clones of one model, so ``train``
runs them in ``--n-jobs`` processes at once (default: one per CPU core for composition
models, one process for structure models, whose parent features are computed once and
cached in that process); every fit starts from the same seed either way, so the printed
scores and the saved model do not depend on ``--n-jobs``.

Long steps show progress on stderr (folds, epochs of every network when one process
trains, the final refit, reading many structure files); ``--quiet`` hides it. Bad
arguments or bad data end with one line ``skatomsets: error: ...`` and exit code 2, never
a traceback (``--debug`` re-raises).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]


def _train(args: argparse.Namespace) -> int:
    from .datasets import is_classification, load_matbench
    from .models import make_model
    from .protocols import matbench_fold_jobs

    _n_jobs(args)  # a bad --n-jobs or model name: an error before any work
    data = Path(args.dataset)
    if data.exists():
        return _train_own(args, data)
    _check_matbench_args(args)
    df = load_matbench(args.dataset, data_dir=args.data_dir, download=args.download)
    if args.limit:
        df = df.iloc[: args.limit]
    classification = is_classification(args.dataset)
    # the estimators' defaults (the benchmark's too), then what the command line says
    params: dict[str, Any] = {"random_state": args.random_state}
    given = {
        "max_epochs": args.max_epochs,
        "patience": args.patience,
        "n_ensemble": args.n_ensemble,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "loss": None if classification else args.loss,
    }
    params.update({k: v for k, v in given.items() if v is not None})
    params.update(device=args.device)
    model = make_model(args.model, classification=classification, **params)
    metric = "ROC-AUC" if classification else "MAE"
    print(
        f"{args.model} on {args.dataset}: {len(df)} rows, official MatBench folds "
        f"{sorted(set(args.folds or df.test_fold))}, test {metric}",
        flush=True,
    )
    folds = args.folds or sorted(int(k) for k in np.unique(df["test_fold"]))
    jobs = matbench_fold_jobs(model, df, classification, folds=folds)
    X, y = df["composition"].to_numpy(), df["target"].to_numpy()
    results, final = _run_folds_and_refit(jobs, model, X, y, args, metric)
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
        _save(final, len(y), args)
    return 0


def _check_matbench_args(args: argparse.Namespace) -> None:
    """A MatBench task name and a composition model, checked before any work."""
    from .datasets import task_name
    from .models import composition_models, model_info

    if Path(args.dataset).suffix or "/" in args.dataset or "\\" in args.dataset:
        raise FileNotFoundError(
            f"no such file or folder: {args.dataset} (DATA is a MatBench task name, or an "
            "existing CSV / TSV / parquet file, or a folder of structure files)"
        )
    try:
        task = task_name(args.dataset)
    except ValueError:
        raise ValueError(
            f"{args.dataset!r} is neither an existing file or folder nor a MatBench task "
            "(see `skatomsets list`)"
        ) from None
    own = [
        k for k in ("target", "formula_column", "structure_column", "targets") if getattr(args, k)
    ]
    if own:
        raise ValueError(
            f"--{own[0].replace('_', '-')} is for your own data (a file or folder), not for "
            f"the MatBench task {task}"
        )
    if model_info(args.model).inputs == "structure":
        raise ValueError(
            f"model {args.model!r} needs crystal structures, but the MatBench data of {task} "
            f"here are formulas; use a composition model ({', '.join(composition_models())}) "
            f"or your own structures: skatomsets train FOLDER --targets TABLE --model "
            f"{args.model}"
        )


def _own_params(args: argparse.Namespace, classification: bool) -> dict[str, Any]:
    """Only the estimator options given on the command line (the rest: estimator defaults)."""
    given = {
        "max_epochs": args.max_epochs,
        "patience": args.patience,
        "n_ensemble": args.n_ensemble,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "loss": None if classification else args.loss,
        "device": None if args.device == "auto" else args.device,
    }
    return {k: v for k, v in given.items() if v is not None}


def _n_jobs(args: argparse.Namespace) -> int | None:
    """``--n-jobs``, or its default: every CPU for composition models, one process for
    structure models (their parent features are cached in this process, not shared)."""
    from .models import model_info

    if args.n_jobs == 0:
        raise ValueError("--n-jobs must be a non-zero integer (-1: one process per CPU), got 0")
    if args.n_jobs is not None:
        return args.n_jobs
    return 1 if model_info(args.model).inputs == "structure" else -1


def _run_folds_and_refit(
    fold_jobs: list, model: Any, X: Any, y: Any, args: argparse.Namespace, metric: str
) -> tuple[list, Any]:
    """Run the fold jobs and, with ``--save``, the refit on all rows (a clone of ``model``),
    in ``--n-jobs`` processes; print each fold as it ends. Returns the fold results in fold
    order and the refitted model (``None`` without ``--save``)."""
    from tqdm.auto import tqdm

    from .protocols import effective_n_jobs, fit_all, run_jobs

    jobs = list(fold_jobs)
    if args.save:
        jobs.append((fit_all, (model, X, y), {}))
    n = effective_n_jobs(_n_jobs(args), len(jobs))
    progress = not args.quiet and n == 1  # epoch bars only when one process trains
    jobs = [(func, a, {**kw, "progress": progress}) for func, a, kw in jobs]
    if n > 1:
        what = [f"{len(fold_jobs)} folds"] if fold_jobs else []
        what += [f"the refit on all {len(y)} rows for {args.save}"] if args.save else []
        print(f"running {' and '.join(what)} in {n} processes at once (--n-jobs)", flush=True)
    elif args.save:
        then = " after the folds" if fold_jobs else ""
        print(f"refitting on all {len(y)} rows for {args.save}{then}", flush=True)
    bar = tqdm(total=len(fold_jobs), desc="folds", unit="fold", disable=args.quiet or not fold_jobs)

    def report(i: int, res: Any) -> None:
        if i < len(fold_jobs):
            bar.update(1)
            bar.write(
                f"fold {res.fold}: {metric} = {res.score:.4f}  "
                f"(train {res.n_train}, test {res.n_test}, {res.fit_seconds:.1f} s)"
            )
        else:
            bar.write(f"refitted on all {len(y)} rows ({res[1]:.1f} s)")

    results = run_jobs(jobs, n, report)
    bar.close()
    final = results[-1][0] if args.save else None
    return results[: len(fold_jobs)], final


def _save(final: Any, n_rows: int, args: argparse.Namespace) -> None:
    """``joblib.dump`` the refitted model to ``--save``."""
    import joblib

    joblib.dump(final, args.save)
    print(f"saved a model fitted on all {n_rows} rows to {args.save}")


@contextlib.contextmanager
def _rows_named(labels: list[str] | None):
    """Re-raise an input error of row ``i`` naming ``labels[i]`` too (a structure file)."""
    from .exceptions import SkatomsetsInputError

    if labels is None:
        yield
        return
    try:
        yield
    except SkatomsetsInputError as exc:
        if exc.row is None or not 0 <= exc.row < len(labels):
            raise
        msg = str(exc).removeprefix(f"row {exc.row}: ")
        err = type(exc)(msg, exc.row)
        err.args = (f"row {exc.row} ({labels[exc.row]}): {msg}",)
        raise err from None


def _featurize_all(model: Any, X: Any, labels: list[str] | None, quiet: bool) -> None:
    """Featurize every row once before any fit: errors name the data row (and file), and
    MEGNet features land in the in-memory cache that the folds and the refit then reuse."""
    import time

    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        return
    t0 = time.perf_counter()
    featurizer = clone(model.steps[0][1])
    if not quiet and "progress" in featurizer.get_params():
        featurizer.set_params(progress=True)
    with _rows_named(labels):
        featurizer.fit_transform(X)
    if not quiet:
        print(f"featurized {len(X)} rows in {time.perf_counter() - t0:.1f} s", flush=True)


def _train_own(args: argparse.Namespace, data: Path) -> int:
    """``train`` on the user's own table or structure folder (see the module docstring)."""
    from ._cli_data import check_classes, cv_fold_jobs, infer_task, load_training_data
    from .models import composition_models, make_model, model_info

    need = model_info(args.model).inputs == "structure"  # unknown model: error before work
    if args.cv != 0 and args.cv < 2:
        raise ValueError(f"--cv must be 0 (no evaluation) or at least 2, got {args.cv}")
    if args.cv == 0 and not args.save:
        raise ValueError("--cv 0 evaluates nothing: give --save FILE to fit and save a model")
    mats = load_training_data(
        data,
        target=args.target,
        formula_column=args.formula_column,
        structure_column=args.structure_column,
        targets=Path(args.targets) if args.targets else None,
        file_column=args.file_column,
        need_structures=need,
        progress=not args.quiet,
    )
    if need and mats.kind != "structure":
        raise ValueError(
            f"model {args.model!r} needs crystal structures, but {mats.source} holds formulas; "
            "give a structure column (CIF text or structure-file paths, --structure-column) "
            "or a folder of CIF files with --targets, or use a composition model "
            f"({', '.join(composition_models())})"
        )
    X, y = mats.X, mats.y
    if args.limit:
        X, y = X[: args.limit], y[: args.limit]
    classification, y, reason = infer_task(y, args.task, mats.target_name)
    if args.cv and len(y) < args.cv:
        raise ValueError(f"{len(y)} rows are too few for {args.cv}-fold cross-validation")
    if classification:
        check_classes(y, args.cv)
    params = _own_params(args, classification)
    model = make_model(
        args.model, classification=classification, random_state=args.random_state, **params
    )
    metric = "ROC-AUC" if classification else "MAE"
    print(f"{args.model} on {mats.source}: {len(y)} rows ({mats.kind}s)", flush=True)
    for note in mats.notes:
        print(note)
    task = "classification" if classification else "regression"
    print(f"task: {task} ({reason}; --task to override)")
    if params:
        print("estimator options: " + ", ".join(f"{k}={v}" for k, v in params.items()))
    labels = mats.labels[: len(y)] if mats.kind == "structure" else None
    _featurize_all(model, X, labels, args.quiet)
    fold_jobs = []
    if args.cv:
        cv_name = "StratifiedKFold" if classification else "KFold"
        folds = args.folds if args.folds else list(range(args.cv))
        bad = [k for k in folds if not 0 <= k < args.cv]
        if bad:
            raise ValueError(f"--folds {bad[0]} is not one of 0..{args.cv - 1}")
        print(
            f"{args.cv}-fold {cv_name} (shuffle, random_state={args.random_state}), test {metric}",
            flush=True,
        )
        fold_jobs = cv_fold_jobs(
            model, X, y, classification, args.cv, args.random_state, folds=folds
        )
    results, final = _run_folds_and_refit(fold_jobs, model, X, y, args, metric)
    if results:
        scores = np.array([r.score for r in results])
        print(
            f"mean {metric} = {scores.mean():.4f} +/- {scores.std():.4f} over {len(scores)} folds"
        )
    if args.json:
        scores = np.array([r.score for r in results]) if results else np.zeros(0)
        Path(args.json).write_text(
            json.dumps(
                {
                    "data": str(data),
                    "model": args.model,
                    "task": task,
                    "target": mats.target_name,
                    "params": params,
                    "metric": metric,
                    "cv": {"n_splits": args.cv, "shuffle": True, "random_state": args.random_state},
                    "folds": [r.as_dict() for r in results],
                    "mean": float(scores.mean()) if len(scores) else None,
                    "std": float(scores.std()) if len(scores) else None,
                },
                indent=1,
                default=str,
            )
        )
    if args.save:
        _save(final, len(y), args)
    return 0


def _load_saved_model(path: str) -> Any:
    import joblib

    if not Path(path).is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    try:
        model = joblib.load(path)
    except Exception as exc:
        raise ValueError(
            f"{path} is not a model saved by `skatomsets train --save`: {exc}"
        ) from None
    if not hasattr(model, "predict"):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a model")
    return model


def _prediction_frame(model: Any, X: Any) -> Any:
    """prediction, std (ensembles), p_<class> (and p_<class>_std) for the materials ``X``."""
    import pandas as pd
    from sklearn.pipeline import Pipeline

    final = model
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        X, final = model[:-1].transform(X), model[-1]
    out = pd.DataFrame(index=range(len(X)))
    if hasattr(final, "predict_proba"):
        proba_std = None
        try:
            proba, proba_std = final.predict_proba(X, return_std=True)
        except (TypeError, ValueError):  # no return_std, or a single network
            proba = final.predict_proba(X)
        classes = final.classes_
        out["prediction"] = classes[np.asarray(proba).argmax(axis=1)]
        for j, c in enumerate(classes):
            out[f"p_{c}"] = proba[:, j]
            if proba_std is not None:
                out[f"p_{c}_std"] = proba_std[:, j]
        return _with_domain(out, final, X)
    n_members = len(getattr(final, "nets_", []))
    if n_members >= 2:
        pred, std = final.predict(X, return_std=True)
    else:
        pred, std = final.predict(X), None
    if np.ndim(pred) == 2:
        for j in range(pred.shape[1]):
            out[f"prediction_{j}"] = pred[:, j]
            if std is not None:
                out[f"std_{j}"] = std[:, j]
        return out
    out["prediction"] = pred
    if std is not None:
        out["std"] = std
    return _with_domain(out, final, X)


def _with_domain(out: Any, final: Any, X: Any) -> Any:
    """Add ``domain_score`` and ``out_of_domain`` (models that have a fitted domain)."""
    if not hasattr(final, "domain_threshold_"):
        return out
    score = final.domain_score(X)
    out["domain_score"] = score
    out["out_of_domain"] = score > final.domain_threshold_
    n_far = int(out["out_of_domain"].sum())
    if n_far:
        print(
            f"warning: {n_far} of {len(out)} materials are far from the training data "
            f"(domain_score > {final.domain_threshold_:.3g}): their predictions are "
            "extrapolations",
            file=sys.stderr,
        )
    return out


def _predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from ._cli_data import prediction_inputs
    from .models import needs_structures

    model = _load_saved_model(args.model)
    inputs = list(args.inputs) + ([args.input] if args.input else [])
    if not inputs:
        raise ValueError(
            "nothing to predict: give formulas, structure files, a folder of them, or a table"
        )
    need = needs_structures(model)
    mats = prediction_inputs(inputs, args.column, need, progress=not args.quiet)
    if need and mats.kind != "structure":
        raise ValueError(
            f"this model needs crystal structures, but {mats.source} holds formulas; give "
            "a structure column (--column), CIF / POSCAR files or a folder of them"
        )
    if len(mats.X) == 0:
        raise ValueError(f"nothing to predict: {mats.source} has no rows")
    with _rows_named(mats.labels if mats.kind == "structure" else None):
        preds = _prediction_frame(model, mats.X)
    if mats.frame is not None:
        base = mats.frame.reset_index(drop=True).copy()
        if mats.kind == "structure":  # CIF text would fill the screen: file name or formula
            base[mats.column] = mats.labels
    else:
        base = pd.DataFrame({"input": mats.labels})
    frame = pd.concat([base, preds.drop(columns=[c for c in preds if c in base])], axis=1)
    if args.output:
        frame.to_csv(args.output, index=False)
        print(f"wrote {len(frame)} predictions to {args.output}")
    else:
        print(frame.to_string(index=False))
    return 0


def _parse_value(text: str) -> Any:
    """``--set`` values: JSON when it parses (numbers, true, null), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _task_names(names: list[str], groups: dict[str, tuple[str, ...]]) -> list[str]:
    """Expand group names (``all``: the 13 MatBench tasks, ``quick``: the 4 quick ones) and
    check the task names.

    Raises ``ValueError`` naming an unknown task before any work starts.
    """
    from .datasets import task_name

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
    # the only place the library imports the benchmarks subpackage (lazily, when it runs)
    from .benchmarks.config import CONVERGENCE_SIZES, DEFAULT_MODELS, DEFAULT_TASKS, TASK_GROUPS
    from .benchmarks.matbench import run_benchmark
    from .benchmarks.protocols import run_protocols
    from .benchmarks.reporting import markdown_table, protocols_table

    overrides: dict[str, Any] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --set expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key] = _parse_value(value)
    try:
        models = _model_names(args.models or list(DEFAULT_MODELS))
        tasks = _task_names(args.tasks or list(DEFAULT_TASKS), TASK_GROUPS)
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
        results = run_benchmark(folds=args.folds, tune=args.tune, **common)
        print(markdown_table(results), end="")
    others = [p for p in protocols if p != "matbench"]
    if others:
        sizes = args.sizes or list(CONVERGENCE_SIZES)
        results = run_protocols(protocols=others, n_repeats=args.repeats, sizes=sizes, **common)
        print(protocols_table(results), end="")
    return 0


def _list(args: argparse.Namespace) -> int:
    from .datasets import BUILTIN_DATASETS, MATBENCH_TASKS
    from .models import MODEL_CATALOGUE, available_models, model_info

    names = [*MODEL_CATALOGUE, *(n for n in available_models() if n not in MODEL_CATALOGUE)]
    infos = [model_info(n) for n in names]
    w = max(len(i.name) for i in infos)
    wr = max(len(i.paper_row) for i in infos)
    print("models (name, inputs, paper row, what it is):")
    for i in infos:
        print(f"  {i.name:<{w}}  {i.inputs:<11}  {i.paper_row:<{wr}}  {i.description}")
    print(
        "inputs: composition = formulas (also structures, reduced to their composition); "
        "structure = CIF / POSCAR files, a folder of them, or a table column of CIF text "
        "or file paths"
    )
    print("built-in data:    " + ", ".join(BUILTIN_DATASETS))
    print("MatBench tasks:   " + ", ".join(MATBENCH_TASKS))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skatomsets`` command."""
    p = argparse.ArgumentParser(prog="skatomsets", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error instead of one line",
    )
    p.add_argument("--debug", action="store_true", help="full tracebacks instead of one line")

    t = sub.add_parser(
        "train",
        parents=[debug],
        help="cross-validate a model on a MatBench task or your own data, then save it",
        description="Evaluate a model (MatBench task: official folds; your own table or "
        "structure folder: shuffled 5-fold CV) and optionally save it refitted on all rows.",
    )
    t.add_argument(
        "dataset",
        metavar="DATA",
        help="a MatBench task (matbench_steels, steels; see `skatomsets list`), or your own "
        "data: a CSV / TSV / parquet file with a formula or structure column, or a folder "
        "of structure files (.cif, POSCAR*, .vasp) with --targets",
    )
    t.add_argument(
        "--model",
        default="atomsets-v0",
        help="model name (default atomsets-v0; `skatomsets list` says which need structures)",
    )
    own = t.add_argument_group("your own data")
    own.add_argument(
        "--target", default=None, help="target column (default: 'target' or the only other column)"
    )
    own.add_argument(
        "--formula-column",
        default=None,
        help="column of formulas (default: named composition or formula)",
    )
    own.add_argument(
        "--structure-column",
        default=None,
        help="column of structures: CIF text or file paths relative to the table (default: "
        "named structure or cif)",
    )
    own.add_argument(
        "--targets", default=None, help="for a folder of structure files: the table of targets"
    )
    own.add_argument(
        "--file-column",
        default=None,
        help="column of --targets naming each file (default: the column that does)",
    )
    own.add_argument(
        "--task",
        choices=["auto", "regression", "classification"],
        default="auto",
        help="auto (default): bool / text targets and integer targets with <= 10 distinct "
        "values are classification",
    )
    own.add_argument(
        "--cv",
        type=int,
        default=5,
        help="folds of the shuffled (Stratified)KFold (default 5; 0: no evaluation, only --save)",
    )
    t.add_argument("--data-dir", default=None, help="folder of matbench_<task>.csv.gz files")
    t.add_argument("--download", action="store_true", help="allow fetching MatBench online")
    t.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="default: the estimator's default (MatBench task or your own data); same for "
        "the options below",
    )
    t.add_argument("--patience", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--loss", choices=["mse", "mae", "huber"], default=None)
    t.add_argument("--n-ensemble", type=int, default=None)
    t.add_argument(
        "--random-state", type=int, default=0, help="seed of the networks and of the CV folds"
    )
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
    t.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="fit the folds and the refit in this many processes at once (-1: one per CPU; "
        "default: -1 for composition models, 1 for structure models, whose parent features "
        "are cached in one process); the results do not depend on it",
    )
    t.set_defaults(func=_train)

    q = sub.add_parser(
        "predict",
        parents=[debug],
        help="predict formulas, structure files or a table with a saved model",
        description="Predict with a model saved by `skatomsets train --save`: prints "
        "prediction, std (ensembles) and p_<class> (classifiers) per material.",
    )
    q.add_argument("model", help="a .joblib file written by `skatomsets train --save`")
    q.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="formulas (Fe2O3 NaCl), structure files (.cif, POSCAR*, .vasp), folders of "
        "them, or one CSV / TSV / parquet table",
    )
    q.add_argument("--input", default=None, help="a table (same as giving it as INPUT)")
    q.add_argument(
        "--column",
        default=None,
        help="materials column of the table (default: named composition/formula or structure/cif)",
    )
    q.add_argument("--output", default=None, help="write a CSV here instead of printing")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=_predict)

    b = sub.add_parser(
        "benchmark", help="models x MatBench tasks on the official folds (resumable)"
    )
    b.add_argument(
        "--models",
        nargs="+",
        default=None,
        help="model names or dummy (default: dummy atomsets atomsets-v0 mlp-v0-stats)",
    )
    b.add_argument(
        "--tasks",
        nargs="+",
        default=None,
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
        default=None,
        help="training-set sizes of the convergence protocol (default: the paper's "
        "100 200 400 600 1000 2000)",
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

    a = sub.add_parser("list", help="list the ready models (inputs, paper row) and datasets")
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
    except BrokenPipeError:
        # the reader went away (``skatomsets list | head``): stop quietly, as Unix tools do;
        # stdout is pointed at devnull so that Python's exit flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (SkatomsetsInputError, FileNotFoundError, ValueError) as exc:
        if getattr(args, "debug", False):
            raise
        message = " ".join(str(exc).split())  # one line, whatever the message
        print(f"skatomsets: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
