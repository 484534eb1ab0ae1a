"""The training job as library code (what ``skatomsets train`` runs), without the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skatomsets.datasets import load_dataset
from skatomsets.exceptions import InvalidRowsError
from skatomsets.io.files import load_model
from skatomsets.training import job_params, matbench_job, table_job

FAST = {"max_epochs": 2, "n_ensemble": 1, "device": "cpu"}


@pytest.fixture(scope="module")
def own_csv(tmp_path_factory):
    df = load_dataset("steels").iloc[:40][["composition", "target"]]
    path = tmp_path_factory.mktemp("job") / "own.csv"
    df.to_csv(path, index=False)
    return path


def test_table_job_runs_folds_and_refit_and_reports_like_the_command(own_csv):
    job = table_job(own_csv, "atomsets-v0", params=FAST, cv=3, folds=[0, 2], units="MPa")
    assert job.metric == "MAE" and not job.classification
    assert len(job.fold_jobs) == 2 and len(job.y) == 40
    assert any("3-fold KFold" in m for m in job.messages)
    assert any(m.startswith("estimator options: max_epochs=2") for m in job.messages)
    results, model = job.run(save=True)
    assert [r.fold for r in results] == [0, 2]
    assert model is not None and model.predict(["Fe"]).shape == (1,)
    assert job.summary(results).startswith("mean MAE = ") and " MPa over 2 folds" in job.summary(
        results
    )
    oof = job.out_of_fold(results)
    assert len(oof) == 40 and oof["fold"].notna().sum() == sum(r.n_test for r in results)
    record = job.record(results, "atomsets-v0", {"random_state": 0})
    assert record["model"] == "atomsets-v0" and len(record["folds"]) == 2
    assert record["mean"] == pytest.approx(np.mean([r.score for r in results]))


def test_table_job_reports_every_bad_row_or_drops_them(tmp_path):
    df = pd.DataFrame({"formula": ["Fe2O3", "Xx", "NaCl", "", "MgO", "SiO2"] * 2,
                       "target": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] * 2})  # fmt: skip
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InvalidRowsError) as err:
        table_job(path, "atomsets-v0", params=FAST, cv=2)
    assert "bad.csv:3" in str(err.value) and "bad.csv:5" in str(err.value)
    job = table_job(path, "atomsets-v0", params=FAST, cv=2, drop_invalid=True)
    assert len(job.y) == 8 and len(job.dropped) == 4
    assert job.data["dropped_rows"][0].startswith(str(path))


def test_job_params_drop_the_regression_loss_for_classifiers():
    assert job_params({"loss": "mse", "lr": 0.1}, classification=True) == {"lr": 0.1}
    assert job_params({"loss": "mse"}, classification=False) == {"loss": "mse"}


def test_matbench_job_uses_the_official_folds_and_refuses_others():
    job = matbench_job("steels", "atomsets-v0", params=FAST, folds=[1])
    assert len(job.fold_jobs) == 1 and job.unit == "MPa" and job.data == {"dataset": "steels"}
    assert job.messages[0].startswith(
        "atomsets-v0 on steels: 312 rows, official MatBench folds [1]"
    )
    with pytest.raises(ValueError, match="not one of the official folds"):
        matbench_job("steels", "atomsets-v0", folds=[7])


def test_load_model_names_what_is_wrong_with_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_model(tmp_path / "none.joblib")
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a pickle at all")
    with pytest.raises(ValueError, match="is not a model saved by"):
        load_model(bad)
