"""Evaluation protocols: MatBench folds, random splits, learning curves, extrapolation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor

from skatomsets.datasets import load_dataset
from skatomsets.models import make_model
from skatomsets.protocols import (
    convergence_splits,
    evaluate_splits,
    extrapolation_split,
    random_splits,
    run_matbench_folds,
)


def test_random_splits_are_disjoint_and_sized():
    splits = random_splits(1000, n_repeats=5, random_state=0)
    assert len(splits) == 5
    for s in splits:
        assert len(s.test["test"]) == 100 and len(s.train) == 900
        assert not np.intersect1d(s.train, s.test["test"]).size
    assert not np.array_equal(splits[0].test["test"], splits[1].test["test"])


def test_convergence_splits_grow_and_share_the_test_set():
    splits = convergence_splits(3000, sizes=[100, 200, 400, 600, 1000, 2000, 5000], n_repeats=2)
    sizes = [len(s.train) for s in splits]
    assert sizes == [100, 200, 400, 600, 1000, 2000] * 2  # 5000 > pool is skipped
    first = [s for s in splits if s.name.endswith("repeat0")]
    assert all(np.array_equal(s.test["test"], first[0].test["test"]) for s in first)
    with pytest.raises(ValueError, match="exactly one"):
        convergence_splits(10)


def test_extrapolation_split_holds_out_the_top_targets():
    y = np.arange(100.0)
    s = extrapolation_split(y, top_fraction=0.1)
    assert sorted(y[s.test["extrapolation"]]) == list(range(90, 100))
    assert len(s.test["interpolation"]) == 10
    assert y[s.test["interpolation"]].max() < 90 and y[s.train].max() < 90
    assert not np.intersect1d(s.train, s.test["interpolation"]).size


def test_evaluate_splits_reports_both_test_sets():
    df = load_dataset("steels")
    split = extrapolation_split(df.target.to_numpy())
    rows = evaluate_splits(DummyRegressor(), df.composition, df.target, [split])
    assert rows[0]["extrapolation_score"] > rows[0]["interpolation_score"]


def test_matbench_folds_protocol_scores_each_fold():
    df = load_dataset("steels")
    model = make_model("atomsets-v0", max_epochs=2, random_state=0, device="cpu")
    results = run_matbench_folds(model, df, classification=False, folds=[0, 3])
    assert [r.fold for r in results] == [0, 3]
    assert all(r.n_test == (df.test_fold == r.fold).sum() for r in results)
    assert all(np.isfinite(r.score) and len(r.predictions) == r.n_test for r in results)


def test_effective_n_jobs_counts_cpus_caps_at_the_jobs_and_refuses_zero():
    import joblib

    from skatomsets.protocols import effective_n_jobs

    assert effective_n_jobs(None, 5) == 1
    assert effective_n_jobs(-1, 100) == min(joblib.cpu_count(), 100)
    assert effective_n_jobs(8, 3) == 3
    with pytest.raises(ValueError, match="n_jobs must be a non-zero integer"):
        effective_n_jobs(0, 3)


def test_run_jobs_returns_job_order_and_reports_each_job_once():
    from skatomsets.protocols import run_jobs

    seen = []
    jobs = [(pow, (k, 2), {}) for k in range(5)]
    assert run_jobs(jobs, 2, lambda i, r: seen.append((i, r))) == [0, 1, 4, 9, 16]
    assert sorted(seen) == [(k, k * k) for k in range(5)]
