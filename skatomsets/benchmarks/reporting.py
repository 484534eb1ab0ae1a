"""Markdown tables of the benchmark records (reports only: nothing is fitted here).

- :func:`markdown_table`, :func:`runs_table`: the MatBench runs of
  :func:`~skatomsets.benchmarks.matbench.run_benchmark` (``matbench_table.md``,
  ``matbench_runs.md``), with the published reference scores;
- :func:`protocols_table`: random / convergence / extrapolation
  (:func:`~skatomsets.benchmarks.protocols.run_protocols`, ``protocols_table.md``);
- :func:`structures_summary` / :func:`structures_table`: the structure-set folds
  (``scripts/bench_structures.py``: ``summary.json``, ``table.md``);
- :func:`parents_table`: the parent comparison (``scripts/bench_parents.py``);
- :func:`learning_curves_table`: the learning-curve points (``scripts/learning_curves.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..datasets import is_classification
from .config import LEARNING_CURVE_MODELS, PARENT_MODELS, PARENT_TASKS
from .reference import LEADERBOARD, PAPER_MEV_PER_ATOM

__all__ = [
    "label_auc",
    "learning_curves_table",
    "markdown_table",
    "model_order",
    "parents_table",
    "protocols_table",
    "runs_table",
    "structures_summary",
    "structures_table",
    "summarize_learning_curves",
]


# ------------------------------------------------------------------------------- MatBench
def label_auc(y_true: Sequence[float], proba: Sequence[float]) -> float:
    """ROC-AUC of the labels ``proba >= 0.5`` (what MatBench scores; = balanced accuracy),
    by the package's one scorer, :func:`skatomsets.protocols.score_predictions`."""
    from ..protocols import score_predictions

    return score_predictions(np.asarray(y_true), np.asarray(proba) >= 0.5, classification=True)


def _fmt(value: float, task: str, scale: float | None = None) -> str:
    """4 decimals, or 1 for values (or a ``scale`` value) of magnitude 10 and above."""
    big = abs(value if scale is None else scale) >= 10 and not is_classification(task)
    return f"{value:.1f}" if big else f"{value:.4f}"


