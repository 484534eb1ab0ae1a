"""The paper's other protocols as a resumable runner: random, convergence, extrapolation.

:func:`run_protocols` is the counterpart of :func:`skatomsets.benchmark.run_benchmark` for
the splits of :mod:`skatomsets.protocols`:

- ``"random"``: random 90/10 train/test splits (the estimators carve their own validation
  set from the 90 %, ``validation_fraction=1/9`` gives the paper's 80/10/10), ``n_repeats``
  times;
- ``"convergence"``: training sets of the paper's sizes (100, 200, 400, 600, 1000, 2000 by
  default) drawn from the non-test rows of each repeat, one fixed test set per repeat
  (paper Figs. 2-3);
- ``"extrapolation"`` (regression only): the top 10 % targets are one test set, an equally
  large random subset of the rest the other; training on what remains (paper Fig. 4).

Every model x task x protocol x split is one JSON file in ``out_dir`` (atomic write,
checked against a signature of the parameters and rows, so an interrupted run resumes).
Into ``docs_dir`` go ``protocols_results.json``, ``protocols_table.md``,
``convergence_<task>.png`` and ``extrapolation.png``.

Parameters come from :func:`skatomsets.benchmark.resolve_params` (the task's
:data:`~skatomsets.benchmark.CONFIG` entry, untuned: the tuning of the MatBench run looks
at fold 0's rows, which these random splits would reuse as test rows). For convergence the
batch size is capped at ``max(16, n_train // 16)`` so that tiny training sets still get
several steps per epoch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write_text, new_figure, save_figure
from .benchmark import (
    _jsonable,
    _require_out_dir,
    make_benchmark_model,
    read_record,
    resolve_params,
)
from .datasets import is_classification, load_matbench
from .protocols import (
    Split,
    convergence_splits,
    evaluate_splits,
    extrapolation_split,
    random_splits,
)

__all__ = [
    "CONVERGENCE_SIZES",
    "PROTOCOLS",
    "protocol_splits",
    "protocols_table",
    "run_protocols",
    "split_params",
]

PROTOCOLS = ("random", "convergence", "extrapolation")
CONVERGENCE_SIZES = (100, 200, 400, 600, 1000, 2000)


def protocol_splits(
    protocol: str,
    y: np.ndarray,
    classification: bool,
    n_repeats: int = 5,
    sizes: Sequence[int] = CONVERGENCE_SIZES,
    random_state: int = 0,
) -> list[Split]:
    """The splits of one protocol for targets ``y``.

    Parameters
    ----------
    protocol : {"random", "convergence", "extrapolation"}
    y : ndarray of shape (n_samples,)
    classification : bool
        Extrapolation has no meaning for class labels: it gives no splits.
    n_repeats : int, default=5
    sizes : sequence of int, default=CONVERGENCE_SIZES
        Training-set sizes of the convergence protocol (sizes above the pool are skipped).
    random_state : int, default=0

    Returns
    -------
    list of Split

    Examples
    --------
    >>> [s.name for s in protocol_splits("convergence", np.arange(500.0), False, 2, (100, 400))]
    ['n100_repeat0', 'n400_repeat0', 'n100_repeat1', 'n400_repeat1']
    """
    n = len(y)
    if protocol == "random":
        return random_splits(n, n_repeats=n_repeats, random_state=random_state)
    if protocol == "convergence":
        return convergence_splits(
            n, sizes=list(sizes), n_repeats=n_repeats, random_state=random_state
        )
    if protocol == "extrapolation":
        if classification:
            return []
        return [extrapolation_split(y, random_state=random_state)]
    raise ValueError(f"unknown protocol {protocol!r}; choose from {PROTOCOLS}")


def split_params(
    model: str,
    task: str,
    protocol: str,
    n_train: int,
    config: dict[tuple[str, str], dict[str, Any]] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Estimator parameters for one split (:func:`resolve_params`, batch capped for small n).

    With the default :data:`~skatomsets.benchmark.CONFIG` (only the seed) the batch size is
    the estimators' ``"auto"``, which ``fit`` resolves from the split's training size; a
    configured batch size is capped for the small convergence splits.

    Examples
    --------
    >>> "batch_size" in split_params("atomsets", "matbench_mp_e_form", "convergence", 200)
    False
    >>> cfg = {("*", "*"): {"batch_size": 256}}
    >>> split_params("atomsets", "matbench_mp_e_form", "convergence", 200, cfg)["batch_size"]
    16
    >>> split_params("atomsets", "matbench_mp_e_form", "convergence", 3200, cfg)["batch_size"]
    200
    >>> split_params("atomsets", "matbench_mp_e_form", "random", 200, cfg)["batch_size"]
    256
    """
    params = resolve_params(model, task, config, overrides)
    if protocol == "convergence" and "batch_size" in params:
        params["batch_size"] = int(min(params["batch_size"], max(16, n_train // 16)))
    return params


def _split_path(out: Path, protocol: str, model: str, task: str, split: str) -> Path:
    return out / f"{protocol}__{model}__{task}__{split}.json"


def _load(path: Path, signature: dict[str, Any]) -> dict[str, Any] | None:
    rec = read_record(path, signature, required=("signature",))
    if rec is None:
        return None
    scores = [v for k, v in rec.items() if k.endswith("_score")]
    if not scores or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in scores):
        return None
    return rec


def run_protocols(
    models: Iterable[str],
    tasks: Iterable[str],
    protocols: Iterable[str] = PROTOCOLS,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    docs_dir: str | os.PathLike[str] | None = None,
    n_repeats: int = 5,
    sizes: Sequence[int] = CONVERGENCE_SIZES,
    limit: int | None = None,
    overrides: dict[str, Any] | None = None,
    config: dict[tuple[str, str], dict[str, Any]] | None = None,
    num_threads: int | None = 1,
    progress: bool = True,
    plots: bool = True,
    compute: bool = True,
) -> dict[str, Any]:
    """Run models x tasks x protocols, resuming finished splits.

    Parameters
    ----------
    models, tasks : iterable of str
        Model names (or ``"dummy"``) and MatBench task names.
    protocols : iterable of str, default=PROTOCOLS
    data_dir : path, optional
        Folder of ``matbench_<task>.csv.gz`` files.
    out_dir : path
        Required: one JSON per model/task/protocol/split (the resume state). Nothing is
        written anywhere else unless ``docs_dir`` is given.
    docs_dir : path or None, default=None
        Results JSON, Markdown table and plots (None: nowhere; the results are returned).
        The CLI uses ``<out-dir>/report``.
    n_repeats : int, default=5
    sizes : sequence of int, default=CONVERGENCE_SIZES
    limit : int, optional
        Use only the first ``limit`` rows of each task.
    overrides, config : dict, optional
        As in :func:`~skatomsets.benchmark.run_benchmark`.
    num_threads : int or None, default=1
    progress, plots : bool, default=True
    compute : bool, default=True
        False: fit nothing; report the finished splits.

    Returns
    -------
    dict
        ``{"protocols": {protocol: [run, ...]}}``; each run has ``model``, ``task``,
        ``metric`` and ``splits`` (``split``, ``n_train``, ``<test>_score``, ``<test>_n``,
        ``fit_seconds``).
    """
    from tqdm.auto import tqdm

    if num_threads is not None:
        import torch

        torch.set_num_threads(int(num_threads))
    models, tasks, protocols = list(models), list(tasks), list(protocols)
    for p in protocols:
        if p not in PROTOCOLS:
            raise ValueError(f"unknown protocol {p!r}; choose from {PROTOCOLS}")
    out = _require_out_dir(out_dir)
    plan = []
    for task in tasks:
        df = load_matbench(task, data_dir=data_dir, download=False)
        df = df.iloc[:limit] if limit else df
        X, y = df["composition"].to_numpy(), df["target"].to_numpy()
        cls = is_classification(task)
        for protocol in protocols:
            splits = protocol_splits(protocol, y, cls, n_repeats, sizes)
            plan.extend((task, X, y, cls, protocol, m, s) for m in models for s in splits)
    results: dict[str, Any] = {
        "n_repeats": n_repeats,
        "sizes": list(sizes),
        "limit": limit,
        "protocols": {p: [] for p in protocols},
    }
    runs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for task, X, y, cls, protocol, model, split in tqdm(
        plan, desc="protocols", unit="split", disable=not progress
    ):
        params = split_params(model, task, protocol, len(split.train), config, overrides)
        signature = {"params": params, "rows": len(y), "n_train": len(split.train)}
        path = _split_path(out, protocol, model, task, split.name)
        rec = _load(path, signature)
        if rec is None and not compute:
            continue
        if rec is None:
            est = make_benchmark_model(model, task, params)
            rec = evaluate_splits(est, X, y, [split], classification=cls)[0]
            rec["signature"] = _jsonable(signature)
            atomic_write_text(path, json.dumps(rec))
        key = (protocol, model, task)
        if key not in runs:
            runs[key] = {
                "model": model,
                "task": task,
                "metric": "roc_auc" if cls else "mae",
                "params": resolve_params(model, task, config, overrides),
                "splits": [],
            }
            results["protocols"][protocol].append(runs[key])
        runs[key]["splits"].append({k: v for k, v in rec.items() if k != "signature"})
    if docs_dir is not None:
        docs = Path(docs_dir)
        docs.mkdir(parents=True, exist_ok=True)
        atomic_write_text(docs / "protocols_results.json", json.dumps(results, indent=1))
        atomic_write_text(docs / "protocols_table.md", protocols_table(results))
        if plots:
            for task in tasks:
                conv = [r for r in results["protocols"].get("convergence", []) if r["task"] == task]
                if conv:
                    convergence_plot(task, conv, docs / f"convergence_{task}.png")
            extrap = results["protocols"].get("extrapolation", [])
            if extrap:
                extrapolation_plot(extrap, docs / "extrapolation.png")
    return results


# ------------------------------------------------------------------------------- reports
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
        The output of :func:`run_protocols`.

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


def convergence_plot(task: str, runs: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Test score against training-set size (log-log for MAE), one line per model.

    Parameters
    ----------
    task : str
    runs : list of dict
        Convergence runs of :func:`run_protocols` for ``task``.
    path : path
        PNG file to write.
    """
    from .plotting import LearningCurveDisplay

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
        Extrapolation runs of :func:`run_protocols`.
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
