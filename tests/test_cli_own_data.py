"""The command line on the user's own data: tables, structure folders, predict, list, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure

from skatomsets.cli import main
from skatomsets.datasets import load_dataset
from skatomsets.exceptions import InvalidTargetError
from skatomsets.io.tables import infer_task

# one process: the tests run under pytest-xdist already (the parallel path has its own test)
FAST = ["--max-epochs", "3", "--device", "cpu", "--n-jobs", "1"]


@pytest.fixture(scope="module")
def steels_csv(tmp_path_factory) -> Path:
    """48 steels with the formula column renamed, as a user's own CSV."""
    df = load_dataset("steels").iloc[:48]
    path = tmp_path_factory.mktemp("own") / "my_steels.csv"
    df.rename(columns={"composition": "Formula", "target": "yield"})[["Formula", "yield"]].to_csv(
        path, index=False
    )
    return path


def _rocksalt(a: float, species=("Na", "Cl")) -> Structure:
    return Structure(Lattice.cubic(a), list(species), [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture(scope="module")
def cif_folder(tmp_path_factory) -> tuple[Path, Path]:
    """12 CIF files (two salts, several lattice constants) and a targets table."""
    root = tmp_path_factory.mktemp("cifs")
    folder = root / "cifs"
    folder.mkdir()
    rows = []
    for i, a in enumerate(np.linspace(3.6, 5.0, 12)):
        species = ("Na", "Cl") if i % 2 else ("K", "Br")
        name = f"s{i:02d}"
        _rocksalt(float(a), species).to(filename=str(folder / f"{name}.cif"))
        rows.append({"id": name, "lattice_a": float(a)})
    _rocksalt(5.0).to(filename=str(folder / "extra.cif"))  # no target: left out, said so
    targets = root / "targets.csv"
    pd.DataFrame(rows).to_csv(targets, index=False)
    return folder, targets


def _one_error_line(capsys) -> str:
    """The error output ends with one ``skatomsets: error:`` line (progress bars may precede
    it on stderr), and holds no traceback."""
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if "skatomsets: error: " in ln]
    assert len(lines) == 1 and err.rstrip().endswith(lines[0].split("\r")[-1]), err
    assert "Traceback" not in err
    return lines[0]


def test_train_on_own_csv_cross_validates_saves_and_predicts_the_csv(steels_csv, tmp_path, capsys):
    model = tmp_path / "m.joblib"
    out = tmp_path / "cv.json"
    rc = main(["train", str(steels_csv), *FAST, "--save", str(model), "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "column 'Formula': 48 rows (compositions)" in text
    assert "task: regression (auto:" in text
    assert "5-fold KFold (shuffle, random_state=0), test MAE" in text
    assert all(f"fold {k}: MAE" in text for k in range(5)) and "mean MAE" in text
    assert "saved a model fitted on all 48 rows" in text
    res = json.loads(out.read_text())
    assert res["target"] == "yield" and sorted(f["n_test"] for f in res["folds"]) == [
        9,
        9,
        10,
        10,
        10,
    ]
    # predict the same CSV without --column: the formula column is found by name
    pred = tmp_path / "pred.csv"
    assert main(["predict", str(model), "--input", str(steels_csv), "--output", str(pred)]) == 0
    frame = pd.read_csv(pred)
    assert list(frame.columns) == [
        "Formula",
        "yield",
        "prediction",
        "std",
        "domain_score",
        "out_of_domain",
    ]
    assert len(frame) == 48
    assert np.isfinite(frame["prediction"]).all()


def test_folds_and_refit_in_two_processes_give_what_one_process_gives(steels_csv, tmp_path, capsys):
    runs = {}
    for n_jobs in ("1", "2"):
        model, out = tmp_path / f"m{n_jobs}.joblib", tmp_path / f"r{n_jobs}.json"
        argv = ["train", str(steels_csv), "--max-epochs", "3", "--device", "cpu", "--quiet"]
        rc = main([*argv, "--n-jobs", n_jobs, "--save", str(model), "--json", str(out)])
        assert rc == 0
        runs[n_jobs] = (json.loads(out.read_text()), joblib.load(model), capsys.readouterr().out)
    (one, model1, text1), (two, model2, text2) = runs["1"], runs["2"]
    assert "in 2 processes at once" in text2 and "processes" not in text1
    assert [f["fold"] for f in two["folds"]] == [0, 1, 2, 3, 4]  # fold order, not finish order
    for a, b in zip(one["folds"], two["folds"], strict=True):
        np.testing.assert_allclose(b["predictions"], a["predictions"], rtol=1e-6)
    X = np.array(["Fe0.7Cr0.2Ni0.1", "Fe0.9C0.1"], dtype=object)
    np.testing.assert_allclose(model2.predict(X), model1.predict(X), rtol=1e-6)


def test_refit_shows_progress_and_ensemble_std_is_predicted(steels_csv, tmp_path, capsys):
    model = tmp_path / "m.joblib"
    rc = main(
        ["train", str(steels_csv), *FAST, "--cv", "0", "--n-ensemble", "2", "--save", str(model)]
    )
    assert rc == 0
    captured = capsys.readouterr()
    assert "refitting on all 48 rows" in captured.out and "fold" not in captured.out
    # the epoch bars of the refit, naming the auto model's candidate being trained
    assert "refit on all rows, atomsets-v0, networks 1-2" in captured.err
    assert main(["predict", str(model), "Fe0.7Cr0.2Ni0.1", "Fe", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["input", "prediction", "std", "domain_score", "out_of_domain"]
    assert len(lines) == 3
    assert float(lines[1].split()[2]) > 0


def test_classification_is_detected_and_predict_prints_class_probabilities(tmp_path, capsys):
    df = load_dataset("glass").iloc[:60]
    path = tmp_path / "glass.csv"
    df[["composition", "target"]].rename(columns={"target": "is_glass"}).to_csv(path, index=False)
    model = tmp_path / "g.joblib"
    assert main(["train", str(path), *FAST, "--model", "mlp-v0-stats", "--save", str(model)]) == 0
    text = capsys.readouterr().out
    assert "task: classification (auto: 2 distinct integer values" in text
    assert "5-fold StratifiedKFold" in text and "fold 4: ROC-AUC" in text
    assert main(["predict", str(model), "Cu50Zr50", "Fe"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[:2] == ["input", "prediction"]
    assert {"p_0", "p_1", "p_0_std", "p_1_std", "domain_score", "out_of_domain"} <= set(header)


def test_train_and_predict_on_a_folder_of_cif_files(cif_folder, tmp_path, capsys):
    folder, targets = cif_folder
    model = tmp_path / "s.joblib"
    rc = main(
        ["train", str(folder), "--targets", str(targets), "--model", "mlp-f", *FAST,
         "--save", str(model)]
    )  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "(12 files)" in text and "column 'lattice_a': 12 rows (structures)" in text
    assert "1 structure files of" in text and "left out" in text
    assert "mean MAE" in text
    # a folder, single files, and the refusal of formulas
    assert main(["predict", str(model), str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 14 and out[1].split()[0].endswith("extra.cif")
    assert main(["predict", str(model), str(folder / "s03.cif"), "--quiet"]) == 0
    assert "s03.cif" in capsys.readouterr().out
    assert main(["predict", str(model), "NaCl"]) == 2
    assert "needs crystal structures" in _one_error_line(capsys)


def test_structure_column_of_cif_text_and_relative_paths(cif_folder, tmp_path, capsys):
    folder, targets = cif_folder
    table = pd.read_csv(targets)
    cells = [
        (folder / f"{n}.cif").read_text() if i % 2 else f"cifs/{n}.cif"
        for i, n in enumerate(table["id"])
    ]
    path = folder.parent / "with_structures.csv"
    pd.DataFrame({"structure": cells, "a": table["lattice_a"]}).to_csv(path, index=False)
    rc = main(["train", str(path), "--model", "atomsets-v1", "--target", "a", *FAST, "--cv", "2"])
    assert rc == 0
    assert "column 'structure': 12 rows (structures)" in capsys.readouterr().out


def test_structure_model_on_formulas_is_refused_before_any_work(steels_csv, capsys, monkeypatch):
    import skatomsets.models as models

    monkeypatch.setattr(models, "make_model", None)  # any work would crash
    assert main(["train", str(steels_csv), "--model", "atomsets-v1"]) == 2
    line = _one_error_line(capsys)
    assert "'atomsets-v1' needs crystal structures" in line and "atomsets-v0" in line
    assert main(["train", "steels", "--model", "mlp-f"]) == 2
    assert "needs crystal structures" in _one_error_line(capsys)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train", "my_data.csv"], "no such file or folder: my_data.csv"),
        (["train", "nonsense"], "neither an existing file or folder nor a MatBench task"),
        (["train", "{csv}", "--target", "nope"], "has no column 'nope' (the target); its columns"),
        (["train", "{csv}", "--model", "nope"], "unknown model 'nope'"),
        (["train", "{csv}", "--task", "classification"], "has only 1 rows"),
        (["train", "{folder}"], "give their targets with --targets"),
        (["train", "steels", "--target", "x"], "--target is for your own data"),
        (["predict", "missing.joblib", "Fe"], "no such model file: missing.joblib"),
        (
            ["predict", "{model}", "--input", "{targets}"],
            "no materials column: name one with --column",
        ),
        (["predict", "{model}", "x.cif"], "no such structure file: x.cif"),
        (["predict", "{model}"], "nothing to predict"),
    ],
)
def test_bad_arguments_end_with_one_line_and_exit_code_2(
    args, expected, steels_csv, cif_folder, tmp_path_factory, capsys
):
    model = tmp_path_factory.getbasetemp() / "tiny.joblib"
    if not model.exists():
        main(["train", str(steels_csv), *FAST, "--cv", "0", "--save", str(model), "--quiet"])
    names = {"csv": steels_csv, "folder": cif_folder[0], "targets": cif_folder[1], "model": model}
    capsys.readouterr()
    assert main([a.format(**names) for a in args]) == 2
    assert expected in _one_error_line(capsys)


def test_debug_reraises(steels_csv):
    with pytest.raises(ValueError, match="unknown model"):
        main(["train", str(steels_csv), "--model", "nope", "--debug"])


def test_list_says_what_each_model_is_its_inputs_and_paper_row(capsys):
    assert main(["list"]) == 0
    lines = {
        ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("  ")
    }
    assert "composition" in lines["atomsets-v0"] and "Table 2, AtomSets-V0" in lines["atomsets-v0"]
    assert "structure" in lines["atomsets-v1"] and "Table 2, AtomSets-V1" in lines["atomsets-v1"]
    assert "Table S4, MLP-u2" in lines["mlp-u2"]


def test_python_dash_m_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "skatomsets", "predict", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "usage: skatomsets predict" in done.stdout


@pytest.mark.parametrize(
    ("y", "classification", "reason"),
    [
        (np.array([True, False, True]), True, "auto: True/False values"),
        (np.array(["metal", "insulator", "metal"]), True, "auto: 2 distinct values, mostly text"),
        (np.array([0, 1, 1, 0]), True, "auto: 2 distinct integer values, a 0/1 flag"),
        (np.array([0.5, 1.25, 2.0]), False, "auto: 3 distinct numeric values"),
        (np.arange(50), False, "auto: 50 distinct integer values; integers are classes only"),
        (np.array([1, 2, 3, 4, 5, 6, 7] * 5), False, "auto: 7 distinct integer values; integers"),
    ],
)
def test_task_auto_detection(y, classification, reason):
    got, _, why = infer_task(y, "auto", "t")
    assert got == classification and why.startswith(reason)


def test_regression_on_text_targets_names_the_row():
    with pytest.raises(InvalidTargetError, match="row 1: target 'big' is not a number"):
        infer_task(np.array(["1.0", "big"], dtype=object), "regression", "t")


def test_a_bad_structure_is_named_by_row_and_file_before_any_fit(cif_folder, tmp_path, capsys):
    folder, targets = cif_folder
    bad = tmp_path / "cifs"
    bad.mkdir()
    for f in folder.glob("s0*.cif"):
        (bad / f.name).write_text(f.read_text())
    _rocksalt(7.5).to(filename=str(bad / "s05.cif"))  # 6.5 Å apart: no bond within the cutoff
    table = tmp_path / "t.csv"
    pd.read_csv(targets).iloc[:10].to_csv(table, index=False)
    rc = main(["train", str(bad), "--targets", str(table), "--model", "mlp-f", *FAST])
    assert rc == 2
    captured = capsys.readouterr()
    assert "1 of 10 rows cannot be used" in captured.err and "Traceback" not in captured.err
    assert f"{bad / 's05.cif'}, site 0 (Na) has no neighbour" in captured.err
    assert "fold 0" not in captured.out


def test_n_jobs_defaults_to_every_cpu_for_compositions_and_one_process_for_structures():
    from skatomsets.cli import _n_jobs, build_parser

    parse = build_parser().parse_args
    assert _n_jobs(parse(["train", "x.csv"])) == -1  # atomsets-v0: compositions
    assert _n_jobs(parse(["train", "x.csv", "--model", "atomsets-v1"])) == 1  # structures
    assert _n_jobs(parse(["train", "x.csv", "--model", "atomsets-v1", "--n-jobs", "2"])) == 2


def test_n_jobs_zero_is_one_error_line(steels_csv, capsys):
    assert main(["train", str(steels_csv), "--max-epochs", "1", "--n-jobs", "0"]) == 2
    assert "--n-jobs must be a non-zero integer" in _one_error_line(capsys)
