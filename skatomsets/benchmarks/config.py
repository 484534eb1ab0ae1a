"""What the benchmarks run: models, task groups, parameters, candidates, sizes, budgets.

MatBench runs (:mod:`~skatomsets.benchmarks.matbench`, :mod:`~skatomsets.benchmarks.protocols`)
---------------------------------------------------------------------------------------------
:data:`CONFIG` maps ``(model, task)`` patterns to estimator parameters; ``"*"`` matches any
model or task. All matching entries are merged, least specific first (``("*", "*")``, then
``(model, "*")``, then ``("*", task)``, then ``(model, task)``), so::

    CONFIG[("atomsets", "matbench_steels")] = {"lr": 3e-3}

changes one learning rate and leaves the rest. By default :data:`CONFIG` holds only the seed:
every model runs with its defaults, the size-aware ``"auto"`` training budget of the estimators
(see :class:`~skatomsets.AtomSetsRegressor`), so the table is what a user gets.
:data:`CANDIDATES` lists, per pattern, a few alternative override dicts for ``tune=True``
(:func:`skatomsets.benchmarks.tuning.select_candidate`).

Structure sets (:mod:`~skatomsets.benchmarks.structures`, ``scripts/bench_structures.py``)
----------------------------------------------------------------------------------------------
:data:`STRUCTURE_TASKS` (file, target, models, fixed training budget per task),
:data:`STRUCTURE_COMMON` (shared by every network) and :data:`STRUCTURE_CANDIDATES` (chosen
among by nested inner validation). :data:`PARENT_TASKS` / :data:`PARENT_MODELS` are the parent
comparison (``scripts/bench_parents.py``), :data:`LEARNING_CURVE_MODELS` the learning curves
(``scripts/learning_curves.py``); :data:`CONVERGENCE_SIZES` are the paper's training-set sizes,
used by the convergence protocol and the learning curves alike.
"""

from __future__ import annotations

from typing import Any

from ..datasets import MATBENCH_TASKS, is_classification

__all__ = [
    "ALL_TASKS",
    "CANDIDATES",
    "CONFIG",
    "CONVERGENCE_SIZES",
    "DEFAULT_MODELS",
    "DEFAULT_TASKS",
    "LEARNING_CURVE_MODELS",
    "PARENT_MODELS",
    "PARENT_RECORD_NAMES",
    "PARENT_TASKS",
    "PROTOCOLS",
    "QUICK_TASKS",
    "STRUCTURE_CANDIDATES",
    "STRUCTURE_COMMON",
    "STRUCTURE_TASKS",
    "TASK_GROUPS",
    "candidates",
    "resolve_params",
]

# ------------------------------------------------------------------------------- MatBench
DEFAULT_MODELS = ("dummy", "atomsets", "atomsets-v0", "mlp-v0-stats")
#: The 4 tasks of the first release's quick run (`skatomsets benchmark` without --tasks).
QUICK_TASKS = (
    "matbench_steels",
    "matbench_expt_gap",
    "matbench_expt_is_metal",
    "matbench_glass",
)
#: All 13 MatBench v0.1 tasks (in compositional form), smallest first.
ALL_TASKS = MATBENCH_TASKS  # the one task list: skatomsets.datasets
DEFAULT_TASKS = QUICK_TASKS
#: Names the command line expands (``--tasks all``, ``--tasks quick``).
TASK_GROUPS: dict[str, tuple[str, ...]] = {"all": ALL_TASKS, "quick": QUICK_TASKS}

#: The paper's other protocols (:mod:`skatomsets.benchmarks.protocols`).
PROTOCOLS = ("random", "convergence", "extrapolation")
#: The paper's training-set sizes (Figs. 2-3): the convergence protocol and the learning curves.
CONVERGENCE_SIZES = (100, 200, 400, 600, 1000, 2000)

#: Estimator parameters per ``(model, task)`` pattern ("*" = any); merged least specific
#: first. Empty but for the seed: the benchmark runs the estimators' defaults, whose
#: ``"auto"`` training budget (batch size, epochs, patience, loss, learning rate and
#: schedule, ensemble size, validation split, width at 50k+ rows) is resolved in ``fit``
#: from the number of training rows (:mod:`skatomsets.estimators._auto`); so the published
#: table is what ``make_model(name, random_state=0)`` gives a user. Documented exceptions
#: go here.
CONFIG: dict[tuple[str, str], dict[str, Any]] = {
    ("*", "*"): {"random_state": 0},
}

#: Alternatives for :func:`~skatomsets.benchmarks.tuning.select_candidate` (``tune=True``),
#: per ``(model, task)`` pattern; the first matching pattern, most specific first, gives the
#: list. ``{}`` = :data:`CONFIG`.
CANDIDATES: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("atomsets", "*"): [{}, {"lr": 3e-3}, {"readout": "set2set"}],
    ("atomsets-v0", "*"): [{}, {"lr": 3e-3}, {"readout": "set2set"}],
    ("mlp-v0-stats", "*"): [{}, {"n_neurons": 64}, {"weight_decay": 1e-4}],
}
for _task in ("matbench_log_gvrh", "matbench_log_kvrh", "matbench_perovskites"):
    CANDIDATES[("atomsets", _task)] = [{}, {"readout": "set2set"}]
    CANDIDATES[("atomsets-v0", _task)] = [{}, {"readout": "set2set"}]
    CANDIDATES[("mlp-v0-stats", _task)] = [{}, {"n_neurons": 64}]
for _task in ("matbench_mp_gap", "matbench_mp_is_metal", "matbench_mp_e_form"):
    CANDIDATES[("*", _task)] = [{}]  # no tuning within the epoch budget

_REGRESSOR_ONLY = ("loss",)


