"""Command line: ``skatomsets train``, ``predict``, ``list``, ``benchmark``.

``train DATA`` has two routes, chosen by what DATA is:

- a MatBench task name (``matbench_steels`` or ``steels``): the MatBench official 5-fold
  protocol (:func:`skatomsets.protocols.matbench_fold_jobs`) for one model with the
  estimators' defaults (what the benchmark runs too; overridable by options), per-fold and
  mean test MAE / ROC-AUC, and optionally (``--save``) a model refitted on all rows;
- an existing file or folder: **your own data** (:mod:`skatomsets.io.tables`). A CSV / TSV /
  parquet table with a materials column (formulas: a column named ``composition`` or
  ``formula``; structures: ``structure`` or ``cif``, holding CIF text or structure-file
  paths relative to the table; or name it with ``--formula-column`` /
  ``--structure-column``) and a target column (``--target``; default ``target`` or the only
  other column), optionally extra numeric inputs (``--features T,P``; the numeric columns
  left out are named); or a folder of structure files (``.cif``, POSCAR*, CONTCAR*,
  ``.vasp``) with ``--targets TABLE`` (a column naming each file, by name or name without
  ending, and a target column). The task is ``--task auto`` by default: True/False or text
  targets and integer targets with exactly 2 values are classification, anything else
  regression (the choice and its reason are printed). The model is
  ``make_model(--model, classification=..., random_state=--random-state)`` with only the
  estimator options given on the command line (``--max-epochs``...). It is evaluated by
  shuffled 5-fold cross-validation (``KFold``; ``StratifiedKFold`` for classification;
  ``--cv K``, ``--cv 0`` for none; ``--random-state``), printing per-fold and mean test
  MAE / ROC-AUC (one-vs-rest macro for more than two classes), then refitted on all rows
  for ``--save``. ``--predictions FILE`` writes the out-of-fold predictions (one row per
  input row: fold, prediction, std, domain score), ``--plot FILE`` their parity plot.

Every row is checked before any training (materials, targets, extra inputs, and the
model's featurizer on every material); all bad rows are reported at once, as
``file:line, column 'c': problem`` (lines as an editor counts them), or left out with
``--drop-invalid``. Every option and output path is checked before any work too.

A model that needs crystal structures (``atomsets-v1``..``v3``, ``mlp-u1``..``u3``,
``mlp-f``, ``mlp-v_r``; see ``skatomsets list``) given data with only formulas is refused
before any work.

``predict MODEL INPUT...`` loads a saved model and predicts formulas, structure files,
folders of structure files, or one table (its materials column found by name or given
with ``--column``; a model trained with ``--features`` reads the same columns). It prints
(or writes with ``--output``) one row per material: the input (for a table: its columns;
columns named like the model's outputs are replaced, with a note), ``prediction``, ``std``
(the ensemble standard deviation, when the model has ``n_ensemble >= 2``), for classifiers
``p_<class>`` (and ``p_<class>_std``), and ``domain_score`` / ``out_of_domain`` (see
:func:`skatomsets.uncertainty.prediction_frame`). A row that cannot be predicted keeps an
empty prediction and says why in an ``error`` column; the command then says how many
failed and exits with status 1.

``list`` prints one line per ready model (inputs, paper row, what it is) and the datasets.
``benchmark`` runs several models x MatBench tasks on the official folds, resumably, and
writes a results JSON, a Markdown table and parity plots (:mod:`skatomsets.benchmarks`,
imported only by this subcommand).

The folds and the final refit are independent fits of clones of one model, so ``train``
runs them in ``--n-jobs`` processes at once (default: one per CPU core for composition
models, one process for structure models, whose parent features are computed once and
cached in that process); every fit starts from the same seed either way, so the printed
scores and the saved model do not depend on ``--n-jobs``.

Long steps show progress on stderr (featurizing, reading many structure files, the folds
and the refit with the time elapsed and, once a fit has ended, the time left; the epochs of
every network: one bar per network when one process trains, and with several processes the
epoch of every running fit beside the folds' bar, e.g. ``fold 2, networks 1-5: epoch
412/1500``); ``--quiet`` hides it. Files are written atomically (a temporary file in the same
folder, then renamed): a failed or interrupted command leaves existing files as they were.

Exit status: 0 done; 1 some rows could not be predicted (the rest are written) or a file
could not be written; 2 a bad argument or bad data (one line ``skatomsets: error: ...``,
or the list of bad rows; never a traceback, ``--debug`` re-raises); 130 interrupted
(Ctrl-C: nothing is written).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MODEL", "build_parser", "main"]

#: The model ``skatomsets train`` fits when ``--model`` is not given.
DEFAULT_MODEL = "auto"
#: Exit statuses (see the module docstring).
EXIT_FAILED_ROWS = 1
EXIT_WRITE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
#: Seconds between updates of the parallel folds' bar on a terminal, and in a log file.
TICK_SECONDS = (1.0, 30.0)


# ----------------------------------------------------------------------------- interrupts
class _Interrupted:
    """Ctrl-C seen: the estimators catch it inside ``fit`` (and keep a usable model), so
    the command remembers it and stops before anything is written."""

    hit = False


def _on_sigint(signum: int, frame: Any) -> None:
    import warnings

    _Interrupted.hit = True
    # the estimators' "training interrupted in epoch k" warning: the command is stopping
    warnings.filterwarnings("ignore", message="training interrupted")
    raise KeyboardInterrupt


def _stop_if_interrupted() -> None:
    if _Interrupted.hit:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _catching_interrupts() -> Iterator[None]:
    import signal
    import warnings

    _Interrupted.hit = False
    try:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        with warnings.catch_warnings():
            yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------------------- output files
@contextlib.contextmanager
def _writing(path: str) -> Iterator[Path]:
    """A temporary path that replaces ``path`` once written (nothing after Ctrl-C)."""
    from .io.files import atomic_path

    _stop_if_interrupted()
    try:
        with atomic_path(path) as tmp:
            yield tmp
            _stop_if_interrupted()
    except OSError as exc:
        from .exceptions import OutputWriteError

        raise OutputWriteError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_text(path: str, text: str) -> None:
    with _writing(path) as tmp:
        tmp.write_text(text)


def _check_output(path: str | None, option: str) -> None:
    """An output path that can be written, checked before any work."""
    if path is None:
        return
    if not path:
        raise ValueError(f"{option} needs a file name")
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file name")
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option} {path}: the folder {folder} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise ValueError(f"{option} {path} exists and is not writable")


def _check_outputs(pairs: list[tuple[str | None, str]]) -> None:
    for path, option in pairs:
        _check_output(path, option)
    given = [(Path(p).resolve(), o) for p, o in pairs if p]
    for i, (p, o) in enumerate(given):
        for q, o2 in given[:i]:
            if p == q:
                raise ValueError(f"{o2} and {o} name the same file {p}")


# ------------------------------------------------------------------------------- checks
_POSITIVE = ("max_epochs", "patience", "batch_size", "n_ensemble", "threads", "limit")


def _check_numbers(args: argparse.Namespace) -> None:
    """Every numeric option, checked before any work (one line, exit status 2)."""
    for name in _POSITIVE:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    lr = getattr(args, "lr", None)
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"--lr must be a positive number, got {lr}")
    if getattr(args, "n_jobs", None) == 0:
        raise ValueError("--n-jobs must be a non-zero integer (-1: one process per CPU), got 0")
    cv = getattr(args, "cv", None)
    if cv is not None and cv != 0 and cv < 2:
        raise ValueError(f"--cv must be 0 (no evaluation) or at least 2, got {cv}")


def _set_threads(args: argparse.Namespace) -> None:
    """``--threads`` torch threads (after every check: importing torch takes seconds)."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


