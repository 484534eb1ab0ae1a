"""Parent networks side by side on the real structure sets: each parent's levels.

For each task of :data:`~skatomsets.benchmarks.config.PARENT_TASKS` (a file of the structure
data folder and a target) and model of :data:`~skatomsets.benchmarks.config.PARENT_MODELS`
(``make_model`` names: ``atomsets-chgnet-v3``, ``atomsets-v1``, ``mlp-f``, ...; the
featurizer and the estimator are those of :func:`skatomsets.models.make_model`),
5-fold cross-validation on the set's folds (the file's MatBench ``test_fold`` for the
perovskites, else ``KFold(5, shuffle=True, random_state=18012019)``), with the package's
**default** estimator (``AtomSetsRegressor(random_state=0)`` on site sets, ``StandardScaler``
+ ``AtomSetsMLPRegressor(random_state=0)`` on structure vectors): only the features change.

Features are computed once per structure through the featurizers' on-disk cache, before
splitting (they are per-structure and unsupervised: nothing leaks); the estimator is fitted
on the training folds only. One record per task/model/fold
(``OUT/<task>__<model>__fold<k>.json``, :mod:`~skatomsets.benchmarks.records`; the models
run before the comparison used ``make_model`` names keep their record names,
:data:`~skatomsets.benchmarks.config.PARENT_RECORD_NAMES`; resumable,
with the training budget the defaults resolved to, so that a record made under other size
rules is refitted rather than reused);
:func:`~skatomsets.benchmarks.reporting.parents_table` is the Markdown table. The command
line is ``scripts/bench_parents.py``.

Leakage caveat: every parent was trained on Materials Project data (MEGNet: ~133k formation
energies; CHGNet and SevenNet-0: the MPtrj relaxation trajectories), which overlap these
structure sets.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .baselines import final_estimator, resolved_training_params, same_defaults
from .config import PARENT_RECORD_NAMES, PARENT_TASKS
from .records import RecordStore
from .reporting import parents_table

__all__ = [
    "estimator",
    "featurizer",
    "model_name",
    "record_name",
    "report_parents",
    "run_parent_task",
]


def featurizer(model: str, cache: bool | str | os.PathLike[str] | None = True) -> Any:
    """The featurizer of ``make_model(model)`` with the benchmark's ``cache`` (and
    ``allow_isolated=True`` where it has one: MEGNet's sparse cells).

    A model trained on the structures themselves (``megnet-scratch``) has none: its
    featurizer passes them through.
    """
    from sklearn.preprocessing import FunctionTransformer

    from ..models import make_model

    steps = dict(make_model(model).steps)
    if "featurize" not in steps:
        return FunctionTransformer()
    feat = steps["featurize"]
    params = feat.get_params()
    if "cache" in params:
        feat.set_params(cache=cache)
    if "allow_isolated" in params:
        feat.set_params(allow_isolated=True)
    return feat


def estimator(model: str) -> Any:
    """The default estimator on the model's features: ``make_model(model, random_state=0)``
    after its featurizer (``AtomSetsRegressor`` on site sets, ``StandardScaler`` +
    ``AtomSetsMLPRegressor`` on structure vectors).

    ``megnet-scratch`` is ``MEGNetRegressor(init=None)`` with the learning curves' budget
    (:data:`~skatomsets.benchmarks.learning_curves.BUDGET`: 60 epochs, batch 32), a short
    CPU budget next to the paper's 1000 epochs.
    """
    from sklearn.pipeline import Pipeline

    from ..models import make_model

    pipe = make_model(model, random_state=0)
    if "featurize" not in dict(pipe.steps):
        from .learning_curves import build_estimator, model_params

        return build_estimator(model, model_params(model), seed=0)
    rest = pipe.steps[1:]
    return rest[0][1] if len(rest) == 1 else Pipeline(rest)


def record_name(model: str) -> str:
    """The name ``model``'s records are stored under (see
    :data:`~skatomsets.benchmarks.config.PARENT_RECORD_NAMES`)."""
    return PARENT_RECORD_NAMES.get(model, model)


def model_name(record: str) -> str:
    """The ``make_model`` name of a record name (the inverse of :func:`record_name`)."""
    return {v: k for k, v in PARENT_RECORD_NAMES.items()}.get(record, record)


#: The 400-1,999-row size rule before session 12 (records of that time carry no budget).
_RULE_400_BEFORE = {"max_epochs": 400, "patience": 80, "n_ensemble": 3}


def _unrecorded_budget(model: Any, record: dict[str, Any]) -> dict[str, Any] | None:
    """The budget of a record written before records carried one.

    The size rules did not change from the first parent-comparison record until session
    12, which set the 400-1,999-row budget to 1000 epochs, patience 200 and 5 networks
    (it was :data:`_RULE_400_BEFORE`) and made records carry their budget. Parameters the
    model sets itself (``megnet-scratch``) were never "auto" and keep their value.
    """
    n_train = record["n_train"]
    budget = resolved_training_params(model, n_train)
    if budget is not None and 400 <= n_train < 2000:
        final = final_estimator(model)
        budget.update(
            {k: v for k, v in _RULE_400_BEFORE.items() if getattr(final, k, None) == "auto"}
        )
    return budget


def _current(record: dict[str, Any], model: Any) -> bool:
    """Whether ``record`` was trained with the budget ``model``'s defaults give today."""
    return same_defaults(record, model, unrecorded=_unrecorded_budget)


