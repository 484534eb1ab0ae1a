"""scripts/budget_probe.py: one official fold with overridden budget parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BUILTIN = Path(__file__).resolve().parents[1] / "skatomsets" / "data" / "matbench"


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("budget_probe")


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
