"""Smoke test of scripts/learning_curves.py on a tiny structure set (1 draw, 1 size)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "learning_curves.py"
NAMES = ["Si", "CsCl", "LiFePO4", "Graphite", "SrTiO3", "TiO2", "BaNiO3", "Li2O", "K2O2", "VO2"]


def _toy_set(tmp_path: Path, n: int) -> Path:
    """``n`` scaled copies of pymatgen's test structures, target = volume per atom."""
    from pymatgen.util.testing import PymatgenTest

    recs = []
    for i in range(n):
        s = PymatgenTest.get_structure(NAMES[i % len(NAMES)]).copy()
        s.scale_lattice(s.volume * (1 + 0.01 * i))
        recs.append({"id": str(i), "structure": s.as_dict(), "y": s.volume / len(s)})
    data = tmp_path / "toy.json"
    data.write_text(json.dumps(recs))
    return data


@pytest.fixture(scope="module")
def lc():
    spec = importlib.util.spec_from_file_location("learning_curves", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_main_writes_points_table_and_plot_and_resumes_only_same_budget_points(
    lc, tmp_path
) -> None:
    data = _toy_set(tmp_path, 40)
    out, table, png = tmp_path / "lc", tmp_path / "table.md", tmp_path / "lc.png"
    common = ["--data", str(data), "--target", "y", "--name", "toy", "--out", str(out)]
    common += ["--sizes", "20", "--draws", "1", "--megnet-epochs", "2"]
    rc = lc.main(
        [
            *common,
            "--models",
            ",".join(lc.MODELS),
            "--atomsets-epochs",
            "2",
            "--table",
            str(table),
            "--plot",
            str(png),
        ]
    )
    assert rc == 0
    points = sorted(out.glob("toy/*/n20_d0.json"))
    assert [p.parent.name for p in points] == sorted(lc.MODELS)
    row = json.loads(points[0].read_text())
    assert row["n_train"] == 20 and row["n_test"] == 4 and row["test_mae"] >= 0
    text = table.read_text()
    assert "n=20" in text and all(m in text for m in lc.MODELS)
    assert png.stat().st_size > 0
    # resumable: a second run with the same budget finds every point done, trains nothing
    mtimes = {p.parent.name: p.stat().st_mtime_ns for p in points}
    assert lc.main([*common, "--atomsets-epochs", "2"]) == 0
    assert {p.parent.name: p.stat().st_mtime_ns for p in points} == mtimes
    # another AtomSets budget: those points are refitted, MEGNet's are kept
    assert lc.main([*common, "--atomsets-epochs", "3"]) == 0
    for p in points:
        refitted = p.stat().st_mtime_ns != mtimes[p.parent.name]
        assert refitted == (not p.parent.name.startswith("megnet")), p.parent.name
        assert json.loads(p.read_text())["params"]["max_epochs"] == (
            2 if p.parent.name.startswith("megnet") else 3
        )
        if not p.parent.name.startswith("megnet"):
            assert json.loads(p.read_text())["resolved"]["n_ensemble"] >= 1


def test_points_without_a_recorded_budget_are_judged_by_their_number_of_networks():
    from skatomsets.benchmarks.learning_curves import _current, model_params

    params = model_params("atomsets-v0")  # n_ensemble="auto": 5 networks at 500 rows today
    point = {"n_train": 500, "test_mae": 0.1, "params": params}
    current = _current("atomsets-v0", params)
    assert current({**point, "best_epochs": [10, 20, 30, 40, 50]})
    assert not current({**point, "best_epochs": [10, 20, 30]})  # the rule before session 12
    assert not current(point)  # nothing tells how many networks
    assert not current({**point, "best_epochs": [1] * 5, "params": {**params, "lr": 0.5}})
    megnet = model_params("megnet-scratch")  # every parameter explicit
    assert _current("megnet-scratch", megnet)({"n_train": 500, "params": megnet})


def test_megnet_points_with_raised_epochs_are_reused_and_refit_on_a_new_budget(
    lc, tmp_path
) -> None:
    data = _toy_set(tmp_path, 30)
    args = ["--data", str(data), "--target", "y", "--name", "toy", "--out", str(tmp_path)]
    args += ["--sizes", "16", "--draws", "1", "--models", "megnet-scratch"]
    args += ["--megnet-min-steps", "3"]  # 1 optimiser step per epoch: max_epochs raised to 3
    point = tmp_path / "toy" / "megnet-scratch" / "n16_d0.json"
    assert lc.main([*args, "--megnet-epochs", "1"]) == 0
    assert json.loads(point.read_text())["params"]["max_epochs"] == 3
    mtime = point.stat().st_mtime_ns
    assert lc.main([*args, "--megnet-epochs", "1"]) == 0
    assert point.stat().st_mtime_ns == mtime  # same budget: reused
    assert lc.main([*args, "--megnet-epochs", "4"]) == 0
    assert json.loads(point.read_text())["params"]["max_epochs"] == 4  # refitted


def test_a_chgnet_level_runs_on_the_curve_and_an_unknown_model_is_refused(lc, tmp_path) -> None:
    data = _toy_set(tmp_path, 30)
    args = ["--data", str(data), "--target", "y", "--name", "toy", "--out", str(tmp_path)]
    args += ["--sizes", "16", "--draws", "1", "--atomsets-epochs", "2"]
    with pytest.raises(SystemExit, match="unknown model 'atomsets-v9'"):
        lc.main([*args, "--models", "atomsets-v9"])
    assert lc.main([*args, "--models", "atomsets-chgnet-v1,mlp-chgnet"]) == 0
    for model in ("atomsets-chgnet-v1", "mlp-chgnet"):
        point = json.loads((tmp_path / "toy" / model / "n16_d0.json").read_text())
        assert point["n_train"] == 16 and np.isfinite(point["test_mae"])


def test_curves_plot_keeps_each_model_colour_across_panels_in_one_legend(monkeypatch) -> None:
    """Eleven models on two sets: one legend naming each once, one distinct colour per model."""
    from matplotlib.colors import to_hex

    from skatomsets.benchmarks import plots

    models = [f"atomsets-v{i}" for i in range(6)] + [f"atomsets-chgnet-v{i}" for i in range(5)]
    rows = [
        {"dataset": ds, "model": m, "n_train": n, "test_mae": 1.0 / n + 0.01 * j, "unit": "eV"}
        for ds in ("a", "b")
        for j, m in enumerate(models)
        for n in (100, 200)
        for _ in range(2)
    ]
    saved = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: saved.append(fig))
    plots.learning_curves_plot(rows, "unused.png")
    (fig,) = saved
    ax_a, ax_b = fig.axes
    assert ax_a.get_legend() is None
    labels = [t.get_text() for t in ax_b.get_legend().get_texts()]
    assert sorted(labels) == sorted(f"{m} (2 draws)" for m in models)

    def colours(ax):
        return {c.get_label(): to_hex(c.lines[0].get_color()) for c in ax.containers}

    assert colours(ax_a) == colours(ax_b)
    assert len(set(colours(ax_a).values())) == len(models)
    styles = {c.get_label(): c.lines[0].get_linestyle() for c in ax_a.containers}
    assert styles["atomsets-chgnet-v1 (2 draws)"] == "-" and styles["atomsets-v1 (2 draws)"] == "--"


def test_report_marks_points_trained_with_fewer_networks_than_today(tmp_path) -> None:
    from skatomsets.benchmarks.learning_curves import model_params, report_learning_curves

    params = model_params("atomsets-v0")
    # today: 5 networks below 2,000 rows; the 500-row point was trained with 3
    for n, networks in [(100, 5), (500, 3)]:
        point = tmp_path / "toy" / "atomsets-v0" / f"n{n}_d0.json"
        point.parent.mkdir(parents=True, exist_ok=True)
        point.write_text(
            json.dumps(
                {
                    "dataset": "toy",
                    "unit": "eV",
                    "model": "atomsets-v0",
                    "n_train": n,
                    "draw": 0,
                    "test_mae": 0.1,
                    "fit_seconds": 1.0,
                    "epochs_run": 10,
                    "best_epochs": [5] * networks,
                    "params": params,
                }
            )
        )
    text = report_learning_curves(tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| atomsets-v0 |"))
    cells = [c.strip() for c in row.split("|")[2:-1]]
    assert cells == ["0.1000 (1)", "0.1000 (1) †"]
    assert "† trained with another" in text