def _n_jobs(args: argparse.Namespace) -> int | None:
    """``--n-jobs``, or its default: every CPU for composition models, one process for
    structure models (their parent features are cached in this process, not shared)."""
    from .models import model_info

    if args.n_jobs == 0:
        raise ValueError("--n-jobs must be a non-zero integer (-1: one process per CPU), got 0")
    if args.n_jobs is not None:
        return args.n_jobs
    return 1 if model_info(args.model).inputs == "structure" else -1  # auto: per CPU


def _features(args: argparse.Namespace) -> list[str]:
    if not args.features:
        return []
    names = [n.strip() for n in args.features.split(",")]
    if not all(names):
        raise ValueError(
            f"--features expects column names separated by commas, got {args.features!r}"
        )
    return names


# -------------------------------------------------------------------------------- train
def _estimator_params(args: argparse.Namespace) -> dict[str, Any]:
    """Only the estimator options given on the command line (the rest: estimator defaults;
    ``--loss`` is dropped for classifiers by :func:`skatomsets.training.job_params`)."""
    given = {
        "max_epochs": args.max_epochs,
        "patience": args.patience,
        "n_ensemble": args.n_ensemble,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "loss": args.loss,
        "device": None if args.device == "auto" else args.device,
    }
    return {k: v for k, v in given.items() if v is not None}


