"""Evaluation protocols as library code: the MatBench official 5-fold protocol.

:func:`run_matbench_folds` fits a fresh clone of a model on each official training fold and
scores it on the matching test fold (MAE for regression, ROC-AUC from predicted
probabilities for classification). Any tuning happens inside the training fold (the
estimators' own validation split).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error, roc_auc_score

__all__ = ["FoldResult", "run_matbench_folds", "score_predictions"]


@dataclass
class FoldResult:
    """Outcome of one fold."""

    fold: int
    metric: str
    score: float
    n_train: int
    n_test: int
    fit_seconds: float
    predictions: list[float] = field(repr=False, default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def score_predictions(y_true: np.ndarray, y_pred: np.ndarray, classification: bool) -> float:
    """MAE (regression) or ROC-AUC of the positive-class probability (classification)."""
    if classification:
        return float(roc_auc_score(y_true, y_pred))
    return float(mean_absolute_error(y_true, y_pred))


def run_matbench_folds(
    model: Any,
    df: pd.DataFrame,
    classification: bool,
    input_col: str = "composition",
    folds: list[int] | None = None,
    callback: Callable[[FoldResult], None] | None = None,
) -> list[FoldResult]:
    """Run the MatBench protocol: train on ``test_fold != k``, test on ``test_fold == k``.

    Parameters
    ----------
    model : estimator or Pipeline
        Cloned for every fold; the original is not fitted.
    df : DataFrame
        With ``input_col``, ``target`` and ``test_fold``.
    classification : bool
        Score ROC-AUC from ``predict_proba`` (positive class) instead of MAE.
    input_col : str, default="composition"
    folds : list of int, optional
        Which folds to run (default: all present).
    callback : callable, optional
        Called with each :class:`FoldResult` as soon as it is done (progress, saving).

    Returns
    -------
    list of FoldResult
    """
    X = df[input_col].to_numpy()
    y = df["target"].to_numpy()
    test_fold = df["test_fold"].to_numpy()
    results = []
    for k in folds if folds is not None else sorted(np.unique(test_fold)):
        train, test = test_fold != k, test_fold == k
        est = clone(model)
        t0 = time.perf_counter()
        est.fit(X[train], y[train])
        seconds = time.perf_counter() - t0
        if classification:
            pred = est.predict_proba(X[test])[:, 1]
        else:
            pred = est.predict(X[test])
        res = FoldResult(
            fold=int(k),
            metric="roc_auc" if classification else "mae",
            score=score_predictions(y[test], pred, classification),
            n_train=int(train.sum()),
            n_test=int(test.sum()),
            fit_seconds=seconds,
            predictions=[float(p) for p in np.ravel(pred)],
        )
        results.append(res)
        if callback is not None:
            callback(res)
    return results
