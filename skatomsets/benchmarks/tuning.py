"""Choosing among candidate settings by inner validation on training rows only.

:func:`tune` is the one loop: split the training rows once (80/20), fit one network per
candidate (``n_ensemble=1``) on the 80 %, score it on the 20 %, keep the best. The test
rows are never looked at. Two callers:

- :func:`select_candidate`, the MatBench runner's ``tune=True`` (``skatomsets benchmark
  --tune``): the training part of fold 0 only, a stratified split for classification
  (:func:`sklearn.model_selection.train_test_split`), inner scores cached as records; the
  choice is then fixed for all five folds;
- the structure-set benchmark (:func:`skatomsets.benchmarks.structures.run_structure_task`):
  the training rows of each fold, a seeded permutation (``split="permutation"``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..datasets import is_classification
from ..protocols import score_predictions
from .baselines import make_benchmark_model
from .records import RecordStore, jsonable, read_record, write_record

__all__ = ["inner_split", "select_candidate", "tune"]


def inner_split(
    rows: np.ndarray,
    y: np.ndarray | None = None,
    seed: int = 0,
    split: str = "train_test_split",
) -> tuple[np.ndarray, np.ndarray]:
    """The inner 80/20 split of the training ``rows``: ``(inner_train, inner_valid)``.

    Parameters
    ----------
    rows : ndarray of int
        Indices of the (outer) training rows.
    y : ndarray, optional
        Targets of ``rows`` (same length) to stratify on (``"train_test_split"`` only).
    seed : int, default=0
    split : {"train_test_split", "permutation"}
        :func:`~sklearn.model_selection.train_test_split` (``test_size=0.2``), or a
        ``numpy.random.default_rng(seed)`` permutation whose first ``round(0.2 n)`` rows
        validate (both sorted).

    Returns
    -------
    inner_train, inner_valid : ndarray of int

    Examples
    --------
    >>> tr, va = inner_split(np.arange(10), split="permutation")
    >>> len(tr), len(va), sorted([*tr, *va]) == list(range(10))
    (8, 2, True)
    """
    rows = np.asarray(rows)
    if split == "train_test_split":
        tr, va = train_test_split(rows, test_size=0.2, random_state=seed, stratify=y)
        return tr, va
    if split == "permutation":
        perm = np.random.default_rng(seed).permutation(rows)
        n_va = max(1, round(0.2 * len(perm)))
        return np.sort(perm[n_va:]), np.sort(perm[:n_va])
    raise ValueError(f"unknown split {split!r}; choose 'train_test_split' or 'permutation'")


def tune(
    make_estimator: Callable[[dict[str, Any]], Any],
    X: Any,
    y: np.ndarray,
    rows: np.ndarray,
    base_params: dict[str, Any],
    candidates: Sequence[dict[str, Any]],
    *,
    classification: bool = False,
    seed: int = 0,
    split: str = "train_test_split",
    score: Callable[[np.ndarray, np.ndarray], float] | None = None,
    cache: Callable[[int, dict[str, Any]], tuple[Path, dict[str, Any]]] | None = None,
    compute: bool = True,
) -> dict[str, Any] | None:
    """Score every candidate by inner validation on ``rows``; the best one wins.

    Parameters
    ----------
    make_estimator : callable
        ``make_estimator(params)`` -> an unfitted estimator; ``params`` is ``base_params``
        updated with the candidate and ``n_ensemble=1``.
    X, y : indexable by row indices
        All rows (only ``rows`` are used).
    rows : ndarray of int
        The training rows to split (:func:`inner_split`).
    base_params : dict
    candidates : sequence of dict
        With one candidate nothing is fitted (``scores`` is empty).
    classification : bool, default=False
        Stratify the split (``"train_test_split"``), score the positive-class probability,
        and pick the highest score instead of the lowest.
    seed : int, default=0
    split : {"train_test_split", "permutation"}
    score : callable, optional
        ``score(y_true, y_pred)``; default MAE or ROC-AUC
        (:func:`skatomsets.protocols.score_predictions`).
    cache : callable, optional
        ``cache(i, params)`` -> ``(path, signature)`` of candidate ``i``'s record: a record
        read back with that signature is not fitted again; new ones are written there.
    compute : bool, default=True
        False: fit nothing; None when a candidate has no cached score.

    Returns
    -------
    dict or None
        ``index`` (of the winner), ``scores`` (one per candidate), ``n_inner_train``,
        ``n_inner_valid``.
    """
    if len(candidates) == 1:  # nothing to choose: fit nothing
        return {"index": 0, "scores": [], "n_inner_train": 0, "n_inner_valid": 0}
    rows = np.asarray(rows)
    y = np.asarray(y)
    stratify = y[rows] if classification and split == "train_test_split" else None
    idx_tr, idx_va = inner_split(rows, stratify, seed, split)
    scores = []
    for i, cand in enumerate(candidates):
        params = {**base_params, **cand, "n_ensemble": 1}
        path, sig = cache(i, params) if cache is not None else (None, None)
        rec = None if path is None else read_record(path, sig, required=("score",))
        if rec is None and not compute:
            return None
        if rec is None:
            est = make_estimator(params)
            t0 = time.perf_counter()
            est.fit(X[idx_tr], y[idx_tr])
            pred = est.predict_proba(X[idx_va])[:, 1] if classification else est.predict(X[idx_va])
            value = (
                score_predictions(y[idx_va], pred, classification)
                if score is None
                else score(y[idx_va], pred)
            )
            rec = {
                "signature": jsonable(sig),
                "candidate": jsonable(cand),
                "score": value,
                "fit_seconds": time.perf_counter() - t0,
            }
            if path is not None:
                write_record(path, rec, indent=1)
        scores.append(float(rec["score"]))
    best = int(np.argmax(scores) if classification else np.argmin(scores))
    return {
        "index": best,
        "scores": scores,
        "n_inner_train": len(idx_tr),
        "n_inner_valid": len(idx_va),
    }


def select_candidate(
    model: str,
    task: str,
    df: pd.DataFrame,
    base_params: dict[str, Any],
    candidates: Sequence[dict[str, Any]],
    out_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    compute: bool = True,
) -> dict[str, Any] | None:
    """Pick one candidate by inner validation on the training part of fold 0 (MatBench).

    The rows with ``test_fold != 0`` are split once (80/20, seed ``seed``, stratified for
    classification); each candidate (``base_params`` updated with it, ``n_ensemble=1``) is
    fitted on the 80 % and scored on the 20 % (MAE or ROC-AUC). The test rows of fold 0
    are never used, nor are any other folds' labels beyond fold 0's training rows.

    Parameters
    ----------
    model, task : str
    df : DataFrame
        The task's rows with ``composition``, ``target``, ``test_fold``.
    base_params : dict
    candidates : sequence of dict
    out_dir : path, optional
        Inner scores are cached here (resumable), one record per candidate
        (``tune__<model>__<task>__c<i>.json``).
    seed : int, default=0
    compute : bool, default=True
        False: use cached scores only, and return None if one is missing.

    Returns
    -------
    dict or None
        ``chosen`` (the winning overrides), ``index``, ``scores`` (one per candidate),
        ``metric``, ``n_inner_train``, ``n_inner_valid``.
    """
    classification = is_classification(task)
    store = None if out_dir is None else RecordStore(out_dir)

    def cache(i: int, params: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        return store.path("tune", model, task, f"c{i}"), {
            "params": params,
            "rows": len(df),
            "seed": seed,
        }

    out = tune(
        lambda params: make_benchmark_model(model, task, params),
        df["composition"].to_numpy(),
        df["target"].to_numpy(),
        np.flatnonzero(df["test_fold"].to_numpy() != 0),
        base_params,
        candidates,
        classification=classification,
        seed=seed,
        cache=None if store is None else cache,
        compute=compute,
    )
    if out is None:
        return None
    return {
        "chosen": dict(candidates[out["index"]]),
        "index": out["index"],
        "candidates": [dict(c) for c in candidates],
        "scores": out["scores"],
        "metric": "roc_auc" if classification else "mae",
        "n_inner_train": out["n_inner_train"],
        "n_inner_valid": out["n_inner_valid"],
    }
