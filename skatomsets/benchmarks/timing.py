"""Timing helpers of the benchmark scripts (``scripts/bench_*.py``)."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "bare_epoch_seconds",
    "cpu_model",
    "featurize_bench_parser",
    "featurizer_runs",
    "load_structures",
    "print_throughput",
    "time_alternating",
]


def cpu_model() -> str:
    """The CPU's model name as ``lscpu`` prints it (what every timing is reported with)."""
    import platform
    import subprocess

    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    names = [line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line]
    return names[0] if names else (platform.processor() or "unknown CPU")


def bare_epoch_seconds(
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batches: Sequence[tuple[Any, torch.Tensor]],
    epochs: int,
    warmup: int = 0,
) -> float:
    """Median seconds per epoch of a bare eager loop: forward, loss, backward, optimizer step.

    Parameters
    ----------
    module, optimizer, loss_fn
        The network, its optimizer and the loss (``loss_fn(prediction, target)``).
    batches : sequence of (input, target)
        Pre-built mini-batches (no data handling is timed).
    epochs : int
        Timed epochs.
    warmup : int, default=0
        Untimed epochs run first.

    Returns
    -------
    float
        The median over the timed epochs. Each step reads the loss back (``loss.item()``),
        as a training loop that records it does.
    """
    module.train()
    times = []
    for epoch in range(warmup + epochs):
        t0 = time.perf_counter()
        for xb, yb in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(module(xb), yb)
            loss.backward()
            optimizer.step()
            loss.item()
        if epoch >= warmup:
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def load_structures(path: Path, limit: int | None) -> list:
    """The first ``limit`` (None: all) structures of a gzipped JSON list of records whose
    ``"structure"`` is a ``Structure.as_dict()`` (the shared data sets' format)."""
    from pymatgen.core import Structure

    with gzip.open(path, "rt") as fh:
        records = json.load(fh)[:limit]
    return [Structure.from_dict(r["structure"]) for r in records]


def featurizer_runs(
    make: Callable[[int | None], Any], structures: Sequence[Any], jobs: int
) -> dict[str, Callable[[], np.ndarray]]:
    """Our featurizer's two runs on ``structures``: in this process (``"ours"``) and with
    ``jobs`` worker processes, the structures cut into one chunk per worker.

    ``make(n_jobs)`` builds the featurizer; each run fits and transforms anew and returns
    the feature values (``RaggedSets.values``).
    """

    def run(n_jobs: int | None) -> np.ndarray:
        feat = make(n_jobs)
        if n_jobs:
            feat.set_params(chunk_size=-(-len(structures) // n_jobs))
        return feat.fit_transform(structures).values

    return {"ours": lambda: run(None), f"ours, n_jobs={jobs}": lambda: run(jobs)}


def time_alternating(
    runs: dict[str, Callable[[], np.ndarray]],
    repeats: int,
    agree: Callable[[str, np.ndarray, np.ndarray], None],
) -> dict[str, list[float]]:
    """Seconds of each run, ``repeats`` rounds alternating the runs (so drift hits all alike).

    ``agree(name, out, ref)`` is called on every output after the first one (``ref``) and
    raises where they differ too much.
    """
    times: dict[str, list[float]] = {k: [] for k in runs}
    ref = None
    for _ in range(repeats):
        for name, fn in runs.items():
            t = time.perf_counter()
            out = fn()
            times[name].append(time.perf_counter() - t)
            if ref is None:
                ref = out
            else:
                agree(name, out, ref)
    return times


def print_throughput(
    times: dict[str, list[float]], n: int, baseline: str, vs: str, width: int
) -> None:
    """Print structures/s of each run (median time over the rounds) and its speed-up over
    the run ``baseline``, in a column headed ``vs {vs}``; names padded to ``width``."""
    base = statistics.median(times[baseline])
    print(f"{'':{width}s} {'structures/s':>12s} {'vs ' + vs:>9s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:{width}s} {n / med:12.1f} {base / med:8.2f}x")


def featurize_bench_parser(
    doc: str, script: str, limit: int, batch_size: int
) -> argparse.ArgumentParser:
    """The options every featurization benchmark (``scripts/bench_*_featurize.py``) takes.

    ``--data`` (default: the dielectric set of the shared data, ``../shared/data`` beside
    the checkout of ``script`` or ``$SKATOMSETS_SHARED_DATA``) and ``--limit`` (default
    ``limit``) pick the structures, ``--repeats`` the alternating rounds, ``--batch-size``
    (default ``batch_size``) our structures per pass and ``--jobs`` the worker processes;
    ``doc``'s first line describes the script.
    """
    root = Path(script).resolve().parents[1]
    shared = Path(os.environ.get("SKATOMSETS_SHARED_DATA", root.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=shared / "structures" / "dielectric_constant.json.gz"
    )
    parser.add_argument("--limit", type=int, default=limit, help="number of structures")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds")
    parser.add_argument(
        "--batch-size", type=int, default=batch_size, help="our structures per pass"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for n_jobs")
    return parser
