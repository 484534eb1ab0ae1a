"""scripts/budget_probe.py: one official fold with overridden budget parameters."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "budget_probe.py"
BUILTIN = ROOT / "skatomsets" / "data" / "matbench"


@pytest.fixture(scope="module")
def probe():
    spec = importlib.util.spec_from_file_location("budget_probe", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_probe_applies_the_overrides_and_reports_the_resolved_budget(probe, capsys) -> None:
    argv = ["--data", str(BUILTIN), "--task", "matbench_steels", "--fold", "1", "--verbose", "0"]
    argv += ["--set", "max_epochs=3", "--set", "n_ensemble=1", "--set", "lr_schedule=cosine"]
    assert probe.main(argv) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["fold"] == 1 and row["epochs_run"] == [3]
    assert (row["max_epochs"], row["lr_schedule"], row["batch_size"]) == (3, "cosine", 16)
    assert row["test_mae"] > 0 and row["overrides"]["n_ensemble"] == 1


def test_probe_refuses_a_setting_without_a_value(probe) -> None:
    with pytest.raises(SystemExit) as exc:
        probe.main(["--data", str(BUILTIN), "--task", "matbench_steels", "--set", "max_epochs"])
    assert exc.value.code == 2