def _lookup(table: dict[tuple[str, str], Any], model: str, task: str) -> list[Any]:
    """Entries of ``table`` matching (model, task), least specific first."""
    keys = [("*", "*"), (model, "*"), ("*", task), (model, task)]
    return [table[k] for k in keys if k in table]


def resolve_params(
    model: str,
    task: str,
    config: dict[tuple[str, str], dict[str, Any]] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Estimator parameters of ``model`` on ``task``.

    Parameters
    ----------
    model : str
        A model name (``"dummy"`` has no parameters).
    task : str
        A MatBench task name.
    config : dict, optional
        ``(model, task)`` pattern -> parameters; default :data:`CONFIG`.
    overrides : dict, optional
        Applied last (e.g. a tuned candidate, or ``max_epochs`` for a quick run).

    Returns
    -------
    dict

    Examples
    --------
    >>> resolve_params("mlp-v0-stats", "matbench_steels")
    {'random_state': 0}
    >>> "loss" in resolve_params("atomsets", "matbench_glass", overrides={"loss": "mae"})
    False
    """
    if model == "dummy":
        return {}
    params: dict[str, Any] = {}
    for entry in _lookup(CONFIG if config is None else config, model, task):
        params.update(entry)
    params.update(overrides or {})
    if is_classification(task):
        for k in _REGRESSOR_ONLY:
            params.pop(k, None)
    return params


def candidates(model: str, task: str) -> list[dict[str, Any]]:
    """The :data:`CANDIDATES` of ``(model, task)``: the most specific matching pattern.

    Examples
    --------
    >>> candidates("atomsets", "matbench_mp_gap")
    [{}]
    """
    for key in [(model, task), ("*", task), (model, "*"), ("*", "*")]:
        if key in CANDIDATES:
            return CANDIDATES[key]
    return [{}]


# ------------------------------------------------------------------------- structure sets
def _structure_task(
    file: str,
    target: str,
    models: tuple[str, ...] = ("atomsets-v0", "atomsets-v1"),
    patience: int = 80,
    batch_size: int = 32,
    n_ensemble: int = 3,
) -> dict[str, Any]:
    budget = dict(max_epochs=400, patience=patience, batch_size=batch_size, n_ensemble=n_ensemble)
    return {"file": file, "target": target, "models": list(models), "budget": budget}


#: task -> file, target, models, training budget (fixed a priori from the epoch cost).
STRUCTURE_TASKS: dict[str, dict[str, Any]] = {
    "perovskites": _structure_task(
        "matbench_perovskites_partial.json.gz",
        "e_form",
        ("atomsets-v0", "atomsets-v1", "mlp-f"),
        patience=50,
        batch_size=64,
        n_ensemble=1,
    ),
    "elastic_log10_K": _structure_task("elastic_tensor_2015.json.gz", "log10_K_VRH"),
    "elastic_log10_G": _structure_task("elastic_tensor_2015.json.gz", "log10_G_VRH"),
    "dielectric_n": _structure_task("dielectric_constant.json.gz", "n"),
}

#: Parameters shared by every network of the structure-set benchmark (fixed a priori).
STRUCTURE_COMMON: dict[str, Any] = {
    "loss": "mae",
    "lr": 1e-3,
    "validation_fraction": 0.1,
    "device": "cpu",
}

#: Candidate overrides per model, chosen among by nested inner validation (first = default).
STRUCTURE_CANDIDATES: dict[str, list[dict[str, Any]]] = {
    "atomsets-v0": [{"readout": "mean"}, {"readout": "set2set"}],
    "atomsets-v1": [{"readout": "mean"}, {"readout": "set2set"}],
    "mlp-f": [{"n_layers": 3, "n_neurons": 64}, {"n_layers": 3, "n_neurons": 128}],
}

#: Parent comparison: task -> (file of the structure data folder, target).
PARENT_TASKS: dict[str, tuple[str, str]] = {
    "perovskites": ("matbench_perovskites_partial.json.gz", "e_form"),
    "elastic_log10_K": ("elastic_tensor_2015.json.gz", "log10_K_VRH"),
    "elastic_log10_G": ("elastic_tensor_2015.json.gz", "log10_G_VRH"),
    "dielectric_n": ("dielectric_constant.json.gz", "n"),
    "flla_e_form": ("flla_2015.json.gz", "formation_energy_per_atom"),
}


def _parent_models() -> tuple[str, ...]:
    """Every registered parent's ready models (site levels, then the MLP on its default
    structure vector; the paper's parent last), then MEGNet trained from scratch."""
    from ..models import parent_models
    from ..parents import registered_parents

    names: list[str] = []
    for info in sorted(registered_parents(), key=lambda i: i.paper):
        names += parent_models(info.name)
    return (*names, "megnet-scratch")


#: Parent comparison: ``make_model`` names of every parent's levels and structure-vector
#: MLP (one loop over the registered parents), then MEGNet trained end to end from random
#: weights (the learning curves' budget).
PARENT_MODELS: tuple[str, ...] = _parent_models()
#: Names under which the parent comparison stored its records before it used
#: ``make_model`` names (0.1.0): ``make_model`` name -> record name. Those records are read
#: (and resumed) under their old names, so no cached result is lost or re-run.
PARENT_RECORD_NAMES: dict[str, str] = {
    **{f"atomsets-chgnet-v{k}": f"chgnet-v{k}" for k in range(5)},
    **{f"atomsets-v{k}": f"megnet-v{k}" for k in range(4)},
}

#: Learning curves (paper Fig. 3): MEGNet from scratch / fine-tuned vs AtomSets-V1 / -V0
#: (``make_model`` names).
LEARNING_CURVE_MODELS = ("megnet-scratch", "megnet-finetune", "atomsets-v1", "atomsets-v0")
