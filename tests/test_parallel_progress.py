"""Epoch progress of fits that run in worker processes (``skatomsets train --n-jobs 2``)."""

from __future__ import annotations

import io

import numpy as np

from skatomsets import cli
from skatomsets.estimators._progress import ProgressFolder, training_progress
from skatomsets.models import make_model
from skatomsets.protocols import fit_fold, run_jobs


class _Recording(ProgressFolder):
    def __init__(self, path):
        super().__init__(path)
        self.calls = []

    def write(self, key, text):
        self.calls.append((key, text))
        super().write(key, text)


def _leave_line(folder: ProgressFolder, key: str) -> int:
    import os

    folder.write(key, f"{key} from process {os.getpid()}")
    return os.getpid()


def test_a_worker_fit_reports_its_epochs_to_the_folder_and_clears_its_line(tmp_path, monkeypatch):
    import skatomsets.estimators._progress as prog

    monkeypatch.setattr(prog, "WORKER_REPORT_SECONDS", 0.0)  # a line every epoch
    folder = _Recording(tmp_path)
    model = make_model("atomsets-v0", random_state=0, max_epochs=3, n_ensemble=2, patience=None)
    X = np.array(["Fe2O3", "NaCl", "MgO", "Al2O3", "SiO2", "TiO2", "ZnO", "CuO"] * 3)
    y = np.arange(len(X), dtype=float)
    train, test = np.arange(16), np.arange(16, 24)
    fit_fold(model, X, y, 0, train, test, lambda e, Xt, yt: ("mae", 0.0, [], []), folder)
    texts = [t for _, t in folder.calls if t is not None]
    assert "fold 0, networks 1-2: epoch 0/3" in texts
    assert "fold 0, networks 1-2: epoch 3/3" in texts
    assert folder.calls[-1] == ("fold_0", None)  # the line goes when the fit ends
    assert folder.lines() == []


def test_lines_written_in_worker_processes_reach_the_parent(tmp_path):
    folder = ProgressFolder(tmp_path)
    jobs = [(_leave_line, (folder, f"fold_{k}"), {}) for k in range(2)]
    pids = run_jobs(jobs, n_jobs=2)
    lines = folder.lines()
    assert lines == [f"fold_{k} from process {pids[k]}" for k in range(2)]


def test_the_parallel_bar_shows_the_running_fits_epochs(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "TICK_SECONDS", (0.02, 0.02))
    err = io.StringIO()
    monkeypatch.setattr(cli.sys, "stderr", err)
    import time

    with cli._fit_bar(3, parallel=True, quiet=False, with_refit=True) as (bar, folder):
        assert folder is not None
        folder.write("fold_1", "fold 1, networks 1-5: epoch 412/1500")
        time.sleep(0.3)
        assert "fold 1, networks 1-5: epoch 412/1500" in str(bar)
    with cli._fit_bar(3, parallel=False, quiet=False, with_refit=True) as (bar, folder):
        assert folder is None  # one process draws a bar per network itself
    with cli._fit_bar(3, parallel=True, quiet=True, with_refit=True) as (bar, folder):
        assert folder is None


def test_the_auto_models_lines_name_the_candidate_being_trained(tmp_path, monkeypatch):
    import skatomsets.estimators._progress as prog
    from skatomsets.auto import AutoAtomSetsRegressor

    monkeypatch.setattr(prog, "WORKER_REPORT_SECONDS", 0.0)
    folder = _Recording(tmp_path)
    X = ["Fe2O3", "NaCl", "MgO", "Al2O3", "SiO2", "TiO2", "ZnO", "CuO"] * 3
    y = np.arange(len(X), dtype=float)
    auto = AutoAtomSetsRegressor(
        candidates=["atomsets-v0", "mlp-v0-stats"], model_params={"max_epochs": 2}, random_state=0
    )
    with training_progress("fold 3", enabled=folder):
        auto.fit(X, y)
    texts = {t.rsplit(":", 1)[0] for _, t in folder.calls if t is not None}
    assert any(t.startswith("fold 3, atomsets-v0, networks 1-") for t in texts), texts
    assert any(t.startswith("fold 3, mlp-v0-stats, networks 1-") for t in texts), texts
