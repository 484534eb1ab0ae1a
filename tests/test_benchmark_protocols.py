"""The random / convergence / extrapolation runner: splits, resume, tables, plots, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skatomsets.benchmarks import config
from skatomsets.benchmarks import protocols as bp
from skatomsets.cli import _task_names, main

TINY = {"max_epochs": 2, "patience": None, "n_ensemble": 1}


def _run(tmp_path, **kw):
    args = {
        "models": ["dummy", "mlp-v0-stats"],
        "tasks": ["matbench_steels", "matbench_glass"],
        "protocols": config.PROTOCOLS,
        "out_dir": tmp_path / "runs",
        "docs_dir": tmp_path / "docs",
        "n_repeats": 2,
        "sizes": (40, 80),
        "limit": 150,
        "overrides": TINY,
        "progress": False,
    }
    args.update(kw)
    return bp.run_protocols(**args)


def test_protocol_splits_are_disjoint_and_sized():
    y = np.random.default_rng(0).normal(size=300)
    for s in bp.protocol_splits("random", y, False, n_repeats=3):
        assert len(s.test["test"]) == 30 and len(s.train) == 270
        assert not set(s.train) & set(s.test["test"])
    conv = bp.protocol_splits("convergence", y, False, n_repeats=2, sizes=(50, 100, 1000))
    assert sorted({len(s.train) for s in conv}) == [50, 100]  # 1000 > pool: skipped
    (ext,) = bp.protocol_splits("extrapolation", y, False)
    top = np.sort(np.argsort(y)[-30:])
    assert np.array_equal(ext.test["extrapolation"], top)
    assert y[ext.train].max() < y[top].min()  # the model never sees the top 10 %
    assert bp.protocol_splits("extrapolation", (y > 0).astype(int), True) == []
    with pytest.raises(ValueError, match="unknown protocol"):
        bp.protocol_splits("loo", y, False)


def test_split_params_cap_the_batch_for_small_training_sets():
    config = {("*", "*"): {"batch_size": 1024, "lr": 1e-3}}

    def batch(protocol, n):
        return bp.split_params("atomsets", "matbench_mp_e_form", protocol, n, config)["batch_size"]

    assert batch("convergence", 100) == 16  # floor
    assert batch("convergence", 8000) == 500  # n // 16
    assert batch("convergence", 100_000) == 1024  # the configured batch
    assert batch("random", 100) == 1024  # only convergence is capped
    assert bp.split_params("dummy", "matbench_steels", "convergence", 100) == {}


def test_run_writes_split_files_tables_and_plots(tmp_path):
    res = _run(tmp_path)
    proto = res["protocols"]
    rand = {(r["model"], r["task"]): r for r in proto["random"]}
    assert len(rand["mlp-v0-stats", "matbench_steels"]["splits"]) == 2
    assert rand["dummy", "matbench_glass"]["splits"][0]["test_score"] == pytest.approx(0.5)
    conv = {(r["model"], r["task"]): r for r in proto["convergence"]}
    assert sorted(s["n_train"] for s in conv["dummy", "matbench_steels"]["splits"]) == [
        40,
        40,
        80,
        80,
    ]
    # extrapolation only for regression; the held-out top is harder for the mean predictor
    assert {r["task"] for r in proto["extrapolation"]} == {"matbench_steels"}
    (d,) = [r for r in proto["extrapolation"] if r["model"] == "dummy"]
    assert d["splits"][0]["extrapolation_score"] > d["splits"][0]["interpolation_score"]
    docs = tmp_path / "docs"
    table = (docs / "protocols_table.md").read_text()
    assert "**random**" in table and "**convergence, matbench_steels**" in table
    assert "| matbench_steels | dummy |" in table
    assert json.loads((docs / "protocols_results.json").read_text())["n_repeats"] == 2
    for png in ("convergence_matbench_steels.png", "convergence_matbench_glass.png"):
        assert 0 < (docs / png).stat().st_size < 200_000
    assert (docs / "extrapolation.png").exists()


def test_resume_fits_only_missing_or_stale_splits(tmp_path, monkeypatch):
    kw = {"models": ["mlp-v0-stats"], "tasks": ["matbench_steels"], "protocols": ["random"]}
    first = _run(tmp_path, **kw)
    files = sorted((tmp_path / "runs").glob("random__*.json"))
    assert len(files) == 2
    files[1].write_text('{"split": "repeat1", "test_sc')  # interrupted write
    calls = []
    real = bp.evaluate_splits
    monkeypatch.setattr(bp, "evaluate_splits", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = _run(tmp_path, **kw)
    assert len(calls) == 1  # only the corrupt split was refitted
    s0, s1 = first["protocols"]["random"][0]["splits"], again["protocols"]["random"][0]["splits"]
    assert s0[0]["test_score"] == s1[0]["test_score"]
    _run(tmp_path, overrides={**TINY, "lr": 5e-3}, **kw)
    assert len(calls) == 3  # new parameters: both stale
    monkeypatch.setattr(bp, "evaluate_splits", lambda *a, **k: pytest.fail("fitted"))
    rep = _run(
        tmp_path,
        compute=False,
        overrides={**TINY, "lr": 5e-3},
        **{**kw, "protocols": ["random", "convergence"]},
    )
    assert rep["protocols"]["convergence"] == [] and len(rep["protocols"]["random"]) == 1


def test_unknown_protocol_is_rejected_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="unknown protocol 'kfold'"):
        _run(tmp_path, protocols=["kfold"])
    assert not (tmp_path / "docs").exists()


def test_cli_task_groups_and_protocols(tmp_path, capsys):
    groups = config.TASK_GROUPS
    assert _task_names(["all"], groups) == list(config.ALL_TASKS) and len(config.ALL_TASKS) == 13
    assert _task_names(["quick", "matbench_steels", "matbench_jdft2d"], groups)[-1] == (
        "matbench_jdft2d"
    )
    rc = main(
        [
            "benchmark",
            "--models",
            "dummy",
            "--tasks",
            "matbench_steels",
            "--protocols",
            "matbench",
            "extrapolation",
            "--limit",
            "100",
            "--out-dir",
            str(tmp_path / "runs"),
            "--docs-dir",
            str(tmp_path / "docs"),
            "--quiet",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "| steels | MAE ↓ | " in out and "**extrapolation**" in out
    assert (tmp_path / "docs" / "matbench_table.md").exists()
    assert (tmp_path / "docs" / "extrapolation.png").exists()


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--tasks", "matbench_foo", "unknown MatBench task 'matbench_foo'"),
        ("--models", "atomsets-v9", "unknown model 'atomsets-v9'"),
    ],
)
def test_cli_unknown_task_or_model_is_a_clear_error_before_any_work(
    tmp_path, capsys, option, value, message
):
    rc = main(["benchmark", option, value, "--out-dir", str(tmp_path / "runs"), "--quiet"])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