def _train(args: argparse.Namespace) -> int:
    _check_numbers(args)
    _check_outputs(
        [(args.save, "--save"), (args.json, "--json"), (args.predictions, "--predictions"),
         (args.plot, "--plot")]
    )  # fmt: skip
    if args.cv == 0 and not args.save:
        raise ValueError("--cv 0 evaluates nothing: give --save FILE to fit and save a model")
    if args.cv == 0 and (args.predictions or args.plot):
        raise ValueError("--predictions and --plot show the cross-validation: not with --cv 0")
    data = Path(args.dataset)
    if not data.exists():
        _check_matbench_args(args)
    n_folds = args.cv if data.exists() else 5
    bad = [k for k in args.folds or [] if not 0 <= k < n_folds]
    if bad:
        raise ValueError(f"--folds {bad[0]} is not one of 0..{n_folds - 1}")
    _n_jobs(args)  # a bad model name: an error before any work
    _set_threads(args)
    job = _job(args, data)
    for line in job.messages:
        print(line, flush=True)
    results, final = _run_job(job, args)
    if results:
        print(job.summary(results))
    if args.predictions:
        out = job.out_of_fold(results)
        with _writing(args.predictions) as tmp:
            out.to_csv(tmp, index=False)
        n_rows = int(out["fold"].notna().sum())
        print(f"wrote the out-of-fold predictions of {n_rows} rows to {args.predictions}")
    if args.plot:
        fig = job.parity_figure(results, args.model)
        with _writing(args.plot) as tmp:
            fig.savefig(tmp, format=Path(args.plot).suffix.lstrip(".") or "png", dpi=100)
        print(f"wrote the parity plot to {args.plot}")
    if args.json:
        params = {"random_state": args.random_state, **job.params}
        record = job.record(results, args.model, params)
        _write_text(args.json, json.dumps(record, indent=1, default=str))
    if args.save:
        import joblib

        with _writing(args.save) as tmp:
            joblib.dump(final, tmp)
        print(f"saved a model fitted on all {len(job.y)} rows to {args.save}")
    return 0


