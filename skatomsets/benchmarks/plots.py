"""The benchmark figures, drawn with the user-facing Displays of :mod:`skatomsets.plotting`.

Every figure is built outside pyplot (:func:`skatomsets.io.files.new_figure`: no backend is
chosen, a user's pyplot state is left alone) and written atomically
(:func:`skatomsets.io.files.save_figure`). matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..io.files import new_figure, save_figure

__all__ = [
    "convergence_plot",
    "extrapolation_plot",
    "learning_curves_plot",
    "parents_plot",
    "parity_plot",
    "roc_plot",
    "structures_parity_plot",
]


def _size(split: dict[str, Any]) -> int:
    return int(split["n_train"])


def parity_plot(
    task: str, by_model: dict[str, list[dict[str, Any]]], path: str | os.PathLike[str]
) -> None:
    """Test predictions of all folds against the truth, one panel per model.

    Each panel is a :class:`skatomsets.plotting.ParityDisplay`; the figure is built
    outside pyplot (no backend is chosen) and written with :func:`save_figure`.

    Parameters
    ----------
    task : str
    by_model : dict
        Model name -> fold records (with ``y_true``, ``predictions`` and, when recorded,
        ``std``).
    path : path
        PNG file to write.
    """
    from ..plotting import ParityDisplay

    n = len(by_model)
    fig, axes = new_figure(1, n, figsize=(2.6 * n, 2.8))
    for ax, (model, records) in zip(axes[0], by_model.items(), strict=True):
        y = np.concatenate([r["y_true"] for r in records])
        p = np.concatenate([r["predictions"] for r in records])
        std = None
        if all("std" in r for r in records):
            std = np.concatenate([r["std"] for r in records])
        ParityDisplay.from_predictions(
            y,
            p,
            y_std=std,
            name=model,
            ax=ax,
            scatter_kwargs={"s": 3, "alpha": 0.4, "rasterized": True} if std is None else None,
        )
        ax.title.set_fontsize(8)
        ax.set_xlabel("true", fontsize=7)
        ax.set_ylabel("")
        ax.tick_params(labelsize=6)
    axes[0][0].set_ylabel("predicted (test folds)", fontsize=7)
    fig.suptitle(task, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def roc_plot(
    task: str, by_model: dict[str, list[dict[str, Any]]], path: str | os.PathLike[str]
) -> None:
    """ROC curves of the test-fold probabilities (all folds pooled), one line per model.

    Each line is a :class:`skatomsets.plotting.ROCDisplay`; the figure is built outside
    pyplot and written with :func:`save_figure`.

    Parameters
    ----------
    task : str
    by_model : dict
        Model name -> fold records (``y_true`` labels and ``predictions`` probabilities).
    path : path
        PNG file to write.
    """
    from ..plotting import ROCDisplay

    fig, axes = new_figure(figsize=(3.4, 3.2))
    ax = axes[0][0]
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
    for model, records in by_model.items():
        y = np.concatenate([r["y_true"] for r in records])
        p = np.concatenate([r["predictions"] for r in records])
        ROCDisplay.from_predictions(y, p, name=model, ax=ax)
    ax.set_xlabel("false positive rate", fontsize=7)
    ax.set_ylabel("true positive rate (test folds)", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6, loc="lower right")
    ax.set_title(task, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def convergence_plot(task: str, runs: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Test score against training-set size (log-log for MAE), one line per model.

    Parameters
    ----------
    task : str
    runs : list of dict
        Convergence runs of :func:`~skatomsets.benchmarks.protocols.run_protocols` for ``task``.
    path : path
        PNG file to write.
    """
    from ..plotting import LearningCurveDisplay

    fig, axes = new_figure(figsize=(4.2, 3.2))
    ax = axes[0][0]
    metric = runs[0]["metric"] if runs else ""
    for r in runs:
        sizes = sorted({_size(s) for s in r["splits"]})
        vals = [[s["test_score"] for s in r["splits"] if _size(s) == n] for n in sizes]
        width = max(len(v) for v in vals)
        scores = np.full((len(sizes), width), np.nan)
        for i, v in enumerate(vals):
            scores[i, : len(v)] = v
        LearningCurveDisplay.from_scores(
            sizes,
            scores,
            score_name=f"test {metric}",
            name=r["model"],
            ax=ax,
            log_scale=True if metric == "mae" else False,
        )
    if runs and metric != "mae":
        ax.set_xscale("log")
    ax.set_title(task, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def extrapolation_plot(runs: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Interpolation vs extrapolation MAE per model, one panel per task.

    Parameters
    ----------
    runs : list of dict
        Extrapolation runs of :func:`~skatomsets.benchmarks.protocols.run_protocols`.
    path : path
        PNG file to write.
    """
    tasks = list(dict.fromkeys(r["task"] for r in runs))
    ncols = min(4, len(tasks))
    nrows = -(-len(tasks) // ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(2.8 * ncols, 2.8 * nrows))
    for ax in axes.flat[len(tasks) :]:
        ax.set_visible(False)
    for ax, task in zip(axes.flat, tasks, strict=False):
        sub = [r for r in runs if r["task"] == task]
        x = np.arange(len(sub))
        interp = [r["splits"][0]["interpolation_score"] for r in sub]
        extrap = [r["splits"][0]["extrapolation_score"] for r in sub]
        ax.bar(x - 0.2, interp, 0.4, label="interpolation")
        ax.bar(x + 0.2, extrap, 0.4, label="extrapolation (top 10 %)")
        ax.set_xticks(x, [r["model"] for r in sub], rotation=45, ha="right", fontsize=6)
        ax.set_title(task, fontsize=8)
        ax.tick_params(axis="y", labelsize=6)
    for row in axes:
        row[0].set_ylabel("test MAE", fontsize=7)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, path)


def structures_parity_plot(
    task: str, model: str, records: Sequence[dict[str, Any]], path: str | os.PathLike[str]
) -> None:
    """Test predictions of all folds of one structure-set model/task against the truth.

    A :class:`skatomsets.plotting.ParityDisplay` titled with the MAE in eV/cell and
    meV/atom (the perovskites' 5-atom cells).

    Parameters
    ----------
    task, model : str
    records : sequence of dict
        Fold records (``y_true``, ``predictions``).
    path : path
        PNG file to write.
    """
    from ..plotting import ParityDisplay

    y = np.concatenate([r["y_true"] for r in records])
    p = np.concatenate([r["predictions"] for r in records])
    fig, axes = new_figure(figsize=(3.4, 3.4))
    ax = axes[0][0]
    disp = ParityDisplay.from_predictions(
        y, p, ax=ax, scatter_kwargs={"s": 2, "alpha": 0.4, "rasterized": True}
    )
    mae = disp.mae_
    ax.set_title(
        f"{model} on {task} ({len(records)} test folds)\nMAE {mae:.3f} eV/cell "
        f"= {mae / 5 * 1000:.0f} meV/atom",
        fontsize=8,
    )
    ax.set_xlabel("DFT e_form (eV/cell)", fontsize=8)
    ax.set_ylabel("predicted (eV/cell)", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def learning_curves_plot(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """One panel per dataset: test MAE against training-set size (log x), one line per model.

    Each line is a :class:`skatomsets.plotting.LearningCurveDisplay` of the draws' scores
    (mean ± standard deviation over the draws at each size). A model keeps its colour in every
    panel (up to 20 distinct colours); models on CHGNet features are drawn solid, the others
    dashed; one legend, right of the last panel, names them all.

    Parameters
    ----------
    rows : sequence of dict
        Learning-curve points (``dataset``, ``model``, ``n_train``, ``test_mae``, ``unit``).
    path : path
        PNG file to write.
    """
    from ..plotting import LearningCurveDisplay
    from .reporting import model_order

    datasets = sorted({r["dataset"] for r in rows})
    if not datasets:
        return
    import matplotlib as mpl

    models = model_order({r["model"] for r in rows})
    cmap = mpl.colormaps["tab10" if len(models) <= 10 else "tab20"]
    # tab20's dark shades first, then the light ones: the first ten models are all distinct hues
    order = [*range(0, cmap.N, 2), *range(1, cmap.N, 2)] if cmap.N == 20 else list(range(cmap.N))
    colour = {m: cmap(order[i % cmap.N]) for i, m in enumerate(models)}
    fig, axes = new_figure(1, len(datasets), figsize=(5.2 * len(datasets) + 2.2, 3.8))
    for ax, ds in zip(axes[0], datasets, strict=True):
        sub = [r for r in rows if r["dataset"] == ds]
        for m in model_order({r["model"] for r in sub}):
            pts = [r for r in sub if r["model"] == m]
            sizes = sorted({int(r["n_train"]) for r in pts})
            vals = [[r["test_mae"] for r in pts if r["n_train"] == n] for n in sizes]
            scores = np.full((len(sizes), max(len(v) for v in vals)), np.nan)
            for i, v in enumerate(vals):
                scores[i, : len(v)] = v
            draws = "/".join(map(str, sorted({len(v) for v in vals})))
            LearningCurveDisplay.from_scores(
                sizes,
                scores,
                name=f"{m} ({draws} draws)",
                ax=ax,
                log_scale=False,
                errorbar_kwargs={
                    "ms": 4,
                    "capsize": 3,
                    "color": colour[m],
                    "ls": "-" if "chgnet" in m else "--",
                },
            )
        unit = next(r.get("unit", "") for r in sub)
        ax.set_xscale("log")
        ax.set_ylabel(f"test MAE ({unit})" if unit else "test MAE")
        ax.set_title(ds)
        ax.grid(alpha=0.3, which="both")
    handles: dict[str, Any] = {}
    for ax in axes[0]:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    axes[0][-1].legend(
        handles.values(), handles.keys(), fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0)
    )
    fig.tight_layout()
    save_figure(fig, path)


#: Bar colour of each parent's models in :func:`parents_plot`.
_PARENT_COLOURS = {"chgnet": "tab:orange", "megnet": "tab:blue", "sevennet": "tab:green"}


def _parent_of(model: str) -> str | None:
    from ..models import model_info

    return model_info(model).parent


def parents_plot(records: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """One panel per structure set: test MAE (mean ± std over folds) of every parent level.

    Horizontal bars, one per model in :data:`~skatomsets.benchmarks.config.PARENT_MODELS`
    order that has records, one colour per parent, the best marked.
    A model with a record marked ``"stale"`` (another budget than today's defaults) gets a
    hatched bar and a dagger on its label, and its panel marks no best.

    Parameters
    ----------
    records : sequence of dict
        Fold records of :func:`skatomsets.benchmarks.parents.run_parent_task`.
    path : path
        PNG file to write.
    """
    from .config import PARENT_MODELS, PARENT_TASKS

    tasks = [t for t in PARENT_TASKS if any(r["task"] == t for r in records)]
    if not tasks:
        return
    fig, axes = new_figure(
        1, len(tasks), figsize=(3.6 * len(tasks), 0.32 * len(PARENT_MODELS) + 1.6)
    )
    for ax, task in zip(axes[0], tasks, strict=True):
        models, means, stds, labels, stale = [], [], [], [], []
        for m in PARENT_MODELS:
            rows = [r for r in records if r["task"] == task and r["model"] == m]
            if rows:
                maes = [r["mae"] for r in rows]
                models.append(m)
                means.append(float(np.mean(maes)))
                stds.append(float(np.std(maes)))
                stale.append(any(r.get("stale") for r in rows))
                label = m if len(maes) == 5 else f"{m} ({len(maes)})"
                labels.append(f"{label} †" if stale[-1] else label)
        y = np.arange(len(models))[::-1]
        colours = [_PARENT_COLOURS.get(_parent_of(m), "tab:gray") for m in models]
        bars = ax.barh(y, means, xerr=stds, color=colours, alpha=0.8, capsize=2)
        for bar, old in zip(bars, stale, strict=True):
            if old:
                bar.set_hatch("//")
                bar.set_alpha(0.4)
        if not any(stale):
            best = int(np.argmin(means))
            ax.barh(y[best], means[best], fill=False, edgecolor="black", linewidth=1.5)
        ax.set_yticks(y, labels)
        ax.set_xlabel("test MAE (5-fold mean ± std)" + ("\n† earlier budget" if any(stale) else ""))
        ax.set_title(task, fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    save_figure(fig, path)
