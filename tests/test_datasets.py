"""Built-in datasets, MatBench loaders by path and through the online route, official folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skatomsets.datasets import (
    BUILTIN_DATASETS,
    _download_matbench,
    assign_matbench_folds,
    is_classification,
    load_dataset,
    load_matbench,
    load_matbench_csv,
    matbench_cv,
    matbench_frame_from_matminer,
)


def test_builtin_steels_has_official_folds():
    df = load_dataset("matbench_steels")
    assert len(df) == 312 and df["test_fold"].value_counts().sort_index().tolist() == [
        63,
        63,
        62,
        62,
        62,
    ]
    assert "matbench_steels" in BUILTIN_DATASETS


@pytest.mark.parametrize("task", BUILTIN_DATASETS)
def test_builtin_folds_are_the_recomputed_official_folds(task):
    df = load_dataset(task)
    folds = assign_matbench_folds(df["target"], is_classification(task))
    np.testing.assert_array_equal(folds, df["test_fold"].to_numpy())


def test_matbench_cv_yields_the_folds():
    df = load_dataset("steels")
    splits = list(matbench_cv(df).split(df))
    assert len(splits) == 5
    for k, (train, test) in enumerate(splits):
        assert (df["test_fold"].to_numpy()[test] == k).all()
        assert len(train) + len(test) == len(df)


def test_load_matbench_from_a_folder(shared_data):
    df = load_matbench("matbench_expt_gap", data_dir=shared_data / "matbench")
    assert len(df) == 4604 and set(df.columns) >= {"composition", "target", "test_fold"}


def test_load_matbench_missing_file_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"matbench_mp_gap\.csv\.gz"):
        load_matbench("mp_gap", data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown MatBench task"):
        load_matbench("nope")


def test_online_route_on_local_files_reproduces_the_official_folds(shared_data):
    """The download route (matminer's load_dataset) with a loader that reads local files."""
    local = pd.read_csv(shared_data / "matbench" / "matbench_glass.csv.gz")

    def fake_matminer_loader(name):
        assert name == "matbench_glass"
        return pd.DataFrame(
            {"composition": local["composition"], "gfa": local["target"].astype(bool)}
        )

    df = _download_matbench("matbench_glass", loader=fake_matminer_loader)
    np.testing.assert_array_equal(df["test_fold"], local["test_fold"])
    assert df["mbid"].iloc[0] == local["mbid"].iloc[0]


def test_csv_without_folds_gets_them(tmp_path):
    src = load_dataset("steels").drop(columns="test_fold")
    path = tmp_path / "matbench_steels.csv"
    src.to_csv(path, index=False)
    np.testing.assert_array_equal(
        load_matbench_csv(path)["test_fold"], load_dataset("steels")["test_fold"]
    )


def test_frame_from_matminer_structure_task():
    raw = pd.DataFrame({"structure": ["s1", "s2", "s3", "s4", "s5"], "e_form": np.arange(5.0)})
    df = matbench_frame_from_matminer(raw, "perovskites")
    assert list(df.columns) == ["mbid", "structure", "target", "test_fold"]
    assert df["mbid"].iloc[0] == "mb-perovskites-001"