def _job(args: argparse.Namespace, data: Path) -> Any:
    """The training job of ``train``: a MatBench task, or the user's own data."""
    from .training import matbench_job, table_job

    params = _estimator_params(args)
    if not data.exists():
        from .datasets import is_classification

        _check_plot(args, is_classification(args.dataset))
        return matbench_job(
            args.dataset, args.model, params=params, random_state=args.random_state,
            folds=args.folds, data_dir=args.data_dir, download=args.download, limit=args.limit,
        )  # fmt: skip
    job = table_job(
        data, args.model, params=params, random_state=args.random_state, target=args.target,
        formula_column=args.formula_column, structure_column=args.structure_column,
        targets=args.targets, file_column=args.file_column, features=_features(args),
        task=args.task, cv=args.cv, folds=args.folds, drop_invalid=args.drop_invalid,
        limit=args.limit, units=args.units or "", progress=not args.quiet,
        check=lambda classification: _check_plot(args, classification),
    )  # fmt: skip
    if job.dropped:
        _print_rows(f"left out {len(job.dropped)} bad rows (--drop-invalid):", job.dropped)
    return job


def _print_rows(header: str, lines: list[str], most: int = 20) -> None:
    """A header and the first ``most`` located rows on stderr, then how many more."""
    print(header, file=sys.stderr)
    for line in lines[:most]:
        print(f"  {line}", file=sys.stderr)
    if len(lines) > most:
        print(f"  ... and {len(lines) - most} more", file=sys.stderr)


def _check_matbench_args(args: argparse.Namespace) -> None:
    """A MatBench task name and a composition model, checked before any work."""
    if Path(args.dataset).suffix or "/" in args.dataset or "\\" in args.dataset:
        raise FileNotFoundError(
            f"no such file or folder: {args.dataset} (DATA is a MatBench task name, or an "
            "existing CSV / TSV / parquet file, or a folder of structure files)"
        )
    from .datasets import task_name

    try:
        task = task_name(args.dataset)
    except ValueError:
        raise ValueError(
            f"{args.dataset!r} is neither an existing file or folder nor a MatBench task "
            "(see `skatomsets list`)"
        ) from None
    own = [
        k
        for k in ("target", "formula_column", "structure_column", "targets", "features")
        if getattr(args, k)
    ]
    if own:
        raise ValueError(
            f"--{own[0].replace('_', '-')} is for your own data (a file or folder), not for "
            f"the MatBench task {task}"
        )
    from .models import composition_models, model_info

    if model_info(args.model).inputs == "structure":
        raise ValueError(
            f"model {args.model!r} needs crystal structures, but the MatBench data of {task} "
            f"here are formulas; use a composition model ({', '.join(composition_models())}) "
            f"or your own structures: skatomsets train FOLDER --targets TABLE --model "
            f"{args.model}"
        )


def _check_plot(args: argparse.Namespace, classification: bool) -> None:
    if args.plot and classification:
        raise ValueError(
            "--plot draws a parity plot of a regression; this task is a classification"
        )


def _run_job(job: Any, args: argparse.Namespace) -> tuple[list, Any]:
    """Run the folds and, with ``--save``, the refit on all rows, in ``--n-jobs``
    processes; print each fold as it ends. Returns the fold results in fold order and the
    refitted model (``None`` without ``--save``)."""
    from .protocols import effective_n_jobs

    n_fits = len(job.fold_jobs) + bool(args.save)
    n = effective_n_jobs(_n_jobs(args), n_fits)
    unit = f" {job.unit}" if job.unit and not job.classification else ""
    if n > 1:
        what = [f"{len(job.fold_jobs)} folds"] if job.fold_jobs else []
        what += [f"the refit on all {len(job.y)} rows for {args.save}"] if args.save else []
        print(f"running {' and '.join(what)} in {n} processes at once (--n-jobs)", flush=True)
    elif args.save:
        then = " after the folds" if job.fold_jobs else ""
        print(f"refitting on all {len(job.y)} rows for {args.save}{then}", flush=True)
    fit_bar = _fit_bar(n_fits, n > 1, args.quiet, bool(args.save) and bool(job.fold_jobs))
    with fit_bar as (bar, epochs):

        def report(i: int, res: Any) -> None:
            _stop_if_interrupted()
            if i < len(job.fold_jobs):
                chose = f"; chose {' + '.join(res.chosen)}" if res.chosen else ""
                bar.write(
                    f"fold {res.fold}: {job.metric} = {res.score:.4f}{unit}  "
                    f"(train {res.n_train}, test {res.n_test}, {res.fit_seconds:.1f} s{chose})"
                )
            else:
                bar.write(f"refitted on all {len(job.y)} rows ({res[1]:.1f} s)")
            bar.update(1)

        # one process: a bar per network; several: their epochs beside the folds' bar
        progress = epochs if epochs is not None else not args.quiet
        results, final = job.run(bool(args.save), n, progress, report)
    _stop_if_interrupted()
    if final is not None and hasattr(final, "describe"):
        print(final.describe())  # what the auto model tried and chose on all rows
    return results, final


