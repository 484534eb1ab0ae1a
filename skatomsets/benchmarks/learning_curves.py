"""Learning curves (paper Fig. 3): MEGNet from scratch / fine-tuned vs AtomSets-V1 / -V0.

For each random draw ``r`` a fixed test set (``test_fraction`` of the data) is held out with
:func:`skatomsets.protocols.convergence_splits`; training sets of each size (default the
paper's :data:`~skatomsets.benchmarks.config.CONVERGENCE_SIZES`) are drawn from the rest
(sizes larger than the pool are skipped). Every model is trained on every (size, draw)
training set and scored (MAE) on that draw's test set. Each point is one record
``OUT/<dataset>/<model>/n<size>_d<draw>.json`` (:mod:`~skatomsets.benchmarks.records`),
skipped when it can be read back, so an interrupted run resumes where it stopped; after
every point the Markdown table and the plot are rewritten (when paths are given) from all
the records under ``OUT`` (:func:`report_learning_curves`).

Models (:data:`~skatomsets.benchmarks.config.LEARNING_CURVE_MODELS`, ``make_model`` names):
``megnet-scratch`` (``MEGNetRegressor(init=None)``, the shipped parent's architecture),
``megnet-finetune`` (``MEGNetRegressor(init="pretrained")``, all blocks trained, head
re-initialised), ``atomsets-v1`` and ``atomsets-v0``; any other ready model of
:func:`skatomsets.models.make_model` can be added (:func:`curve_models`), e.g. the CHGNet
levels ``atomsets-chgnet-v1`` .. ``-v4`` and ``mlp-chgnet``; points recorded under a
deprecated name (``atomsets-chgnet``) are still read. The AtomSets featurizers are fixed (not
fitted to data), so each dataset is featurized once and the sets are indexed per split;
this is equivalent to fitting the pipeline per split.

Training-set tuning only: each estimator early-stops on its own validation split
(``validation_fraction`` of the training set); the test sets are never used for tuning.
The command line is ``scripts/learning_curves.py``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import atomic_write_text
from .baselines import resolved_training_params, same_defaults
from .config import CONVERGENCE_SIZES, LEARNING_CURVE_MODELS
from .plots import learning_curves_plot
from .records import RecordStore, jsonable
from .reporting import learning_curves_table

__all__ = [
    "BUDGET",
    "build_estimator",
    "curve_models",
    "featurize",
    "model_params",
    "report_learning_curves",
    "run_learning_curves",
]

#: The training budget of the learning curves (each overridable by the command line).
BUDGET: dict[str, Any] = {
    "validation_fraction": 0.1,
    "atomsets_epochs": 300,
    "atomsets_patience": 50,
    "atomsets_batch_size": 32,
    "atomsets_lr": 1e-3,
    "megnet_epochs": 60,
    "megnet_patience": 20,
    "megnet_batch_size": 32,
    "megnet_lr": 1e-3,
    "finetune_lr": 5e-4,
}


def model_params(name: str, budget: dict[str, Any] | None = None) -> dict[str, Any]:
    """Estimator hyperparameters of ``name`` (recorded in every point's JSON).

    Parameters
    ----------
    name : str
        One of :data:`~skatomsets.benchmarks.config.LEARNING_CURVE_MODELS`.
    budget : dict, optional
        Overrides of :data:`BUDGET`.

    Examples
    --------
    >>> model_params("atomsets-v0")["max_epochs"]
    300
    >>> model_params("megnet-finetune", {"finetune_lr": 1e-4})["lr"]
    0.0001
    """
    b = {**BUDGET, **(budget or {})}
    final = _make(name).steps[-1][1]
    if _end_to_end(name):
        p: dict[str, Any] = {
            "batch_size": b["megnet_batch_size"],
            "max_epochs": b["megnet_epochs"],
            "patience": b["megnet_patience"],
            "lr": b["megnet_lr"] if final.init is None else b["finetune_lr"],
            "loss": "mse",
            "validation_fraction": b["validation_fraction"],
            "allow_isolated": True,
            "device": "cpu",
        }
        if final.init is not None:
            p.update(init=final.init, freeze=0)
        return p
    return {
        "batch_size": b["atomsets_batch_size"],
        "max_epochs": b["atomsets_epochs"],
        "patience": b["atomsets_patience"],
        "lr": b["atomsets_lr"],
        "loss": "mae",
        "validation_fraction": b["validation_fraction"],
        "device": "cpu",
    }


def _make(name: str, **params: Any) -> Any:
    """``make_model(name, **params)``; a deprecated name (points recorded under it are still
    read) without its FutureWarning."""
    import warnings

    from ..models import deprecated_models, make_model

    with warnings.catch_warnings():
        if name in deprecated_models():
            warnings.simplefilter("ignore", FutureWarning)
        return make_model(name, **params)


def _end_to_end(name: str) -> bool:
    """Whether ``make_model(name)`` trains a graph network on the structures themselves
    (no featurizer step: ``megnet-scratch``, ``megnet-finetune``)."""
    return "featurize" not in dict(_make(name).steps)


def curve_models() -> tuple[str, ...]:
    """Every model a learning curve can run: every ready model of
    :func:`skatomsets.models.make_model` (MEGNet trained end to end, the AtomSets and MLP
    models of every parent), and the deprecated names points were recorded under."""
    from ..models import available_models, deprecated_models

    return (*available_models(), *deprecated_models())


def build_estimator(name: str, params: dict[str, Any], seed: int) -> Any:
    """The unfitted final estimator of ``make_model(name)``."""
    return _make(name, random_state=seed, **params).steps[-1][1]


def featurize(name: str, structures: np.ndarray) -> Any:
    """Inputs of ``name``'s estimator for all structures (fixed featurizers, run once)."""
    pipe = _make(name)
    if len(pipe.steps) == 1:  # trained on the structures themselves
        return structures
    featurizer = pipe[:-1]
    if "featurize__allow_isolated" in featurizer.get_params():  # MEGNet's sparse cells
        featurizer.set_params(featurize__allow_isolated=True)
    return featurizer.fit_transform(list(structures))


def report_learning_curves(
    out_dir: str | os.PathLike[str],
    table: str | os.PathLike[str] | None = None,
    plot: str | os.PathLike[str] | None = None,
) -> str:
    """The table of all points under ``out_dir``; also written to ``table`` / ``plot`` if given.

    Points trained with another ``"auto"`` budget than their model's parameters resolve to
    today are marked ``"stale"`` (a dagger in the table,
    :func:`~skatomsets.benchmarks.reporting.learning_curves_table`).
    """
    rows = RecordStore(out_dir).load_all("*/*/n*_d*.json")
    templates: dict[str, Any] = {}
    for r in rows:
        if not isinstance(r.get("params"), dict) or r.get("model") not in curve_models():
            continue
        key = json.dumps([r["model"], jsonable(r["params"])], sort_keys=True)
        if key not in templates:
            templates[key] = build_estimator(r["model"], r["params"], seed=0)
        r["stale"] = not same_defaults(r, templates[key], unrecorded=_unrecorded)
    text = learning_curves_table(rows)
    if table is not None:
        atomic_write_text(table, text)
    if plot is not None and rows:
        learning_curves_plot(rows, plot)
    return text


def _current(name: str, params: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """Whether a point record was made with ``params`` and today's ``"auto"`` budget.

    ``params`` are the point's effective parameters (after ``megnet_min_steps``), compared
    exactly with the record's; the ``"auto"`` ones (the AtomSets and MLP models' ensemble
    size, ...) through :func:`~skatomsets.benchmarks.baselines.same_defaults`.
    """

    def valid(rec: dict[str, Any]) -> bool:
        if jsonable(rec.get("params")) != jsonable(params):
            return False
        return same_defaults(rec, build_estimator(name, params, seed=0), unrecorded=_unrecorded)

    return valid


def _unrecorded(model: Any, record: dict[str, Any]) -> dict[str, Any] | None:
    """The budget of a point recorded before points carried one (session 13).

    Every training parameter was explicit except those left ``"auto"``; of these only the
    ensemble size varies below 50,000 rows (the thread count is not compared), and the
    point shows it: one best epoch per network.
    """
    budget = resolved_training_params(model, record["n_train"])
    if budget is None or getattr(model, "n_ensemble", None) != "auto":
        return budget
    best = record.get("best_epochs")
    if not isinstance(best, list) or not best:
        return None
    return {**budget, "n_ensemble": len(best)}


def run_learning_curves(
    data: str | os.PathLike[str],
    target: str,
    out_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    unit: str = "",
    models: Sequence[str] = LEARNING_CURVE_MODELS,
    sizes: Sequence[int] = CONVERGENCE_SIZES,
    draws: int = 5,
    first_draw: int = 0,
    test_fraction: float = 0.1,
    seed: int = 0,
    budget: dict[str, Any] | None = None,
    megnet_min_steps: int = 0,
    threads: int = 1,
    deadline: float | None = None,
    table: str | os.PathLike[str] | None = None,
    plot: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] = print,
) -> bool:
    """Train and score every model on every (size, draw) point that has no record yet.

    Parameters
    ----------
    data : path
        Gzipped JSON list of structure records
        (:func:`skatomsets.datasets.load_structure_set`).
    target : str
    out_dir : path
        Records go to ``out_dir/<name>/<model>/n<size>_d<draw>.json``.
    name : str, optional
        Dataset label (default: the file name up to its first dot).
    unit : str, default=""
        Target unit, for the table and plot.
    models : sequence of str, default=LEARNING_CURVE_MODELS
    sizes : sequence of int, default=CONVERGENCE_SIZES
    draws, first_draw : int
        Random draws ``first_draw .. first_draw + draws - 1`` (test set + subsets).
    test_fraction : float, default=0.1
    seed : int, default=0
        ``random_state`` of :func:`~skatomsets.protocols.convergence_splits`; draw ``r``
        seeds the networks with ``r``.
    budget : dict, optional
        Overrides of :data:`BUDGET`.
    megnet_min_steps : int, default=0
        Raise ``max_epochs`` of small MEGNet training sets to at least this many optimiser
        steps (the training-set part after the validation split).
    threads : int, default=1
        Recorded with each point (torch threads are the caller's).
    deadline : float, optional
        Unix time after which no new point is started.
    table, plot : path, optional
        Rewritten after every point.
    log : callable, default=print

    Returns
    -------
    bool
        False when the deadline stopped the run, else True.
    """
    from ..datasets import load_structure_set
    from ..protocols import convergence_splits

    known = curve_models()
    for m in models:
        if m not in known:
            raise ValueError(f"unknown model {m!r}; choose from {known}")
    b = {**BUDGET, **(budget or {})}
    data = Path(data)
    name = name or data.name.split(".")[0]
    df = load_structure_set(data, target)
    X = df["structure"].to_numpy()
    y = df["target"].to_numpy(dtype=float)
    splits = convergence_splits(
        len(df),
        sizes=list(sizes),
        n_repeats=first_draw + draws,
        test_fraction=test_fraction,
        random_state=seed,
    )
    by_draw: dict[int, list[Any]] = {}
    for sp in splits:
        r = int(sp.name.rsplit("repeat", 1)[1])
        if r >= first_draw:
            by_draw.setdefault(r, []).append(sp)
    inputs: dict[str, Any] = {}
    for draw in sorted(by_draw):
        for m in models:
            store = RecordStore(Path(out_dir) / name / m)
            for sp in by_draw[draw]:
                point = f"n{len(sp.train)}_d{draw}"
                params = model_params(m, b)
                if megnet_min_steps and _end_to_end(m):
                    n_fit = len(sp.train) - round(b["validation_fraction"] * len(sp.train))
                    per_epoch = -(-n_fit // b["megnet_batch_size"])
                    params["max_epochs"] = max(
                        b["megnet_epochs"], -(-megnet_min_steps // per_epoch)
                    )
                if store.exists(point, required=("test_mae",), valid=_current(m, params)):
                    continue
                if deadline is not None and time.time() > deadline:
                    log("deadline reached; stopping")
                    return False
                if m not in inputs:
                    t0 = time.perf_counter()
                    inputs[m] = featurize(m, X)
                    log(f"[{name}] featurized for {m} in {time.perf_counter() - t0:.1f} s")
                Xm = inputs[m]
                est = build_estimator(m, params, seed=draw)
                test = sp.test["test"]
                t0 = time.perf_counter()
                est.fit(Xm[sp.train], y[sp.train])
                fit_s = time.perf_counter() - t0
                pred = np.ravel(est.predict(Xm[test]))
                mae = float(np.mean(np.abs(pred - y[test])))
                epochs = [len(h) for h in est.history_] if hasattr(est, "history_") else []
                best = [int(e) for e in getattr(est, "best_epochs_", [])]
                row = {
                    "dataset": name,
                    "data": str(data),
                    "target": target,
                    "unit": unit,
                    "model": m,
                    "n_train": len(sp.train),
                    "draw": draw,
                    "n_test": len(test),
                    "test_mae": mae,
                    "fit_seconds": fit_s,
                    "epochs_run": int(max(epochs)) if epochs else 0,
                    "best_epochs": best,
                    "params": dict(params),
                    "resolved": resolved_training_params(est, len(sp.train)),
                    "seed": seed,
                    "test_fraction": test_fraction,
                    "threads": threads,
                    "mean_predictor_mae": float(np.mean(np.abs(y[test] - y[sp.train].mean()))),
                }
                store.write(row, point, indent=1)
                log(
                    f"[{name}] {m} n={len(sp.train)} draw={draw}: MAE {mae:.4f} "
                    f"({fit_s:.1f} s, {row['epochs_run']} epochs)"
                )
                report_learning_curves(out_dir, table, plot)
    return True