def markdown_table(results: dict[str, Any], reference: bool = True) -> str:
    """A Markdown table: tasks as rows, models as columns, ``mean ± std`` over folds.

    The best of our models per task is in bold. A cell averaging other than 5 folds says how
    many, e.g. ``0.93 ± 0.01 (3 folds)``. With ``reference=True`` the published MatBench
    v0.1 scores of :data:`skatomsets.benchmarks.reference.LEADERBOARD` follow (leaderboard
    best, best composition-only entry, MODNet, RF-SCM/Magpie). MatBench scores
    classification from recorded bool labels, so classification cells also give the
    ROC-AUC of our labels (``p >= 0.5``), the number comparable with those columns.

    Parameters
    ----------
    results : dict
        As returned by :func:`~skatomsets.benchmarks.matbench.run_benchmark`.
    reference : bool, default=True

    Returns
    -------
    str
    """
    runs = results["runs"]
    tasks = list(dict.fromkeys(r["task"] for r in runs))
    models = list(dict.fromkeys(r["model"] for r in runs))
    cell = {(r["model"], r["task"]): r for r in runs}
    head = ["task", "metric", *models]
    if reference:
        head += ["leaderboard best", "best composition-only", "MODNet", "RF-SCM/Magpie"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t in tasks:
        cls = is_classification(t)
        row = [t.removeprefix("matbench_"), "ROC-AUC ↑" if cls else "MAE ↓"]
        ours = [cell[m, t]["mean"] for m in models if (m, t) in cell and m != "dummy"]
        best = (max if cls else min)(ours) if ours else None
        for m in models:
            r = cell.get((m, t))
            if r is None:
                row.append("")
                continue
            text = f"{_fmt(r['mean'], t)} ± {_fmt(r['std'], t, r['mean'])}"
            if "mean_labels" in r and m != "dummy":
                text += f" (labels {r['mean_labels']:.3f})"
            if m != "dummy" and r["mean"] == best:
                text = f"**{text}**"
            n = r.get("n_folds", 5)
            row.append(text if n == 5 else f"{text} ({n} fold{'' if n == 1 else 's'})")
        if reference:
            ref = LEADERBOARD.get(t)
            if ref is None:
                row += ["", "", "", ""]
            else:
                name, score, _ = ref["best"]
                comp = ref.get("best_composition")
                row += [
                    f"{_fmt(score, t)} ({name})",
                    f"{_fmt(comp[1], t)} ({comp[0]})"
                    if comp
                    else "same"
                    if not ref["best"][2]
                    else "",
                    _fmt(ref["modnet"], t),
                    _fmt(ref["rf_scm_magpie"], t),
                ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def runs_table(results: dict[str, Any]) -> str:
    """A Markdown table of how each model/task was run: budget, tuning choice, fit time.

    Parameters
    ----------
    results : dict
        As returned by :func:`~skatomsets.benchmarks.matbench.run_benchmark`.

    Returns
    -------
    str
    """
    lines = [
        "| task | model | batch / lr / epochs (patience) / ensemble | chosen overrides "
        "| inner-validation scores | fit time, all folds |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        if r["model"] == "dummy":
            continue
        p, tuning = {**r["params"], **(r.get("resolved") or {})}, r.get("tuning") or {}
        budget = (
            f"{p.get('batch_size')} / {p.get('lr')} / {p.get('max_epochs')} "
            f"({p.get('patience')}) / {p.get('n_ensemble')}"
        )
        scores = ", ".join(f"{v:.4g}" for v in tuning.get("scores", [])) or "not tuned"
        chosen = json.dumps(tuning.get("chosen", {})) if tuning else "-"
        minutes = r["fit_seconds_total"] / 60
        lines.append(
            f"| {r['task'].removeprefix('matbench_')} | {r['model']} | {budget} | `{chosen}` "
            f"| {scores} | {minutes:.1f} min ({r['n_folds']} folds) |"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- protocols
def _size(split: dict[str, Any]) -> int:
    return int(split["n_train"])


def _mean_std(values: Sequence[float]) -> str:
    a = np.asarray(values, dtype=float)
    digits = 4 if np.nanmax(np.abs(a)) < 10 else 1
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}"


def protocols_table(results: dict[str, Any]) -> str:
    """Markdown tables: random splits (models x tasks), convergence, extrapolation.

    Parameters
    ----------
    results : dict
        The output of :func:`~skatomsets.benchmarks.protocols.run_protocols`.

    Returns
    -------
    str
    """
    lines: list[str] = []
    proto = results["protocols"]
    if proto.get("random"):
        runs = proto["random"]
        tasks = list(dict.fromkeys(r["task"] for r in runs))
        models = list(dict.fromkeys(r["model"] for r in runs))
        lines += [
            "**random** 90/10 splits: test score, mean ± std over repeats",
            "",
            "| model | " + " | ".join(tasks) + " |",
            "|---" * (len(tasks) + 1) + "|",
        ]
        by = {(r["model"], r["task"]): r for r in runs}
        for m in models:
            cells = []
            for t in tasks:
                r = by.get((m, t))
                cells.append("" if r is None else _mean_std([s["test_score"] for s in r["splits"]]))
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    for task in dict.fromkeys(r["task"] for r in proto.get("convergence", [])):
        runs = [r for r in proto["convergence"] if r["task"] == task]
        sizes = sorted({_size(s) for r in runs for s in r["splits"]})
        lines += [
            f"**convergence, {task}**: test {runs[0]['metric']} by training-set size",
            "",
            "| model | " + " | ".join(f"n={n}" for n in sizes) + " |",
            "|---" * (len(sizes) + 1) + "|",
        ]
        for r in runs:
            cells = []
            for n in sizes:
                v = [s["test_score"] for s in r["splits"] if _size(s) == n]
                cells.append(_mean_std(v) + f" ({len(v)})" if v else "")
            lines.append(f"| {r['model']} | " + " | ".join(cells) + " |")
        lines.append("")
    if proto.get("extrapolation"):
        lines += [
            "**extrapolation** (top 10 % of targets held out) vs interpolation (equal-size "
            "random test set): test MAE",
            "",
            "| task | model | interpolation | extrapolation | ratio |",
            "|---|---|---|---|---|",
        ]
        for r in proto["extrapolation"]:
            s = r["splits"][0]
            i, e = s["interpolation_score"], s["extrapolation_score"]
            lines.append(f"| {r['task']} | {r['model']} | {i:.4g} | {e:.4g} | {e / i:.2f} |")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------- structure sets
_STRUCTURE_FOLD_KEYS = (
    "mae",
    "chosen",
    "inner_scores",
    "fit_seconds",
    "select_seconds",
    "best_epochs",
    "n_train",
    "n_test",
)


def structures_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Task -> model -> per-fold results, mean and std of the test MAE, total fit time.

    Parameters
    ----------
    records : sequence of dict
        Fold records of :func:`skatomsets.benchmarks.structures.run_structure_task`.

    Returns
    -------
    dict
    """
    summary: dict[str, Any] = {}
    for rec in records:
        entry = summary.setdefault(rec["task"], {}).setdefault(rec["model"], {"folds": {}})
        entry["folds"][str(rec["fold"])] = {k: rec[k] for k in _STRUCTURE_FOLD_KEYS}
    for models in summary.values():
        for entry in models.values():
            maes = np.array([f["mae"] for f in entry["folds"].values()])
            entry["mean"], entry["std"] = float(maes.mean()), float(maes.std())
            entry["fit_seconds_total"] = float(
                sum(f["fit_seconds"] + f["select_seconds"] for f in entry["folds"].values())
            )
    return summary


def structures_table(summary: dict[str, Any]) -> str:
    """The structure-set table: test MAE per task and model, meV/atom for the perovskites.

    Parameters
    ----------
    summary : dict
        From :func:`structures_summary`.

    Returns
    -------
    str
    """
    lines = [
        "| task | model | folds | test MAE (mean ± std) | meV/atom | paper (full set) |",
        "|---|---|---|---|---|---|",
    ]
    for task, models in summary.items():
        for model, entry in models.items():
            mev = paper = "-"
            if task == "perovskites":  # eV/cell over 5 atoms -> meV/atom
                mev = f"{entry['mean'] / 5 * 1000:.1f} ± {entry['std'] / 5 * 1000:.1f}"
                paper = f"{PAPER_MEV_PER_ATOM.get((task, model), float('nan')):.0f}"
            lines.append(
                f"| {task} | {model} | {len(entry['folds'])} | "
                f"{entry['mean']:.4f} ± {entry['std']:.4f} | {mev} | {paper} |"
            )
    return "\n".join(lines) + "\n"


#: Columns of the parent comparison (the site levels, the structure vector, MEGNet from scratch).
#: The columns of the parent table after the site levels ``V0``..``V<n>``.
PARENT_COLUMNS = ("structure vector -> MLP", "trained from scratch")


def _parent_cell(model: str) -> tuple[str, int | str]:
    """The row label (the parent's) and column (a site level, or one of
    :data:`PARENT_COLUMNS`) of a parent-comparison model, from the model catalogue."""
    from ..models import model_info
    from ..parents import parent_info

    info = model_info(model)
    label = parent_info(info.parent).label if info.parent else model
    if info.level is not None:
        return label, info.level
    return label, PARENT_COLUMNS[0] if info.feature is not None else PARENT_COLUMNS[1]


def parents_table(records: Sequence[dict[str, Any]]) -> str:
    """The parent comparison: one row per set and parent, one column per level.

    Cells are the test MAE, mean ± population std over folds (with the number of folds when
    it is not 5); the best cell of each set is in bold. Columns: the site levels V0-V4 (V5
    too when a parent with a fifth block has records: ``atomsets-<parent>-v<k>``,
    ``atomsets-v<k>`` for MEGNet), the structure vector under an MLP (``mlp-chgnet``:
    CHGNet's ``crystal``, ``mlp-f``: MEGNet's ``f``) and MEGNet trained end to end from
    random weights (``megnet-scratch``); one row per parent (its label in the parent
    registry), placed by the model catalogue (:class:`~skatomsets.models.ModelInfo`). A
    cell with a fold record marked ``"stale"`` (made
    with another budget than the defaults resolve to today) ends in a dagger, explained
    under the table, and a set with such a cell has no bold (its cells are not comparable).

    Parameters
    ----------
    records : sequence of dict
        Fold records of :func:`skatomsets.benchmarks.parents.run_parent_task`.

    Returns
    -------
    str
    """
    maes: dict[tuple[str, str], list[float]] = {}
    stale = {(r["task"], r["model"]) for r in records if r.get("stale")}
    for r in records:
        maes.setdefault((r["task"], r["model"]), []).append(float(r["mae"]))
    cells = {m: _parent_cell(m) for m in PARENT_MODELS}
    present = {m for _, m in maes}
    deepest = max([c for m, (_, c) in cells.items() if isinstance(c, int) and m in present] + [4])
    columns = [*range(deepest + 1), *PARENT_COLUMNS]
    lines = [
        "| set | parent | "
        + " | ".join(f"V{c}" if isinstance(c, int) else c for c in columns)
        + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    layout: dict[str, list[str | None]] = {}
    for model in PARENT_MODELS:
        label, column = cells[model]
        if column not in columns:  # a level deeper than any with records
            continue
        layout.setdefault(label, [None] * len(columns))[columns.index(column)] = model
    for task in PARENT_TASKS:
        means = {m: float(np.mean(v)) for (t, m), v in maes.items() if t == task}
        if not means:
            continue
        mixed = any((task, m) in stale for m in means)
        best = None if mixed else min(means, key=means.__getitem__)
        for label, models in layout.items():
            if not any(m in means for m in models if m):
                continue
            cells = []
            for m in models:
                v = maes.get((task, m)) if m else None
                if not v:
                    cells.append("-")
                    continue
                cell = f"{np.mean(v):.4f} ± {np.std(v):.4f}"
                cell = f"**{cell}**" if m == best else cell
                n = len(v)
                cell = cell if n == 5 else f"{cell} ({n} fold{'s' * (n != 1)})"
                cells.append(f"{cell} †" if (task, m) in stale else cell)
            lines.append(f"| {task} | {label} | " + " | ".join(cells) + " |")
    if stale:
        lines += [
            "",
            "† made with an earlier training budget than the defaults resolve to today "
            "(not re-run); a set with such a cell has no bold.",
        ]
    return "\n".join(lines)


# ------------------------------------------------------------------------- learning curves
def summarize_learning_curves(
    rows: Sequence[dict[str, Any]],
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """(dataset, model, size) -> mean/std MAE, draws, mean fit seconds, mean epochs, and
    whether any point is marked ``"stale"``."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["model"], r["n_train"]), []).append(r)
    out = {}
    for key, g in groups.items():
        maes = np.array([r["test_mae"] for r in g])
        out[key] = {
            "mean": float(maes.mean()),
            "std": float(maes.std(ddof=1)) if len(maes) > 1 else float("nan"),
            "n": len(maes),
            "fit_s": float(np.mean([r["fit_seconds"] for r in g])),
            "epochs": float(np.mean([r["epochs_run"] for r in g])),
            "stale": any(r.get("stale") for r in g),
        }
    return out


def model_order(models: Sequence[str] | set[str]) -> list[str]:
    """The learning-curve models in :data:`LEARNING_CURVE_MODELS` order, then the others."""
    known = [m for m in LEARNING_CURVE_MODELS if m in models]
    return known + sorted(set(models) - set(known))


def learning_curves_table(rows: Sequence[dict[str, Any]]) -> str:
    """Test MAE mean ± std (number of draws) per dataset, model and training-set size.

    A cell with a point marked ``"stale"`` (another ``"auto"`` budget than today's) ends
    in a dagger, explained under its table.
    """
    s = summarize_learning_curves(rows)
    lines = []
    for ds in sorted({k[0] for k in s}):
        sizes = sorted({k[2] for k in s if k[0] == ds})
        models = model_order({k[1] for k in s if k[0] == ds})
        unit = next(r.get("unit", "") for r in rows if r["dataset"] == ds)
        lines += [f"**{ds}** (test MAE, {unit}; mean ± std over draws, (n) = draws)", ""]
        lines.append("| model | " + " | ".join(f"n={n}" for n in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for m in models:
            cells = []
            for n in sizes:
                v = s.get((ds, m, n))
                if v is None:
                    cells.append("-")
                    continue
                cell = (
                    f"{v['mean']:.4f} ± {v['std']:.4f} ({v['n']})"
                    if v["n"] > 1
                    else f"{v['mean']:.4f} (1)"
                )
                cells.append(f"{cell} †" if v["stale"] else cell)
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        if any(s[k]["stale"] for k in s if k[0] == ds):
            lines += [
                "",
                '† trained with another `"auto"` budget than the size rules give today '
                "(e.g. fewer networks); not re-run.",
            ]
        lines += ["", "Mean fit wall time per point, s (mean epochs run):", ""]
        lines.append("| model | " + " | ".join(f"n={n}" for n in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for m in models:
            cells = []
            for n in sizes:
                v = s.get((ds, m, n))
                cells.append("-" if v is None else f"{v['fit_s']:.0f} ({v['epochs']:.0f})")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
