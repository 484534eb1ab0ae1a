"""Targets: scaling and prediction for the regressors, labels and probabilities for the
classifiers, and the validation metrics that pick the best epoch.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidTargetError
from ._weights import _is_number

__all__ = ["ClassifierMixinNN", "RegressorMixinNN", "ScaledMAE", "ValidationAUC"]


class ScaledMAE:
    """Validation MAE in target units from standardised targets and predictions."""

    def __init__(self, scale: np.ndarray) -> None:
        self.scale = scale

    def __call__(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        err = np.abs(y_true - y_pred) * self.scale
        if sample_weight is None or not sample_weight.sum() > 0:
            return float(np.mean(err))
        return float(np.average(err.reshape(len(err), -1).mean(axis=1), weights=sample_weight))


class ValidationAUC:
    """Validation ROC-AUC from logits (one-vs-rest for multiclass).

    When the validation split lacks a class (tiny datasets) the AUC is undefined; the mean
    probability of the true class is used instead, so that higher is still better.
    Ties in AUC (e.g. a perfectly ranked validation set for many epochs) are broken by the
    validation cross-entropy, through a term below 1e-10: the AUC is ranking-only, and the
    first epoch to reach the best AUC may still be poorly calibrated.
    """

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes

    def __call__(
        self, y_true: np.ndarray, logits: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        w = sample_weight
        if w is not None and not w.sum() > 0:
            w = None
        logits_t = torch.from_numpy(logits).double()
        proba = torch.softmax(logits_t, dim=1).numpy()
        per = torch.nn.functional.cross_entropy(
            logits_t, torch.from_numpy(y_true), reduction="none"
        ).numpy()
        xent = float(per.mean() if w is None else np.average(per, weights=w))
        tie_break = 1e-10 / (1.0 + xent)
        if len(np.unique(y_true[w > 0] if w is not None else y_true)) < self.n_classes:
            p_true = proba[np.arange(len(y_true)), y_true]
            return float(np.average(p_true, weights=w)) + tie_break
        if self.n_classes == 2:
            return float(roc_auc_score(y_true, proba[:, 1], sample_weight=w)) + tie_break
        return float(roc_auc_score(y_true, proba, multi_class="ovr", sample_weight=w)) + tie_break


class RegressorMixinNN:
    """Target scaling and prediction for the neural regressors."""

    def _encode_y(self, y: Any, n: int, sample_weight: np.ndarray | None = None) -> np.ndarray:
        y_arr = self._check_targets_numeric(y, n)
        if y_arr.dtype == object or y_arr.dtype.kind in "USb":
            try:
                y_arr = y_arr.astype(np.float64)
            except (TypeError, ValueError):
                rows = [i for i, v in enumerate(y_arr.ravel()) if not _is_number(v)]
                raise InvalidTargetError(
                    f"non-numeric target {_plain(y_arr.ravel()[rows[0]])!r}", row=rows[0]
                ) from None
        y_arr = y_arr.astype(np.float64)
        if y_arr.ndim > 2:
            raise InvalidTargetError(f"y must be 1-D or 2-D, got {y_arr.ndim}-D")
        bad = ~np.isfinite(y_arr.reshape(n, -1)).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidTargetError(f"target {y_arr[i].tolist()} is NaN or infinite", row=i)
        self._y_ndim = y_arr.ndim
        y2 = y_arr.reshape(n, -1)
        # weighted when sample weights are given (then a weight-w row counts as w copies)
        self.y_mean_ = np.average(y2, axis=0, weights=sample_weight)
        scale = np.sqrt(np.average((y2 - self.y_mean_) ** 2, axis=0, weights=sample_weight))
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        return ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _criterion(self) -> type:
        from ._params import LOSSES

        return LOSSES[self.loss_]

    def _score(self):
        return ("valid_mae", ScaledMAE(self.y_scale_), True)

    def predict(self, X: Any, return_std: bool = False):
        """Predict targets (mean over the ensemble).

        Parameters
        ----------
        X : RaggedSets or array-like
            Featurized inputs, as in ``fit``.
        return_std : bool, default=False
            Also return the standard deviation over the ensemble members (needs
            ``n_ensemble >= 2``): a deep-ensemble uncertainty estimate.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        y_std : ndarray, same shape, only if ``return_std``
        """
        outs = self._forward_all(X) * self.y_scale_ + self.y_mean_
        mean = outs.mean(axis=0)
        std = outs.std(axis=0)
        if self._y_ndim == 1:
            mean, std = mean[:, 0], std[:, 0]
        if return_std:
            if len(self.nets_) < 2:
                raise ValueError("return_std=True needs an ensemble: set n_ensemble >= 2")
            return mean, std
        return mean

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class ClassifierMixinNN:
    """Label encoding, ROC-AUC early stopping and probabilities for the neural classifiers."""

    def _encode_y(self, y: Any, n: int, sample_weight: np.ndarray | None = None) -> np.ndarray:
        from sklearn.utils.multiclass import check_classification_targets

        y_arr = self._check_targets_numeric(y, n)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is raveled.",
                _data_conversion_warning(),
                stacklevel=3,
            )
            y_arr = y_arr.ravel()
        if y_arr.dtype.kind == "f":
            bad = ~np.isfinite(y_arr)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InvalidTargetError(
                    f"class label {y_arr[i].tolist()} is NaN or infinite", row=i
                )
        _check_label_types(y_arr)
        check_classification_targets(y_arr)
        self.classes_, codes = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) < 2:
            raise InvalidTargetError(
                f"only one class ({_plain(self.classes_[0])!r}) is present in y; a classifier "
                "needs at "
                "least 2 classes"
            )
        return codes.astype(np.int64)

    def _criterion(self) -> type:
        return torch.nn.CrossEntropyLoss

    def _score(self):
        return ("valid_auc", ValidationAUC(len(self.classes_)), False)

    def predict_proba(self, X: Any, return_std: bool = False):
        """Class probabilities (mean over the ensemble), columns ordered as ``classes_``.

        Parameters
        ----------
        X : RaggedSets or array-like
            Featurized inputs, as in ``fit``.
        return_std : bool, default=False
            Also return the standard deviation of each class probability over the ensemble
            members (needs ``n_ensemble >= 2``): a deep-ensemble uncertainty estimate.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        proba_std : ndarray of shape (n_samples, n_classes), only if ``return_std``
        """
        logits = self._forward_all(X)
        proba = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
        if return_std:
            if len(self.nets_) < 2:
                raise ValueError("return_std=True needs an ensemble: set n_ensemble >= 2")
            return proba.mean(axis=0), proba.std(axis=0)
        return proba.mean(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each sample."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _is_classifier(self) -> bool:
        return True


def _check_label_types(y: np.ndarray) -> None:
    """Class labels that numpy can sort: 1-D, no None, not strings mixed with numbers."""
    if y.ndim != 1:
        raise InvalidTargetError(
            f"classifier targets must be 1-D class labels, got an array of shape {y.shape} "
            "(multi-output classification is not supported)"
        )
    if y.dtype != object:
        return
    kinds: dict[str, int] = {}
    for i, v in enumerate(y.tolist()):
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            raise InvalidTargetError(f"class label {v!r} is missing (None or NaN)", row=i)
        kind = "string" if isinstance(v, (str, bytes)) else "number"
        if not isinstance(v, (str, bytes, numbers.Number)):
            raise InvalidTargetError(
                f"class label {v!r} of type {type(v).__name__} is neither a string nor a number",
                row=i,
            )
        kinds.setdefault(kind, i)
    if len(kinds) > 1:
        raise InvalidTargetError(
            f"class labels mix strings and numbers (row {kinds['string']} is "
            f"{y[kinds['string']]!r}, row {kinds['number']} is {_plain(y[kinds['number']])!r}): "
            "use one type for all labels"
        )


def _plain(v: Any) -> Any:
    """A numpy scalar as the Python value (messages show ``'high'``, not ``np.str_('high')``)."""
    return v.item() if isinstance(v, np.generic) else v


def _data_conversion_warning() -> type[Warning]:
    from sklearn.exceptions import DataConversionWarning

    return DataConversionWarning