def run_parent_task(
    task: str,
    models: Sequence[str],
    data_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    folds: Sequence[int] | None = None,
    cache: bool | str | os.PathLike[str] | None = True,
    log: Callable[[str], None] = print,
) -> None:
    """Run the models on every (requested) fold of one task that has no current record.

    A record is current when it has an MAE and was trained with the budget the default
    estimator resolves to today for its number of training rows (the thread count aside).

    Parameters
    ----------
    task : str
        A key of :data:`~skatomsets.benchmarks.config.PARENT_TASKS`.
    models : sequence of str
        ``make_model`` names.
    data_dir : path
        Folder with the structure files.
    out_dir : path
        Results folder (one record per task/model/fold).
    folds : sequence of int, optional
    cache : bool or path, default=True
        The featurizers' ``cache``: True in memory, a folder on disk.
    log : callable, default=print
        Called with each new record as one JSON line.
    """
    from ..datasets import load_structure_set

    fname, target = PARENT_TASKS[task]
    df = load_structure_set(Path(data_dir) / fname, target=target)
    y = df["target"].to_numpy()
    store = RecordStore(out_dir)
    for model in models:
        template = estimator(model)
        todo = [
            k
            for k in (folds or sorted(set(df["test_fold"])))
            if not store.exists(
                task,
                record_name(model),
                f"fold{k}",
                required=("mae",),
                valid=functools.partial(_current, model=template),
            )
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
                "model": record_name(model),
                "fold": int(k),
                "mae": float(np.mean(np.abs(pred - y[~train]))),
                "n_train": int(train.sum()),
                "n_test": int((~train).sum()),
                "fit_seconds": time.perf_counter() - t,
                "featurize_seconds": feat_s,
                "resolved": resolved_training_params(template, int(train.sum())),
            }
            store.write(rec, task, record_name(model), f"fold{k}")
            log(json.dumps(rec))


def report_parents(
    out_dir: str | os.PathLike[str], plot: str | os.PathLike[str] | None = None
) -> str:
    """The Markdown table of every record in ``out_dir`` (and the bar plot, when ``plot``).

    Records trained with another budget than the default estimator resolves to today are
    marked in the table (:func:`~skatomsets.benchmarks.reporting.parents_table`).
    """
    records = RecordStore(out_dir).load_all()
    for r in records:
        r["model"] = model_name(r["model"])
    templates = {m: estimator(m) for m in {r["model"] for r in records}}
    for r in records:
        r["stale"] = not _current(r, templates[r["model"]])
    if plot is not None:
        from .plots import parents_plot

        parents_plot(records, plot)
    return parents_table(records)
