"""The MatBench runner: official folds, resume, corrupt fold files, table, plots, CLI."""

from __future__ import annotations

import json
import os

import pytest

from skatomsets.benchmarks import config, matbench, records, tuning
from skatomsets.cli import main

TINY = {"max_epochs": 2, "patience": None, "n_ensemble": 1, "batch_size": 32}
TASKS = ["matbench_steels", "matbench_glass"]


def _run(tmp_path, models=("dummy", "mlp-v0-stats"), **kw):
    return matbench.run_benchmark(
        models=list(models),
        tasks=TASKS,
        out_dir=tmp_path / "runs",
        docs_dir=tmp_path / "docs",
        folds=[0, 1],
        limit=80,
        overrides=TINY,
        progress=False,
        **kw,
    )


def test_run_writes_fold_files_table_json_and_plots(tmp_path):
    res = _run(tmp_path)
    runs = {(r["model"], r["task"]): r for r in res["runs"]}
    assert set(runs) == {(m, t) for m in ("dummy", "mlp-v0-stats") for t in TASKS}
    assert [f["fold"] for f in runs["dummy", "matbench_steels"]["folds"]] == [0, 1]
    assert runs["dummy", "matbench_glass"]["mean"] == pytest.approx(0.5)  # prior: no ranking
    glass = runs["mlp-v0-stats", "matbench_glass"]
    assert glass["metric"] == "roc_auc" and 0 <= glass["mean_labels"] <= 1  # MatBench's metric
    assert "mean_labels" not in runs["mlp-v0-stats", "matbench_steels"]
    assert "loss" not in runs["mlp-v0-stats", "matbench_glass"]["params"]
    for m in ("dummy", "mlp-v0-stats"):
        for t in TASKS:
            for k in (0, 1):
                path = matbench.fold_path(tmp_path / "runs", m, t, k)
                assert matbench.load_fold(path) is not None
    docs = tmp_path / "docs"
    table = (docs / "matbench_table.md").read_text()
    assert table.startswith("| task | metric | dummy | mlp-v0-stats | leaderboard best |")
    steels = next(line for line in table.splitlines() if line.startswith("| steels |"))
    assert "| MAE ↓ |" in steels and "±" in steels
    assert "79.9 (TPOT-Mat)" in steels and "103.5 |" in steels  # published references
    assert steels.count("**") == 2  # our best model in bold, never the dummy
    glass_row = next(line for line in table.splitlines() if line.startswith("| glass |"))
    assert "(labels 0." in glass_row and "0.9603 (MODNet v0.1.12)" in glass_row
    assert json.loads((docs / "matbench_results.json").read_text())["runs"]
    runs_md = (docs / "matbench_runs.md").read_text()
    assert "| steels | mlp-v0-stats | 32 / 0.002 / 2 (None) / 1 |" in runs_md
    assert "| dummy |" not in runs_md
    png = docs / "parity_matbench_steels.png"
    assert png.exists() and 0 < png.stat().st_size < 200_000
    assert not (docs / "parity_matbench_glass.png").exists()  # classification: ROC instead
    roc = docs / "roc_matbench_glass.png"
    assert roc.exists() and 0 < roc.stat().st_size < 200_000


def test_resume_skips_finished_folds_and_recomputes_corrupt_ones(tmp_path, monkeypatch):
    _run(tmp_path, models=["mlp-v0-stats"])
    runs = tmp_path / "runs"
    good = matbench.fold_path(runs, "mlp-v0-stats", "matbench_steels", 0)
    corrupt = matbench.fold_path(runs, "mlp-v0-stats", "matbench_steels", 1)
    corrupt.write_text('{"model": "mlp-v0-stats", "sco')  # an interrupted write
    mtime = good.stat().st_mtime_ns
    calls = []
    real = matbench.run_matbench_folds

    def counting(model, df, classification, folds=None, **kw):
        calls.append((df["target"].dtype.kind, tuple(folds)))
        return real(model, df, classification, folds=folds, **kw)

    monkeypatch.setattr(matbench, "run_matbench_folds", counting)
    _run(tmp_path, models=["mlp-v0-stats"])
    assert calls == [("f", (1,))]  # only the corrupt steels fold was run again
    assert good.stat().st_mtime_ns == mtime
    assert matbench.load_fold(corrupt) is not None
    assert not [p for p in os.listdir(runs) if p.endswith(".tmp")]


