"""The command line never loses a model, never shows a stale answer, and reports every bad
row at once (issues 30 and 34). The interrupt, atomic-write and stale-column tests run the
real command in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from skatomsets.cli import main
from skatomsets.datasets import load_dataset

FAST = ["--max-epochs", "3", "--device", "cpu", "--n-jobs", "1"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """36 steels with a numeric extra column ``T``, and a small model fitted on them."""
    root = tmp_path_factory.mktemp("reliability")
    df = load_dataset("steels").iloc[:36][["composition", "target"]].copy()
    df.insert(1, "T", np.linspace(300.0, 900.0, len(df)))
    df.to_csv(root / "s.csv", index=False)
    argv = ["train", str(root / "s.csv"), *FAST, "--cv", "0", "--quiet"]
    assert main([*argv, "--save", str(root / "m.joblib")]) == 0
    return root


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "skatomsets", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("skatomsets:")]


# ------------------------------------------------------------------- lost models (30.1-2)
@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_ctrl_c_during_training_exits_130_and_writes_nothing(folder, tmp_path, n_jobs):
    model, report = tmp_path / "m.joblib", tmp_path / "r.json"
    model.write_bytes(b"the model of yesterday")
    proc = subprocess.Popen(
        _command(
            "train", str(folder / "s.csv"), "--max-epochs", "100000", "--patience", "100000",
            "--n-jobs", n_jobs, "--device", "cpu", "--save", str(model), "--json", str(report),
        ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:  # training starts right after this line
        if "refitting on all" in line or "processes at once" in line:
            break
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert model.read_bytes() == b"the model of yesterday"
    assert not report.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["m.joblib"]
    assert _error_lines(err) == ["skatomsets: interrupted: nothing was written"], err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "training interrupted" not in err


def test_a_failed_save_leaves_the_previous_model_as_it_was(folder, tmp_path):
    import resource

    good = tmp_path / "good.joblib"
    good.write_bytes((folder / "m.joblib").read_bytes())
    before = good.read_bytes()

    def small_files() -> None:  # `ulimit -f 64`: the new model (~400 KB) cannot be written
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    argv = ["train", str(folder / "s.csv"), *FAST, "--cv", "0", "--quiet", "--save", str(good)]
    done = subprocess.run(
        _command(*argv),
        capture_output=True, text=True, env=_env(), preexec_fn=small_files, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert _error_lines(done.stderr) == [
        f"skatomsets: error: cannot write {good}: File too large; an existing file is unchanged"
    ]
    assert good.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [good.name]
    assert main(["predict", str(good), "Fe", "--quiet"]) == 0  # still the good model
    # predict --output: the same rule (1,000 rows of predictions do not fit in 64 KB)
    table, out = tmp_path / "many.csv", tmp_path / "out.csv"
    pd.DataFrame(
        {"formula": [f"Fe{a:.3f}Ni{1 - a:.3f}" for a in np.linspace(0.1, 0.9, 1000)]}
    ).to_csv(table, index=False)
    out.write_text("yesterday's predictions\n")
    done = subprocess.run(
        _command("predict", str(good), str(table), "--output", str(out), "--quiet"),
        capture_output=True, text=True, env=_env(), preexec_fn=small_files, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "cannot write" in done.stderr, done.stderr
    assert out.read_text() == "yesterday's predictions\n"


# -------------------------------------------------------------------- stale answers (30.3)
def test_predict_replaces_result_columns_of_the_input_and_says_so(folder, tmp_path):
    table = tmp_path / "old_predictions.csv"
    pd.DataFrame(
        {"composition": ["Fe", "Fe0.9Ni0.1"], "prediction": [-999.0, -999.0], "std": [0.0, 0.0]}
    ).to_csv(table, index=False)
    out = tmp_path / "new.csv"
    done = subprocess.run(
        _command("predict", str(folder / "m.joblib"), str(table), "--output", str(out)),
        capture_output=True, text=True, env=_env(), timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out)
    assert list(frame.columns).count("prediction") == 1
    assert (frame["prediction"] != -999.0).all() and (frame["std"] > 0).all()
    assert "the input's columns prediction, std are replaced" in done.stderr


# ------------------------------------------------------------- checks before work (30.7)
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--save", "nodir/x.joblib"], "--save nodir/x.joblib: no such folder nodir"),
        (["--save", "{tmp}"], "is a folder; give a file name"),
        (["--json", "nodir/r.json", "--save", "m.joblib"], "--json nodir/r.json: no such folder"),
        (["--predictions", "{tmp}"], "--predictions"),
        (["--max-epochs", "0"], "--max-epochs must be at least 1, got 0"),
        (["--threads", "-1"], "--threads must be at least 1, got -1"),
        (["--limit", "-5"], "--limit must be at least 1, got -5"),
        (["--lr", "0"], "--lr must be a positive number"),
        (["--cv", "1"], "--cv must be 0 (no evaluation) or at least 2"),
    ],
)
def test_every_path_and_number_is_checked_before_any_work(
    folder, tmp_path, monkeypatch, capsys, extra, expected
):
    import skatomsets.io.tables as tables

    monkeypatch.setattr(tables, "load_training_data", None)  # any work would crash
    argv = ["train", str(folder / "s.csv"), *[a.format(tmp=tmp_path) for a in extra]]
    assert main(argv) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and expected in lines[0]


def test_predict_output_into_a_folder_is_refused_before_loading_the_model(tmp_path, capsys):
    assert main(["predict", "missing.joblib", "Fe", "--output", str(tmp_path)]) == 2
    assert "--output" in capsys.readouterr().err  # not "no such model file": checked first


# ------------------------------------------------------------- all bad rows at once (34.1)
def _four_bad_rows(path: Path, n: int = 40) -> None:
    df = load_dataset("steels").iloc[:n][["composition", "target"]].astype(object)
    df.loc[5, "composition"] = None  # line 7
    df.loc[12, "target"] = None  # line 14
    df.loc[20, "composition"] = "Xx2O3"  # line 22
    df.loc[30, "composition"] = "NaCl)"  # line 32
    df.to_csv(path, index=False)


def test_every_bad_row_is_reported_at_once_with_the_line_an_editor_shows(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    _four_bad_rows(path)
    assert main(["train", str(path), *FAST]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert "4 of 40 rows cannot be used (fix them, or leave them out with --drop-invalid)" in err
    assert f"{path}:7, column 'composition': no formula" in err
    assert f"{path}:14, column 'target': no target value (empty cell)" in err
    assert f"{path}:22, column 'composition': 'Xx' is not a chemical element" in err
    assert f"{path}:32, column 'composition': cannot parse formula 'NaCl)'" in err
    assert "fold 0" not in captured.out and "Traceback" not in err


def test_many_bad_rows_show_twenty_and_a_count(tmp_path, capsys):
    df = load_dataset("steels").iloc[:40][["composition", "target"]]
    df.loc[:29, "composition"] = "Qq"
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    assert main(["train", str(path), *FAST]) == 2
    err = capsys.readouterr().err
    assert "30 of 40 rows cannot be used" in err and "... and 10 more" in err
    assert err.count("'Qq' is not a chemical element") == 20


def test_lines_count_cif_text_spanning_several_lines(tmp_path):
    from pymatgen.core import Lattice, Structure

    from skatomsets.io.tables import load_training_data

    cif = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3]).to(fmt="cif")
    path = tmp_path / "s.csv"
    pd.DataFrame({"structure": [cif, cif, None], "target": [1.0, 2.0, 3.0]}).to_csv(path)
    mats = load_training_data(path, progress=False)
    n = cif.count("\n") + 1  # lines of one quoted CIF cell
    assert mats.problem_lines() == [f"{path}:{2 + 2 * n}, column 'structure': no structure"]


def test_drop_invalid_trains_on_the_other_rows_and_lists_what_it_left_out(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    _four_bad_rows(path)
    assert main(["train", str(path), *FAST, "--cv", "2", "--drop-invalid"]) == 0
    captured = capsys.readouterr()
    assert "column 'composition': 36 rows (compositions)" in captured.out
    assert "left out 4 bad rows (--drop-invalid)" in captured.err
    assert f"{path}:22, column 'composition': 'Xx' is not a chemical element" in captured.err


def test_predict_writes_every_row_it_can_and_an_error_column(folder, tmp_path, capsys):
    rng = np.random.default_rng(0)
    formulas = [f"Fe{a:.2f}Ni{1 - a:.2f}" for a in rng.uniform(0.1, 0.9, 1000)]
    formulas[10], formulas[500], formulas[999] = "Xx2", "NaCl)", ""
    table = tmp_path / "screen.csv"
    pd.DataFrame({"formula": formulas}).to_csv(table, index=False)
    out = tmp_path / "p.csv"
    assert main(["predict", str(folder / "m.joblib"), str(table), "--output", str(out)]) == 1
    frame = pd.read_csv(out)
    assert len(frame) == 1000 and frame["prediction"].notna().sum() == 997
    assert frame["error"].notna().sum() == 3 and frame["prediction"][[10, 500, 999]].isna().all()
    err = capsys.readouterr().err
    assert "3 of 1000 rows could not be predicted" in err
    assert f"{table}:12, column 'formula': 'Xx' is not a chemical element" in err


def test_a_table_of_bad_rows_gives_error_rows_for_every_model(folder, tmp_path, capsys):
    stats = tmp_path / "stats.joblib"
    argv = ["train", str(folder / "s.csv"), *FAST, "--cv", "0", "--quiet"]
    assert main([*argv, "--model", "mlp-v0-stats", "--save", str(stats)]) == 0
    table = tmp_path / "bad.csv"
    pd.DataFrame({"composition": ["Xx", "NaCl)"]}).to_csv(table, index=False)
    for model in (folder / "m.joblib", stats):
        out = tmp_path / f"{model.stem}.csv"
        capsys.readouterr()
        assert main(["predict", str(model), str(table), "--output", str(out)]) == 1
        frame = pd.read_csv(out)
        assert frame["prediction"].isna().all() and frame["error"].notna().all()
        assert "2 of 2 rows could not be predicted" in capsys.readouterr().err


# ------------------------------------------------------------------ extra columns (30.4)
def test_extra_numeric_columns_are_named_when_left_out_and_used_with_features(
    folder, tmp_path, capsys
):
    from skatomsets.uncertainty import final_estimator

    assert main(["train", str(folder / "s.csv"), *FAST, "--cv", "2"]) == 0
    assert "columns not used: T (numbers: --features T uses them" in capsys.readouterr().out
    model = tmp_path / "t.joblib"
    argv = ["train", str(folder / "s.csv"), *FAST, "--cv", "0", "--features", "T"]
    assert main([*argv, "--save", str(model)]) == 0
    assert "extra inputs: T (--features)" in capsys.readouterr().out
    assert list(final_estimator(joblib.load(model)).extra_names_in_) == ["T"]
    assert main(["predict", str(model), str(folder / "s.csv"), "--quiet"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 37
    assert main(["predict", str(model), "Fe"]) == 2
    assert "trained with the extra inputs ['T'] (--features)" in capsys.readouterr().err


# ---------------------------------------------------------------- clear messages (30.8-12)
@pytest.mark.parametrize("cv", ["2", "5"])
def test_a_bad_target_is_named_by_its_file_line_whatever_the_folds(tmp_path, capsys, cv):
    df = load_dataset("steels").iloc[:30][["composition", "target"]].copy()
    df.loc[7, "target"] = np.inf
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    assert main(["train", str(path), *FAST, "--cv", cv]) == 2
    assert f"{path}:9, column 'target': target inf is not finite" in capsys.readouterr().err


def test_fit_fold_names_the_row_of_the_users_x_not_of_the_fold(tmp_path):
    from functools import partial

    from skatomsets.exceptions import InvalidTargetError
    from skatomsets.models import make_model
    from skatomsets.protocols import _own_score, fit_fold

    X = np.array(["Fe", "Ni", "Co", "Cu", "Zn", "Mn", "Cr", "Ti", "V", "Al"], dtype=object)
    y = np.arange(10.0)
    y[7] = np.nan
    scorer = partial(_own_score, classification=False)
    model = make_model("atomsets-v0", max_epochs=1, device="cpu")
    with pytest.raises(InvalidTargetError) as info:
        fit_fold(model, X, y, 0, np.arange(3, 10), np.arange(3), scorer)
    assert info.value.row == 7 and str(info.value).startswith("row 7: ")


def test_a_stray_string_in_a_numeric_target_is_a_bad_row_not_a_class(tmp_path, capsys):
    df = load_dataset("steels").iloc[:30][["composition", "target"]].astype(object)
    df.loc[4, "target"] = "1081.1 MPa"
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    assert main(["train", str(path), *FAST]) == 2
    err = capsys.readouterr().err
    assert f"{path}:6, column 'target': target '1081.1 MPa' is not a number" in err
    assert "has only 1 rows" not in err
    assert main(["train", str(path), *FAST, "--drop-invalid", "--cv", "2"]) == 0
    assert "task: regression (auto: 29 of 30 values are numbers" in capsys.readouterr().out
    assert main(["train", str(path), "--target", "composition", *FAST]) == 2
    assert "--target 'composition' is the materials column" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"\x80\x04\x95" + bytes(range(200)), "truncate"])
def test_an_unreadable_model_file_says_why(folder, tmp_path, capsys, content):
    path = tmp_path / "bad.joblib"
    if content == "truncate":
        content = (folder / "m.joblib").read_bytes()[:1000]
    path.write_bytes(content)
    assert main(["predict", str(path), "Fe"]) == 2
    line = _error_lines(capsys.readouterr().err)[0]
    assert "cannot be read (truncated, or not a joblib file; " in line
    assert not line.endswith((": ", ":"))


def test_an_empty_input_is_an_empty_formula_not_the_current_folder(folder, capsys):
    assert main(["predict", str(folder / "m.joblib"), ""]) == 1
    err = capsys.readouterr().err
    assert "input 1 '', empty formula string" in err and "no structure files" not in err


def test_a_broken_cif_is_one_problem_without_pymatgen_warnings(tmp_path):
    from skatomsets.io.tables import prediction_inputs

    broken = tmp_path / "broken.cif"
    broken.write_text("data_x\n_cell_length_a 4.0\n_cell_length_b oops\nloop_\n_atom_site_label\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mats = prediction_inputs([str(broken)], None, True, progress=False)
    assert list(mats.problems) == [0] and not caught


# --------------------------------------------------------------- outputs to keep (34.4)
def test_out_of_fold_predictions_and_parity_plot(folder, tmp_path, capsys):
    oof, png = tmp_path / "oof.csv", tmp_path / "parity.png"
    argv = ["train", str(folder / "s.csv"), *FAST, "--units", "MPa", "--quiet"]
    assert main([*argv, "--predictions", str(oof), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "test MAE in MPa" in out and "MPa over 5 folds" in out
    frame = pd.read_csv(oof)
    assert len(frame) == 36 and sorted(frame["fold"].unique()) == [0, 1, 2, 3, 4]
    assert {"prediction", "std", "domain_score", "target", "where"} <= set(frame.columns)
    assert frame["prediction"].notna().all() and frame["where"][0] == f"{folder / 's.csv'}:2"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------- instant start (34.3)
def test_help_list_free_error_paths_do_not_import_torch(tmp_path):
    code = (
        "import sys\n"
        "from skatomsets.cli import main\n"
        "assert main(['train', 'missing.csv']) == 2\n"
        "assert main(['predict', 'missing.joblib', 'Fe']) == 2\n"
        "assert main(['train', 'x.csv', '--max-epochs', '0']) == 2\n"
        "assert main(['list']) == 0\n"
        "assert main(['train', 'matbench_steels', '--model', 'nonsense']) == 2\n"
        "heavy = ('torch', 'pymatgen.core', 'matminer', 'pandas')\n"
        "assert not [m for m in heavy if m in sys.modules], sys.modules.keys() & set(heavy)\n"
        "from skatomsets import AtomSetsRegressor\n"
        "assert 'torch' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_model_without_a_featurizer_step_still_gets_every_formula_checked(tmp_path):
    from sklearn.dummy import DummyRegressor

    from skatomsets.io.tables import check_featurizer, load_training_data

    path = tmp_path / "mine.csv"
    _four_bad_rows(path)
    mats = load_training_data(path, progress=False)
    assert check_featurizer(DummyRegressor(), mats) is not None
    assert [line.split(",")[0] for line in mats.problem_lines()] == [
        f"{path}:{n}" for n in (7, 14, 22, 32)
    ]
