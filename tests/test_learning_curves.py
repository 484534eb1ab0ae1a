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


def test_main_writes_points_table_and_plot(lc, tmp_path) -> None:
    data = _toy_set(tmp_path, 40)
    out, table, png = tmp_path / "lc", tmp_path / "table.md", tmp_path / "lc.png"
    rc = lc.main(
        [
            "--data",
            str(data),
            "--target",
            "y",
            "--name",
            "toy",
            "--out",
            str(out),
            "--models",
            ",".join(lc.MODELS),
            "--sizes",
            "20",
            "--draws",
            "1",
            "--atomsets-epochs",
            "2",
            "--megnet-epochs",
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
    # resumable: a second run finds every point done and trains nothing
    mtimes = [p.stat().st_mtime_ns for p in points]
    assert (
        lc.main(
            [
                "--data",
                str(data),
                "--target",
                "y",
                "--name",
                "toy",
                "--out",
                str(out),
                "--sizes",
                "20",
                "--draws",
                "1",
            ]
        )
        == 0
    )
    assert [p.stat().st_mtime_ns for p in points] == mtimes


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
