"""A training job: data in; fold scores, out-of-fold predictions and a refitted model out.

What ``skatomsets train`` runs, as library code that Python users and the benchmarks can
call too (the command only parses arguments and prints):

- :func:`matbench_job`: a MatBench task by name, on its official folds;
- :func:`table_job`: the user's own table or structure folder (:mod:`skatomsets.io.tables`),
  every row checked first, shuffled (Stratified)KFold;
- :meth:`TrainingJob.run`: the folds and, optionally, the refit on all rows, in ``n_jobs``
  processes (:func:`skatomsets.protocols.run_jobs`);
- :meth:`TrainingJob.summary`, :meth:`~TrainingJob.out_of_fold`,
  :meth:`~TrainingJob.parity_figure`, :meth:`~TrainingJob.record`: what the command prints
  and writes.

Examples
--------
>>> from skatomsets.training import matbench_job
>>> job = matbench_job("steels", "atomsets-v0", folds=[0], limit=60,
...                    params={"max_epochs": 2})  # doctest: +SKIP
>>> results, model = job.run(save=True)  # doctest: +SKIP
>>> print(job.summary(results))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrainingJob", "job_params", "make_job_model", "matbench_job", "table_job"]


@dataclass
class TrainingJob:
    """One model on one data set: what to fit, and how to report it.

    Attributes
    ----------
    model : estimator
        The unfitted model (every fit is of a clone).
    X, y : inputs and targets of all usable rows.
    classification : bool
    fold_jobs : list
        ``(func, args, kwargs)`` jobs, one per fold (:func:`skatomsets.protocols.run_jobs`).
    data : dict
        What the data were (for the JSON record).
    unit : str
        Unit of the target ("" when unknown or for classification).
    labels, where : list of str
        Per row of ``X``: the material as given and where it came from (``file:line``).
    messages : list of str
        What the job found while it was built (source, task and why, options, notes), in
        the order found, for the caller to show.
    dropped : list of str
        The bad rows left out (``drop_invalid=True``), located as an editor shows them.
    params : dict
        The estimator options applied (:func:`job_params`).
    """

    model: Any
    X: Any
    y: Any
    classification: bool
    fold_jobs: list
    data: dict[str, Any]
    unit: str = ""
    labels: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def metric(self) -> str:
        """``"ROC-AUC"`` or ``"MAE"``."""
        return "ROC-AUC" if self.classification else "MAE"

    def run(
        self,
        save: bool = False,
        n_jobs: int | None = None,
        progress: Any = False,
        callback: Callable[[int, Any], None] | None = None,
    ) -> tuple[list, Any]:
        """Run the fold jobs and, with ``save``, the refit on all rows.

        Parameters
        ----------
        save : bool, default=False
            Also fit a clone of the model on every row (the last job).
        n_jobs : int or None, default=None
            Processes (``-1``: one per CPU); results do not depend on it.
        progress : bool or ProgressFolder, default=False
            Per-epoch bars of the fits; with ``n_jobs`` processes, a
            :class:`~skatomsets.estimators._progress.ProgressFolder` that the workers
            report their epochs to.
        callback : callable, optional
            ``callback(i, result)`` as each job ends (``i == len(fold_jobs)``: the refit,
            whose result is ``(model, seconds)``).

        Returns
        -------
        results : list of FoldResult
            In fold order.
        model : estimator or None
            The model refitted on all rows (None without ``save``).
        """
        from .protocols import fit_all, run_jobs

        jobs = list(self.fold_jobs)
        if save:
            jobs.append((fit_all, (self.model, self.X, self.y), {}))
        jobs = [(func, a, {**kw, "progress": progress}) for func, a, kw in jobs]
        out = run_jobs(jobs, n_jobs, callback)
        final = out[-1][0] if save else None
        return out[: len(self.fold_jobs)], final

    def summary(self, results: Sequence[Any]) -> str:
        """The mean test score over the folds, with its standard deviation and unit."""
        import numpy as np

        scores = [r.score for r in results]
        unit = f" {self.unit}" if self.unit and not self.classification else ""
        what = "test ROC-AUC" if self.classification else "test MAE"
        return (
            f"mean {self.metric} = {np.mean(scores):.4f} +/- {np.std(scores):.4f}{unit} over "
            f"{len(scores)} folds ({what}; +/-: the standard deviation over the folds)"
        )

    def out_of_fold(self, results: Sequence[Any]) -> Any:
        """One row per row of ``X``: its fold and out-of-fold prediction (a DataFrame)."""
        from .protocols import out_of_fold_frame

        return out_of_fold_frame(list(results), self.y, self.labels, self.where)

    def parity_figure(self, results: Sequence[Any], name: str) -> Any:
        """The parity plot of the out-of-fold predictions (a matplotlib Figure)."""
        import numpy as np

        from .io.files import new_figure
        from .plotting import ParityDisplay

        idx = np.concatenate([np.asarray(r.test_index, dtype=int) for r in results])
        pred = np.concatenate([np.asarray(r.predictions, dtype=float) for r in results])
        std = None
        if all(r.std for r in results):
            std = np.concatenate([np.asarray(r.std, dtype=float) for r in results])
        fig, axes = new_figure(figsize=(5, 5))
        disp = ParityDisplay.from_predictions(
            np.asarray(self.y, dtype=float)[idx], pred, y_std=std, name=name, ax=axes[0][0]
        )
        if self.unit:
            disp.ax_.set_xlabel(f"true ({self.unit})")
            disp.ax_.set_ylabel(f"predicted ({self.unit})")
        fig.tight_layout()
        return fig

    def record(self, results: Sequence[Any], model_name: str, params: dict) -> dict:
        """The JSON record of a run: data, model, parameters, every fold, mean and std."""
        import numpy as np

        scores = [r.score for r in results]
        return {
            **self.data,
            "model": model_name,
            "params": params,
            "metric": self.metric,
            "folds": [r.as_dict() for r in results],
            "mean": float(np.mean(scores)) if scores else None,
            "std": float(np.std(scores)) if scores else None,
        }


def make_job_model(
    name: str, classification: bool, random_state: Any = 0, params: dict | None = None
) -> Any:
    """``make_model(name)`` with estimator options; the auto model passes them to its
    candidates (``model_params``)."""
    from .models import make_model, model_info

    params = job_params(params, classification)
    if model_info(name).inputs == "either" and params:
        params = {"model_params": params}
    return make_model(name, classification=classification, random_state=random_state, **params)


def job_params(params: dict | None, classification: bool) -> dict:
    """The estimator options that apply: ``loss`` is for regressors only."""
    params = dict(params or {})
    if classification:
        params.pop("loss", None)
    return params


def _options_line(params: dict | None) -> list[str]:
    if not params:
        return []
    return ["estimator options: " + ", ".join(f"{k}={v}" for k, v in params.items())]


def matbench_job(
    task: str,
    model_name: str,
    *,
    params: dict | None = None,
    random_state: Any = 0,
    folds: Sequence[int] | None = None,
    data_dir: str | None = None,
    download: bool = False,
    limit: int | None = None,
) -> TrainingJob:
    """A MatBench task on its official folds (all five unless ``folds``).

    Raises
    ------
    ValueError
        For a fold that is not one of the task's official folds.
    """
    import numpy as np

    from .datasets import MATBENCH_UNITS, is_classification, load_matbench, task_name
    from .protocols import matbench_fold_jobs

    df = load_matbench(task, data_dir=data_dir, download=download)
    if limit:
        df = df.iloc[:limit]
    classification = is_classification(task)
    params = job_params(params, classification)
    model = make_job_model(model_name, classification, random_state, params)
    present = sorted(int(k) for k in np.unique(df["test_fold"]))
    folds = list(folds) if folds else present
    bad = [k for k in folds if k not in present]
    if bad:
        raise ValueError(f"--folds {bad[0]} is not one of the official folds {present}")
    name = task_name(task)
    unit = MATBENCH_UNITS.get(name, "")
    metric = "ROC-AUC" if classification else "MAE"
    head = (
        f"{model_name} on {task}: {len(df)} rows, official MatBench folds "
        f"{sorted(set(folds))}, test {metric}" + (f" in {unit}" if unit else "")
    )
    X, y = df["composition"].to_numpy(), df["target"].to_numpy()
    return TrainingJob(
        model, X, y, classification,
        matbench_fold_jobs(model, df, classification, folds=folds),
        {"dataset": task}, unit, [str(v) for v in X],
        [f"{name} row {i}" for i in range(len(X))],
        messages=[head, *_options_line(params)], params=params,
    )  # fmt: skip


def table_job(
    data: str | Path,
    model_name: str,
    *,
    params: dict | None = None,
    random_state: Any = 0,
    target: str | None = None,
    formula_column: str | None = None,
    structure_column: str | None = None,
    targets: str | Path | None = None,
    file_column: str | None = None,
    features: Sequence[str] = (),
    task: str = "auto",
    cv: int = 5,
    folds: Sequence[int] | None = None,
    drop_invalid: bool = False,
    limit: int | None = None,
    units: str = "",
    progress: bool = False,
    check: Callable[[bool], None] | None = None,
) -> TrainingJob:
    """The user's own table or structure folder: every row checked, shuffled K-fold CV.

    Every row is read and featurized once before any training (cached for the fits); the
    bad rows raise one :class:`~skatomsets.exceptions.InvalidRowsError` listing them all, or
    are left out with ``drop_invalid`` (listed in :attr:`TrainingJob.dropped`). ``cv=0``
    builds no folds. ``check(classification)`` is called once the task is known, before
    the featurizer runs (the command checks its ``--plot`` there).
    """
    from .io.tables import check_classes, check_featurizer, infer_task, load_training_data
    from .models import composition_models, model_info
    from .protocols import cv_fold_jobs

    data = Path(data)
    inputs = model_info(model_name).inputs
    mats = load_training_data(
        data,
        target=target,
        formula_column=formula_column,
        structure_column=structure_column,
        targets=Path(targets) if targets else None,
        file_column=file_column,
        need_structures=inputs in ("structure", "either"),  # auto: structures where given
        progress=progress,
        features=list(features),
        limit=limit,
    )
    if inputs == "structure" and mats.kind != "structure":
        raise ValueError(
            f"model {model_name!r} needs crystal structures, but {mats.source} holds formulas; "
            "give a structure column (CIF text or structure-file paths, --structure-column) "
            "or a folder of CIF files with --targets, or use a composition model "
            f"({', '.join(composition_models())})"
        )
    assert mats.y is not None and mats.target_name is not None
    classification, y_all, reason = infer_task(mats.y, task, mats.target_name, mats)
    if check is not None:
        check(classification)
    params = job_params(params, classification)
    model = make_job_model(model_name, classification, random_state, params)
    seconds = check_featurizer(model, mats, progress=progress)
    if mats.problems and not drop_invalid:
        mats.raise_if_invalid(" (fix them, or leave them out with --drop-invalid)")
    messages = list(mats.notes)
    rows = mats.valid
    X, y = mats.inputs(rows), y_all[rows]
    if len(y) < 2:
        raise ValueError(f"{len(y)} usable rows in {mats.source}: too few to train a model")
    if cv and len(y) < cv:
        raise ValueError(f"{len(y)} rows are too few for {cv}-fold cross-validation")
    if classification:
        check_classes(y, cv)
    metric = "ROC-AUC" if classification else "MAE"
    kind = "classification" if classification else "regression"
    messages.append(f"{model_name} on {mats.source}: {len(y)} rows ({mats.kind}s)")
    if mats.extras is not None:
        messages.append(f"extra inputs: {', '.join(mats.extras.columns)} (--features)")
    messages.append(f"task: {kind} ({reason}; --task to override)")
    messages += _options_line(params)
    if seconds is not None and progress:
        messages.append(
            f"featurized every row once in {seconds:.1f} s (checked, and cached for the fits)"
        )
    fold_jobs = []
    if cv:
        folds = list(folds) if folds else list(range(cv))
        bad = [k for k in folds if not 0 <= k < cv]
        if bad:
            raise ValueError(f"--folds {bad[0]} is not one of 0..{cv - 1}")
        cv_name = "StratifiedKFold" if classification else "KFold"
        unit = f" in {units}" if units and not classification else ""
        messages.append(
            f"{cv}-fold {cv_name} (shuffle, random_state={random_state}), test {metric}{unit}"
        )
        fold_jobs = cv_fold_jobs(model, X, y, classification, cv, random_state, folds=folds)
    record = {
        "data": str(data),
        "task": kind,
        "target": mats.target_name,
        "features": list(mats.extras.columns) if mats.extras is not None else [],
        "dropped_rows": [mats.where[r] for r in sorted(mats.problems)],
        "cv": {"n_splits": cv, "shuffle": True, "random_state": random_state},
    }
    return TrainingJob(
        model, X, y, classification, fold_jobs, record, units or "",
        [mats.labels[r] for r in rows], [mats.where[r] for r in rows],
        messages=messages, dropped=mats.problem_lines() if mats.problems else [], params=params,
    )  # fmt: skip
