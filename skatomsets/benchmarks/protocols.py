"""The paper's other protocols as a resumable runner: random, convergence, extrapolation.

:func:`run_protocols` is the counterpart of :func:`skatomsets.benchmarks.matbench.run_benchmark` for
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

Parameters come from :func:`skatomsets.benchmarks.config.resolve_params` (the task's
:data:`~skatomsets.benchmarks.config.CONFIG` entry, untuned: the tuning of the MatBench run looks
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

from ..datasets import is_classification, load_matbench
from ..io.files import atomic_write_text
from ..protocols import (
    Split,
    convergence_splits,
    evaluate_splits,
    extrapolation_split,
    random_splits,
)
from .baselines import make_benchmark_model
from .config import CONVERGENCE_SIZES, PROTOCOLS, resolve_params
from .plots import convergence_plot, extrapolation_plot
from .records import RecordStore, jsonable, require_out_dir
from .reporting import protocols_table

__all__ = ["protocol_splits", "run_protocols", "split_params"]


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
    """Estimator parameters for one split (``resolve_params``, batch capped for small n).

    With the default :data:`~skatomsets.benchmarks.config.CONFIG` (only the seed) the batch size is
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


def _usable_split(rec: dict[str, Any]) -> bool:
    scores = [v for k, v in rec.items() if k.endswith("_score")]
    return bool(scores) and all(isinstance(v, (int, float)) and np.isfinite(v) for v in scores)


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
        As in :func:`~skatomsets.benchmarks.matbench.run_benchmark`.
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
    store = RecordStore(require_out_dir(out_dir))
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
        name = (protocol, model, task, split.name)
        rec = store.read(*name, signature=signature, required=("signature",), valid=_usable_split)
        if rec is None and not compute:
            continue
        if rec is None:
            est = make_benchmark_model(model, task, params)
            rec = evaluate_splits(est, X, y, [split], classification=cls)[0]
            rec["signature"] = jsonable(signature)
            store.write(rec, *name)
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
