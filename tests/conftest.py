"""Shared fixtures. Tests that need ../shared/data skip cleanly when it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(
    os.environ.get(
        "SKATOMSETS_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder (../shared/data); skips the test when it is absent."""
    if not (SHARED_DATA / "matbench").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


#: The smallest fit that runs the whole training path (two epochs, one network): for tests of
#: behaviour (errors, shapes, plumbing), not of what a model learns.
TINY_FIT = {"max_epochs": 2, "batch_size": 4, "n_ensemble": 1, "random_state": 0, "device": "cpu"}


@pytest.fixture
def tiny() -> dict:
    """Estimator parameters for a fit that only has to run (see ``TINY_FIT``)."""
    return dict(TINY_FIT)


@pytest.fixture
def fast() -> dict:
    """Estimator parameters for quick CPU tests (one network: "auto" would train 5 on tiny data)."""
    return {"max_epochs": 15, "batch_size": 32, "n_ensemble": 1, "random_state": 0, "device": "cpu"}


@pytest.fixture
def run_python():
    """``run_python(code, check=True)``: ``python -c code`` run from the repository root in a
    fresh interpreter, its ``CompletedProcess`` (text output captured)."""

    def run(code: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-c", code]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=check)

    return run
