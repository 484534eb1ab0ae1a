"""AutoAtomSetsClassifier: the ready classifier that chooses its model and decision rule."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval, StrOptions, fit_context
from ._base import AutoModelBase, fill_doc, pooled

__all__ = ["AutoAtomSetsClassifier", "balanced_threshold"]


def balanced_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """The probability threshold that maximises balanced accuracy on ``(y, p)``.

    Balanced accuracy is what MatBench reports as the "ROC-AUC" of predicted labels. Every
    distinct cut between sorted probabilities is tried at once (cumulative counts); among
    equally good cuts the middle one is taken.

    Parameters
    ----------
    y : ndarray of shape (n,)
        1 for the positive class, 0 otherwise.
    p : ndarray of shape (n,)
        Probability of the positive class.

    Returns
    -------
    threshold : float
        Predict positive where ``p >= threshold``.
    balanced_accuracy : float

    Examples
    --------
    >>> thr, bal = balanced_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.4, 0.9]))
    >>> round(thr, 3), bal
    (0.35, 1.0)
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5, float("nan")
    order = np.argsort(p, kind="stable")
    ps, ys = p[order], y[order]
    # cut after position i (i = 0..n): everything at or above the cut is predicted positive
    neg_below = np.concatenate([[0], np.cumsum(~ys)])
    pos_below = np.concatenate([[0], np.cumsum(ys)])
    tnr = neg_below / n_neg
    tpr = (n_pos - pos_below) / n_pos
    bal = (tnr + tpr) / 2
    # only cuts between distinct probabilities are thresholds
    valid = np.ones(len(ps) + 1, bool)
    valid[1:-1] = ps[1:] > ps[:-1]
    bal = np.where(valid, bal, -1.0)
    best = np.flatnonzero(bal >= bal.max() - 1e-12)
    i = int(best[len(best) // 2])
    if i == 0:
        thr = ps[0]
    elif i == len(ps):
        thr = np.nextafter(ps[-1], np.inf)
    else:
        thr = (ps[i - 1] + ps[i]) / 2
    return float(thr), float(bal[i])


@fill_doc
class AutoAtomSetsClassifier(ClassifierMixin, AutoModelBase):
    """Classification that tries several AtomSets models and keeps what validates best.

    The search is :class:`~skatomsets.auto.AutoAtomSetsRegressor`'s, scored by ROC-AUC of
    the held-out probabilities. For two classes the decision threshold is then chosen on the
    same held-out rows to maximise balanced accuracy (MatBench's "ROC-AUC" of predicted
    labels, robust to unbalanced classes), as scikit-learn's ``TunedThresholdClassifierCV``
    does: :meth:`predict` returns the positive class where its probability reaches
    :attr:`threshold_`, not 0.5. :meth:`predict_proba` is unchanged by the threshold.

    Parameters
    ----------
    {search_parameters}
    threshold : "auto" or float, default="auto"
        Decision threshold on the probability of ``classes_[1]`` (two classes only);
        ``"auto"`` tunes it for balanced accuracy, a float fixes it (0.5: the usual rule).
    {run_parameters}

    Attributes
    ----------
    estimators_ : list of Pipeline
    chosen_ : list of str
    best_candidate_ : str
    candidates_ : list of str
    cv_results_ : dict of lists
        ``validation_score`` is the held-out ROC-AUC of the probabilities.
    ensemble_scores_ : dict of int -> float
    validation_score_ : float
    classes_ : ndarray
    threshold_ : float or None
        The decision threshold (None for more than two classes: the most probable class).
    threshold_balanced_accuracy_ : float
        Held-out balanced accuracy at :attr:`threshold_`.
    structures_ : bool
    n_validation_ : int
    """

    _parameter_constraints: dict = {
        **AutoModelBase._parameter_constraints,
        "threshold": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        *,
        candidates: str | list[str] = "auto",
        cv: str | int = "auto",
        validation_fraction: float = 0.2,
        max_ensemble: int = 3,
        allow_isolated: bool = True,
        threshold: str | float = "auto",
        model_params: dict[str, Any] | None = None,
        random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            candidates,
            cv,
            validation_fraction,
            max_ensemble,
            allow_isolated,
            model_params,
            random_state,
            verbose,
        )
        self.threshold = threshold

    def _is_classifier(self) -> bool:
        return True

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit and score the candidates, keep the best (or best few), tune the threshold.

        Parameters
        ----------
        X : sequence of materials, or DataFrame
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y has only one class ({self.classes_[0]!r}); need at least two")
        return self._fit(X, y, sample_weight)

    def _metric_name(self) -> str:
        return "ROC-AUC"

    def _score(self, y_true, proba, w) -> float:
        idx = np.searchsorted(self.classes_, y_true)
        present = np.unique(idx)
        if len(present) < 2:
            return float(np.average(proba.argmax(1) == idx, weights=w))
        if proba.shape[1] == 2:
            return float(roc_auc_score(idx, proba[:, 1], sample_weight=w))
        return float(roc_auc_score(idx, proba, multi_class="ovr", labels=np.arange(proba.shape[1])))

    def _member_values(self, est: Any, outs: np.ndarray) -> np.ndarray:
        e = np.exp(outs - outs.max(axis=-1, keepdims=True))  # softmax, as predict_proba
        return e / e.sum(axis=-1, keepdims=True)

    def _val_output(self, model: Any, X: Any) -> np.ndarray:
        return np.asarray(model.predict_proba(X), dtype=np.float64)

    def _choose_rule(self, y_true, proba, y_train) -> None:
        self.threshold_balanced_accuracy_ = float("nan")
        if len(self.classes_) != 2:
            self.threshold_ = None
            return
        positive = y_true == self.classes_[1]
        if self.threshold == "auto":
            self.threshold_, self.threshold_balanced_accuracy_ = balanced_threshold(
                positive, proba[:, 1]
            )
        else:
            self.threshold_ = float(self.threshold)
            pred = proba[:, 1] >= self.threshold_
            tpr = pred[positive].mean() if positive.any() else np.nan
            tnr = (~pred[~positive]).mean() if (~positive).any() else np.nan
            self.threshold_balanced_accuracy_ = float((tpr + tnr) / 2)

    def _rule_text(self) -> str:
        if self.threshold_ is None:
            return "; labels: the most probable class"
        return (
            f"; label {self.classes_[1]!r} where its probability >= {self.threshold_:.3g} "
            f"(held-out balanced accuracy {self.threshold_balanced_accuracy_:.3f})"
        )

    def predict_proba(self, X: Any, return_std: bool = False):
        """Mean class probabilities of the chosen models.

        Parameters
        ----------
        X : sequence of materials, or DataFrame
        return_std : bool, default=False
            Also return the standard deviation over every network of every chosen model.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        std : ndarray of shape (n_samples, n_classes)
            Only with ``return_std=True``.
        """
        check_is_fitted(self)
        if not return_std:
            return np.mean([m.predict_proba(X) for m in self.estimators_], axis=0)
        means, stds = zip(
            *(m.predict_proba(X, return_std=True) for m in self.estimators_), strict=True
        )
        mean, std = pooled(means, stds)
        return mean, std

    def predict(self, X: Any) -> np.ndarray:
        """Class labels: ``classes_[1]`` where its probability >= :attr:`threshold_`."""
        return self.predict_from_proba(self.predict_proba(X))

    def predict_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """The labels :meth:`predict` gives for these probabilities (the decision rule).

        Parameters
        ----------
        proba : ndarray of shape (n_samples, n_classes)
            As :meth:`predict_proba` returns them.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        proba = np.asarray(proba)
        if self.threshold_ is None:
            return self.classes_[proba.argmax(axis=1)]
        return self.classes_[(proba[:, 1] >= self.threshold_).astype(int)]
