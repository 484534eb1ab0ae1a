"""The command line: train on a built-in dataset with the official folds, then predict."""

from __future__ import annotations

import json

from skatomsets.cli import main


def test_train_prints_folds_and_saves_then_predicts(tmp_path, capsys):
    model = tmp_path / "m.joblib"
    out = tmp_path / "r.json"
    rc = main(
        [
            "train",
            "matbench_steels",
            "--max-epochs",
            "3",
            "--folds",
            "0",
            "1",
            "--quiet",
            "--save",
            str(model),
            "--json",
            str(out),
            "--device",
            "cpu",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "fold 0: MAE" in text and "fold 1: MAE" in text and "mean MAE" in text
    res = json.loads(out.read_text())
    assert [f["fold"] for f in res["folds"]] == [0, 1]
    assert all(f["n_test"] in (62, 63) for f in res["folds"])
    assert main(["predict", str(model), "Fe0.7Cr0.2Ni0.1", "Fe"]) == 0
    assert "Fe0.7Cr0.2Ni0.1" in capsys.readouterr().out


def test_classification_task_reports_roc_auc(capsys):
    rc = main(
        [
            "train",
            "glass",
            "--max-epochs",
            "2",
            "--folds",
            "0",
            "--quiet",
            "--limit",
            "600",
            "--model",
            "mlp-v0-stats",
            "--device",
            "cpu",
        ]
    )
    assert rc == 0
    assert "fold 0: ROC-AUC" in capsys.readouterr().out


def test_predict_predicts_the_good_rows_and_names_the_bad_formula_with_status_1(tmp_path, capsys):
    model = tmp_path / "m.joblib"
    main(["train", "steels", "--max-epochs", "2", "--folds", "0", "--quiet", "--save", str(model)])
    capsys.readouterr()
    assert main(["predict", str(model), "Fe", "Xx3"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split()[-1] == "error" and "nan" not in lines[1].lower()
    assert "'Xx' is not a chemical element" in lines[2]
    assert "1 of 2 rows could not be predicted" in captured.err
    assert "input 2 'Xx3', 'Xx' is not a chemical element" in captured.err


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "atomsets-v0" in out and "matbench_steels" in out


def test_list_into_a_closed_pipe_exits_quietly():
    """``skatomsets list | head -1``: no BrokenPipeError traceback, exit code 0."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written: every write fails
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "skatomsets", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
