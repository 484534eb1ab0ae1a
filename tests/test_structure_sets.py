"""Tests of skatomsets.datasets.load_structure_set (fast; real data optional)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.model_selection import KFold

from skatomsets.datasets import STRUCTURE_FOLD_SEED, load_structure_set


def _records(n: int, with_fold: bool = False) -> list[dict]:
    recs = []
    for i in range(n):
        s = Structure(Lattice.cubic(4.0 + 0.01 * i), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
        rec = {"material_id": f"mp-{i}", "structure": s.as_dict(), "y": float(i), "z": -i}
        if with_fold:
            rec["test_fold"] = i % 3
        recs.append(rec)
    return recs


def _write(path: Path, records: list, gz: bool = False) -> Path:
    text = json.dumps(records)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_tiny_file_columns_types_and_kfold(tmp_path: Path, gz: bool) -> None:
    path = _write(tmp_path / ("toy.json.gz" if gz else "toy.json"), _records(12), gz=gz)
    df = load_structure_set(path, "y")
    assert list(df.columns) == ["id", "structure", "target", "test_fold"]
    assert df["id"].tolist() == [f"mp-{i}" for i in range(12)]
    assert all(isinstance(s, Structure) for s in df["structure"])
    np.testing.assert_array_equal(df["target"].to_numpy(), np.arange(12.0))
    expected = np.empty(12, dtype=int)
    for k, (_, test) in enumerate(
        KFold(5, shuffle=True, random_state=STRUCTURE_FOLD_SEED).split(np.zeros(12))
    ):
        expected[test] = k
    np.testing.assert_array_equal(df["test_fold"].to_numpy(), expected)


def test_tiny_file_own_folds_and_seed(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.json", _records(9, with_fold=True))
    df = load_structure_set(path, "z")
    np.testing.assert_array_equal(df["test_fold"].to_numpy(), np.arange(9) % 3)
    np.testing.assert_array_equal(df["target"].to_numpy(), -np.arange(9.0))
    plain = _write(tmp_path / "g.json", _records(20))
    a = load_structure_set(plain, "y", n_folds=4, seed=1)["test_fold"].to_numpy()
    b = load_structure_set(plain, "y", n_folds=4, seed=2)["test_fold"].to_numpy()
    assert sorted(set(a.tolist())) == [0, 1, 2, 3]
    assert np.bincount(a).tolist() == [5, 5, 5, 5]
    assert not np.array_equal(a, b)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        load_structure_set(tmp_path / "missing.json.gz", "y")
    path = _write(tmp_path / "t.json", _records(6))
    with pytest.raises(ValueError, match=r"unknown target field 'e_form'.*'y'"):
        load_structure_set(path, "e_form")
    with pytest.raises(ValueError, match="n_folds"):
        load_structure_set(path, "y", n_folds=1)
    recs = _records(6)
    recs[3]["y"] = None
    with pytest.raises(ValueError, match="record 3"):
        load_structure_set(_write(tmp_path / "n.json", recs), "y")
    recs = _records(6)
    del recs[2]["structure"]
    with pytest.raises(ValueError, match="record 2 has no 'structure'"):
        load_structure_set(_write(tmp_path / "s.json", recs), "y")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"not a .*JSON"):
        load_structure_set(tmp_path / "bad.json", "y")
    with pytest.raises(ValueError, match="list of records"):
        load_structure_set(_write(tmp_path / "d.json", {"a": 1}), "y")  # type: ignore[arg-type]


@pytest.mark.data
def test_real_perovskites_keep_their_folds(shared_data: Path) -> None:
    path = shared_data / "structures" / "matbench_perovskites_partial.json.gz"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    df = load_structure_set(path, "e_form")
    assert len(df) == 6881
    assert df["id"].iloc[0].startswith("mb-perovskites-")
    assert sorted(df["test_fold"].unique().tolist()) == [0, 1, 2, 3, 4]
    with gzip.open(path, "rt") as fh:
        raw = json.load(fh)
    np.testing.assert_array_equal(df["test_fold"].to_numpy(), [r["test_fold"] for r in raw])
    assert {len(s) for s in df["structure"].iloc[:50]} == {5}


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "target", "n"),
    [("elastic_tensor_2015", "log10_G_VRH", 1181), ("dielectric_constant", "n", 1056)],
)
def test_real_matminer_sets_get_kfold(shared_data: Path, name: str, target: str, n: int) -> None:
    path = shared_data / "structures" / f"{name}.json.gz"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    df = load_structure_set(path, target)
    assert len(df) == n
    assert df["id"].str.startswith("mp-").all()
    counts = np.bincount(df["test_fold"].to_numpy())
    assert len(counts) == 5 and counts.max() - counts.min() <= 1
    assert np.isfinite(df["target"]).all()
