"""Timing helpers of the benchmark scripts (``scripts/bench_*.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["bare_epoch_seconds", "cpu_model"]


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