@contextlib.contextmanager
def _fit_bar(total: int, parallel: bool, quiet: bool, with_refit: bool) -> Iterator[Any]:
    """The bar over the folds (and the refit), and where parallel workers report epochs.

    Yields ``(bar, folder)``. In parallel mode the bar ticks every second (so the elapsed
    time moves), shows each running fit's epoch ("fold 2, networks 1-5: epoch 412/1500",
    from the workers' :class:`ProgressFolder`), and estimates the time left once a fit
    has ended; ``folder`` is None otherwise.
    """
    import tempfile
    import threading

    from tqdm.auto import tqdm

    from .estimators._progress import ProgressFolder

    desc = "folds + refit" if with_refit else ("folds" if total > 1 or not parallel else "fit")
    bar = tqdm(total=total, desc=desc, unit="fit", disable=quiet or (total < 2 and not parallel))
    stop = threading.Event()
    ticker = None
    with tempfile.TemporaryDirectory(prefix="skatomsets-progress-") as tmp:
        folder = ProgressFolder(tmp) if parallel and not quiet else None
        if parallel and not bar.disable:
            every = TICK_SECONDS[0] if sys.stderr.isatty() else TICK_SECONDS[1]

            def tick() -> None:
                while not stop.wait(every):
                    if folder is not None:
                        bar.set_postfix_str("; ".join(folder.lines()), refresh=False)
                    bar.refresh()

            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
        try:
            yield bar, folder
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
            bar.close()


# ------------------------------------------------------------------------------ predict
def _predict(args: argparse.Namespace) -> int:
    _check_outputs([(args.output, "--output")])
    inputs = list(args.inputs) + ([args.input] if args.input else [])
    if not inputs:
        raise ValueError(
            "nothing to predict: give formulas, structure files, a folder of them, or a table"
        )
    from .io.files import load_model

    model = load_model(args.model)

    from .io.tables import predict_table, prediction_inputs
    from .models import needs_structures

    need = needs_structures(model)
    mats = prediction_inputs(inputs, args.column, need, progress=not args.quiet)
    if need and mats.kind != "structure":
        raise ValueError(
            f"this model needs crystal structures, but {mats.source} holds formulas; give "
            "a structure column (--column), CIF / POSCAR files or a folder of them"
        )
    if len(mats.X) == 0:
        raise ValueError(f"nothing to predict: {mats.source} has no rows")
    frame, preds, replaced = predict_table(model, mats, progress=not args.quiet)
    if replaced:
        print(
            f"note: the input's columns {', '.join(replaced)} are replaced by this model's results",
            file=sys.stderr,
        )
    rows = mats.valid
    if args.output:
        with _writing(args.output) as tmp:
            frame.to_csv(tmp, index=False)
        print(f"wrote {len(rows)} predictions to {args.output}")
    else:
        print(frame.to_string(index=False))
    _warn_far(preds, model)
    if mats.problems:
        _print_rows(
            f"skatomsets: {len(mats.problems)} of {len(frame)} rows could not be predicted "
            "(empty prediction; the error column says why):",
            mats.problem_lines(),
        )
        return EXIT_FAILED_ROWS
    return 0


