"""Per-sample weights: validation, and the weighted loss of a batch.

The estimators' ``fit(X, y, sample_weight=...)`` checks the weights here, drops the rows of
weight zero, and hands the rest to the dataset (``TensorData`` / ``GraphData``), which
shuffles and splits them with the samples and yields each batch's target as
``(y, weights)``; the skorch net then computes :func:`weighted_loss`, and the validation
metric (MAE / ROC-AUC) is weighted the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..exceptions import InvalidSampleWeightError

__all__ = ["check_sample_weight", "weighted_loss"]


def weighted_loss(
    criterion: torch.nn.Module, y_pred: torch.Tensor, y: torch.Tensor, w: torch.Tensor
) -> torch.Tensor:
    """``sum_i w_i l_i / sum_i w_i`` over a batch (``l_i`` averaged over a sample's outputs).

    The criterion's ``reduction`` is switched to ``"none"`` for the call; a batch whose
    weights are all zero gives a zero loss (and no gradient).
    """
    y, w = y.to(y_pred.device), w.to(y_pred.device, y_pred.dtype)
    saved = criterion.reduction
    criterion.reduction = "none"
    try:
        per = criterion(y_pred, y)
    finally:
        criterion.reduction = saved
    per = per.reshape(len(w), -1).mean(dim=1)
    return (per * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """Validate ``sample_weight`` for ``n`` samples: float64 array, or None.

    A number means that weight for every sample. Raises
    :class:`~skatomsets.exceptions.InvalidSampleWeightError` (a ``ValueError``) for the wrong
    shape or length, and naming the row for a non-numeric, NaN, infinite or negative weight;
    all-zero weights are refused too.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=object if _has_strings(sample_weight) else None)
    if w.ndim == 0:
        if not _is_number(w.item()) or isinstance(w.item(), (str, bytes)):
            raise InvalidSampleWeightError(f"sample_weight must be numeric, got {w.item()!r}")
        w = np.full(n, float(w.item()))
    if w.ndim != 1:
        raise InvalidSampleWeightError(
            f"sample_weight must be 1-D of length {n}, got shape {w.shape}"
        )
    if len(w) != n:
        raise InvalidSampleWeightError(f"sample_weight has {len(w)} entries for {n} samples")
    if w.dtype.kind not in "biuf":
        for i, v in enumerate(w):
            if isinstance(v, (str, bytes)) or not _is_number(v):
                raise InvalidSampleWeightError(f"sample_weight {v!r} is not a number", row=i)
    w = w.astype(np.float64)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidSampleWeightError(
            f"sample_weight {w[i]} is {'negative' if w[i] < 0 else 'NaN or infinite'}", row=i
        )
    if n and not (w > 0).any():
        raise InvalidSampleWeightError("all sample weights are zero: nothing to train on")
    return w


def _has_strings(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and any(isinstance(v, (str, bytes)) for v in x)


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True