def _count_fits(monkeypatch):
    """The folds of every ``run_matbench_folds`` call from now on, one tuple per call."""
    calls = []
    real = matbench.run_matbench_folds
    monkeypatch.setattr(
        matbench,
        "run_matbench_folds",
        lambda *a, **k: calls.append(tuple(k["folds"])) or real(*a, **k),
    )
    return calls


def test_changed_parameters_make_fold_files_stale(tmp_path, monkeypatch):
    _run(tmp_path, models=["mlp-v0-stats"])
    calls = _count_fits(monkeypatch)
    matbench.run_benchmark(
        models=["mlp-v0-stats"],
        tasks=["matbench_steels"],
        out_dir=tmp_path / "runs",
        docs_dir=None,
        folds=[0, 1],
        limit=80,
        overrides={**TINY, "lr": 5e-3},
        progress=False,
    )
    assert calls == [(0, 1)]  # both folds refitted


def test_load_fold_rejects_bad_records(tmp_path):
    p = tmp_path / "f.json"
    assert matbench.load_fold(p) is None  # missing
    rec = {
        "model": "m",
        "task": "t",
        "fold": 0,
        "signature": {"a": 1},
        "score": 1.0,
        "y_true": [1.0],
        "predictions": [1.0],
    }
    p.write_text(json.dumps(rec))
    assert matbench.load_fold(p) == rec
    assert matbench.load_fold(p, {"a": 2}) is None  # stale
    p.write_text(json.dumps({**rec, "score": float("nan")}))
    assert matbench.load_fold(p) is None
    p.write_text(json.dumps({**rec, "predictions": []}))
    assert matbench.load_fold(p) is None


def test_resolve_params_merges_least_specific_first():
    cfg = {
        ("*", "*"): {"lr": 1.0, "batch_size": 8, "loss": "mae"},
        ("m", "*"): {"lr": 2.0},
        ("*", "matbench_steels"): {"batch_size": 4},
        ("m", "matbench_steels"): {"lr": 3.0},
    }
    assert config.resolve_params("m", "matbench_steels", cfg) == {
        "lr": 3.0,
        "batch_size": 4,
        "loss": "mae",
    }
    assert config.resolve_params("m", "matbench_glass", cfg, {"batch_size": 2}) == {
        "lr": 2.0,
        "batch_size": 2,
    }
    assert config.resolve_params("dummy", "matbench_steels", cfg) == {}


def test_select_candidate_uses_only_fold0_training_rows(tmp_path, monkeypatch):
    from skatomsets.datasets import load_matbench

    df = load_matbench("matbench_steels").iloc[:80].copy()
    seen = []
    real = tuning.make_benchmark_model

    class Spy:
        def __init__(self, est):
            self.est = est

        def fit(self, X, y):
            seen.append(set(X))
            self.est.fit(X, y)
            return self

        def predict(self, X):
            seen.append(set(X))
            return self.est.predict(X)

    monkeypatch.setattr(tuning, "make_benchmark_model", lambda *a: Spy(real(*a)))
    out = tuning.select_candidate(
        "mlp-v0-stats", "matbench_steels", df, TINY, [{}, {"lr": 1e-2}], out_dir=tmp_path
    )
    assert out["index"] in (0, 1) and len(out["scores"]) == 2
    test_rows = set(df.loc[df["test_fold"] == 0, "composition"])
    assert seen and all(not (s & test_rows) for s in seen)
    assert len(list(tmp_path.glob("tune__*.json"))) == 2
    again = tuning.select_candidate(
        "mlp-v0-stats", "matbench_steels", df, TINY, [{}, {"lr": 1e-2}], out_dir=tmp_path
    )
    assert again["scores"] == out["scores"]  # cached