def _warn_far(preds: Any, model: Any) -> None:
    """One line on stderr when materials are far from the training data."""
    from .uncertainty import domain_threshold

    if preds is None or "out_of_domain" not in preds:
        return
    n_far = int(preds["out_of_domain"].sum())
    if n_far:
        print(
            f"warning: {n_far} of {len(preds)} materials are far from the training data "
            f"(domain_score > {domain_threshold(model):.3g}): their predictions are "
            "extrapolations",
            file=sys.stderr,
        )


# ---------------------------------------------------------------------------- benchmark
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

    _set_threads(args)
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


# ------------------------------------------------------------------------------- parser
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
        "structure folder: shuffled 5-fold CV) and optionally save it refitted on all rows. "
        "Every row and option is checked before any training; files are written atomically. "
        "Exit status: 0 done, 1 a file could not be written, 2 bad arguments or data, "
        "130 interrupted (nothing written).",
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
        default=DEFAULT_MODEL,
        help=f"model name (default {DEFAULT_MODEL}; `skatomsets list` says which need structures)",
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
        "--features",
        default=None,
        metavar="COLS",
        help="numeric columns to use as extra inputs of the model, comma-separated "
        "(e.g. T,P); `predict` then reads the same columns",
    )
    own.add_argument(
        "--task",
        choices=["auto", "regression", "classification"],
        default="auto",
        help="auto (default): True/False or text targets, and integer targets with exactly "
        "2 values, are classification; all other numbers regression",
    )
    own.add_argument(
        "--cv",
        type=int,
        default=5,
        help="folds of the shuffled (Stratified)KFold (default 5; 0: no evaluation, only --save)",
    )
    own.add_argument(
        "--drop-invalid",
        action="store_true",
        help="leave out the rows that cannot be used (listed) instead of stopping",
    )
    own.add_argument(
        "--units", default=None, help="unit of the target, for the printed scores (e.g. eV)"
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
    t.add_argument(
        "--predictions",
        default=None,
        metavar="CSV",
        help="write the out-of-fold predictions here (one row per input row: fold, "
        "prediction, std, domain_score)",
    )
    t.add_argument(
        "--plot", default=None, metavar="PNG", help="write the parity plot of the folds here"
    )
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
        "prediction, std (ensembles) and p_<class> (classifiers) per material. Rows that "
        "cannot be predicted get an empty prediction and an error column. Exit status: 0 "
        "done, 1 some rows could not be predicted (the rest are written) or the output "
        "could not be written, 2 bad arguments, 130 interrupted (nothing written).",
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


def _error_line(exc: BaseException) -> str:
    from .exceptions import InvalidRowsError

    if isinstance(exc, InvalidRowsError):  # the summary, then one bad row per line
        return f"skatomsets: error: {exc}"
    return "skatomsets: error: " + " ".join(str(exc).split())  # one line, whatever the message


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skatomsets`` command (returns the exit status)."""
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    with _catching_interrupts():
        try:
            return args.func(args)
        except BrokenPipeError:
            # the reader went away (``skatomsets list | head``): stop quietly, as Unix tools
            # do; stdout is pointed at devnull so that Python's exit flush does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except (KeyboardInterrupt, Exception) as exc:
            if debug:
                raise
            # after Ctrl-C, whatever a library raises while it stops is a consequence of it
            if isinstance(exc, KeyboardInterrupt) or _Interrupted.hit:
                print("\nskatomsets: interrupted: nothing was written", file=sys.stderr)
                return EXIT_INTERRUPTED
            if isinstance(exc, (FileNotFoundError, ValueError)):  # SkatomsetsInputError too
                print(_error_line(exc), file=sys.stderr)
                return EXIT_BAD_INPUT
            if isinstance(exc, OSError):  # OutputWriteError: a file could not be written
                print(f"skatomsets: error: {exc}; an existing file is unchanged", file=sys.stderr)
                return EXIT_WRITE_FAILED
            raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