def test_cli_benchmark(tmp_path, capsys):
    rc = main(
        [
            "benchmark",
            "--models",
            "dummy",
            "atomsets",
            "--tasks",
            "matbench_steels",
            "--folds",
            "0",
            "1",
            "--limit",
            "60",
            "--set",
            "max_epochs=2",
            "--set",
            "n_ensemble=1",
            "--set",
            "device=cpu",
            "--out-dir",
            str(tmp_path / "runs"),
            "--docs-dir",
            str(tmp_path / "docs"),
            "--quiet",
            "--no-plots",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "| atomsets | " in out and "| dummy | " in out
    res = json.loads((tmp_path / "docs" / "matbench_results.json").read_text())
    assert {r["params"].get("max_epochs") for r in res["runs"]} == {None, 2}
    assert not (tmp_path / "docs" / "parity_matbench_steels.png").exists()
    assert main(["benchmark", "--set", "oops", "--out-dir", str(tmp_path / "x")]) == 2


def test_report_only_reports_finished_folds_without_fitting(tmp_path, monkeypatch):
    matbench.run_benchmark(
        models=["mlp-v0-stats"],
        tasks=["matbench_steels"],
        out_dir=tmp_path / "runs",
        docs_dir=None,
        folds=[0],
        limit=80,
        overrides=TINY,
        progress=False,
    )
    monkeypatch.setattr(matbench, "run_matbench_folds", lambda *a, **k: pytest.fail("fitted"))
    res = _run(tmp_path, models=["dummy", "mlp-v0-stats"], compute=False)
    runs = {(r["model"], r["task"]): r for r in res["runs"]}
    assert set(runs) == {("mlp-v0-stats", "matbench_steels")}
    assert runs["mlp-v0-stats", "matbench_steels"]["n_folds"] == 1
    table = (tmp_path / "docs" / "matbench_table.md").read_text()
    assert "(1 fold)" in table and "(1 folds)" not in table


def test_leaderboard_reference_covers_all_tasks_and_is_consistent():
    from skatomsets.benchmarks.reference import LEADERBOARD
    from skatomsets.datasets import is_classification

    assert set(LEADERBOARD) == set(config.ALL_TASKS)
    for task, ref in LEADERBOARD.items():
        best = ref["best"][1]
        others = [ref["modnet"], ref["rf_scm_magpie"], ref["dummy"]]
        if "best_composition" in ref:
            assert ref["best"][2]  # only given where the overall best needs a structure
            others.append(ref["best_composition"][1])
        if is_classification(task):
            assert best >= max(others) and 0.45 < ref["dummy"] < 0.55
        else:
            assert best <= min(others) and ref["dummy"] == max(others)


def test_read_record_rejects_what_cannot_be_reused(tmp_path):
    path = tmp_path / "r.json"
    assert records.read_record(path) is None  # missing
    path.write_text("[1, 2]")
    assert records.read_record(path) is None  # not an object
    path.write_text(json.dumps({"signature": {"params": {"lr": 0.1}}, "score": 1.0}))
    assert records.read_record(path, required=("score",))["score"] == 1.0
    assert records.read_record(path, required=("y_true",)) is None
    assert records.read_record(path, {"params": {"lr": 0.1}}) is not None
    assert records.read_record(path, {"params": {"lr": 0.2}}) is None  # stale


def test_changed_size_rules_make_fold_files_stale(tmp_path, monkeypatch):
    # Same parameters ("auto" lr), but the rule behind "auto" changed: not the defaults now.
    from skatomsets.estimators import _auto

    _run(tmp_path, models=["mlp-v0-stats"])
    calls = _count_fits(monkeypatch)
    _run(tmp_path, models=["mlp-v0-stats"])
    assert calls == []  # unchanged rules: every record reused
    monkeypatch.setattr(_auto, "auto_lr", lambda est, n: 7e-3)
    _run(tmp_path, models=["mlp-v0-stats"])
    assert calls == [(0, 1), (0, 1)]  # both tasks refitted on both folds
    rec = matbench.load_fold(matbench.fold_path(tmp_path / "runs", "mlp-v0-stats", TASKS[0], 0))
    assert rec["resolved"]["lr"] == 7e-3


def test_records_from_before_readout_auto_count_as_mean(tmp_path):
    from skatomsets.estimators._auto import resolve_training_params
    from skatomsets.models import make_model

    pipe = make_model("atomsets-v0")
    p = tmp_path / "f.json"
    for n_train, fresh in ((1000, True), (60_000, False)):  # auto: mean, then set2set
        resolved = resolve_training_params(pipe.steps[-1][1], n_train)
        del resolved["readout"]  # written before readout became "auto"
        rec = {
            "model": "atomsets-v0",
            "task": "t",
            "fold": 0,
            "signature": {},
            "score": 1.0,
            "y_true": [1.0],
            "predictions": [1.0],
            "n_train": n_train,
            "resolved": {**resolved, "n_threads": 99},  # another machine's threads
        }
        p.write_text(json.dumps(rec))
        assert (matbench.load_fold(p, estimator=pipe) is not None) is fresh
        assert matbench.load_fold(p) is not None  # no estimator: no check
