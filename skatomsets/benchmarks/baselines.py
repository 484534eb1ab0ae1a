"""The benchmark's models: the dummy baseline and the named models with their parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.dummy import DummyClassifier, DummyRegressor

from ..datasets import is_classification
from ..uncertainty import final_estimator
from .records import jsonable

__all__ = [
    "DummyModel",
    "final_estimator",
    "make_benchmark_model",
    "resolved_training_params",
    "same_defaults",
]

#: Resolved values that depend on the machine, not on the defaults.
MACHINE_PARAMS = ("n_threads",)


class DummyModel(BaseEstimator):
    """A baseline in the same protocol: mean target (regression) or class prior.

    Wraps :class:`~sklearn.dummy.DummyRegressor` (``strategy="mean"``) or
    :class:`~sklearn.dummy.DummyClassifier` (``strategy="prior"``); the inputs (formulas,
    Compositions, anything with a length) are ignored.

    Parameters
    ----------
    classification : bool, default=False

    Examples
    --------
    >>> DummyModel().fit(["NaCl", "MgO"], [1.0, 3.0]).predict(["Fe2O3"])
    array([2.])
    """

    def __init__(self, classification: bool = False) -> None:
        self.classification = classification

    def fit(self, X: Any, y: Any) -> DummyModel:
        """Fit the dummy on the targets only.

        Parameters
        ----------
        X : sequence
            Ignored, apart from its length.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        if self.classification:
            self.model_: Any = DummyClassifier(strategy="prior")
        else:
            self.model_ = DummyRegressor(strategy="mean")
        self.model_.fit(np.zeros((len(X), 1)), np.asarray(y))
        if self.classification:
            self.classes_ = self.model_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Constant predictions, one per row of ``X``."""
        return self.model_.predict(np.zeros((len(X), 1)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The class prior for every row (classification only)."""
        return self.model_.predict_proba(np.zeros((len(X), 1)))

    def __sklearn_tags__(self):
        mixin = ClassifierMixin if self.classification else RegressorMixin
        tags = super().__sklearn_tags__()
        tags.estimator_type = mixin().__sklearn_tags__().estimator_type
        return tags


def make_benchmark_model(name: str, task: str, params: dict[str, Any]) -> Any:
    """An unfitted estimator for ``name`` on ``task`` (``"dummy"`` or a model name).

    Parameters
    ----------
    name : str
    task : str
    params : dict
        Parameters of the final estimator
        (from :func:`~skatomsets.benchmarks.config.resolve_params`).

    Returns
    -------
    estimator
    """
    classification = is_classification(task)
    if name == "dummy":
        return DummyModel(classification=classification)
    from ..models import make_model

    return make_model(name, classification=classification, **params)


def resolved_training_params(model: Any, n_train: int) -> dict[str, Any] | None:
    """The training parameters ``model`` resolves its ``"auto"`` values to on ``n_train`` rows.

    The same pure function of the estimator's parameters and the number of rows that
    ``fit`` applies (:func:`skatomsets.estimators._auto.resolve_training_params`); None for
    models without them (``"dummy"``).
    """
    from ..estimators._auto import resolve_training_params

    final = final_estimator(model)
    if not hasattr(final, "n_ensemble"):
        return None
    return resolve_training_params(final, int(n_train))


def same_defaults(
    record: dict[str, Any],
    model: Any,
    *,
    before_auto: dict[str, Any] | None = None,
    unrecorded: Callable[[Any, dict[str, Any]], dict[str, Any] | None] | None = None,
) -> bool:
    """Whether ``record`` was trained with what ``model``'s defaults resolve to today.

    A record's parameters can be unchanged while the size rules behind ``"auto"`` have
    changed; such a record is not what the defaults give any more. The record's
    ``"resolved"`` budget is compared with :func:`resolved_training_params` for its
    ``"n_train"``, every value except the machine's thread count (:data:`MACHINE_PARAMS`).

    Parameters
    ----------
    record : dict
        A fold record with ``"n_train"`` and, normally, ``"resolved"``.
    model : estimator or Pipeline
        The unfitted model the record stands for.
    before_auto : dict, optional
        Parameters that became ``"auto"`` after records were first written, with the
        fixed value they had before: a recorded budget without the key had that value.
    unrecorded : callable, optional
        ``unrecorded(model, record)``: the budget that a record without ``"resolved"`` was
        made with, or None when unknown. Without it such a record is stale for a model
        with a budget.

    Returns
    -------
    bool

    Examples
    --------
    >>> from skatomsets import AtomSetsRegressor
    >>> est = AtomSetsRegressor(random_state=0)
    >>> today = resolved_training_params(est, 900)
    >>> same_defaults({"n_train": 900, "resolved": today}, est)
    True
    >>> same_defaults({"n_train": 900, "resolved": {**today, "n_ensemble": 1}}, est)
    False
    >>> same_defaults({"n_train": 900}, est)  # the budget is unknown
    False
    >>> same_defaults({"resolved": today}, est)  # the number of rows is unknown
    False
    """
    n_train = record.get("n_train")
    if not isinstance(n_train, int) or isinstance(n_train, bool):
        return resolved_training_params(model, 1) is None  # rows unknown: stale if budgeted
    expected = resolved_training_params(model, n_train)
    if expected is None:
        return True
    recorded = record.get("resolved")
    if not isinstance(recorded, dict):
        recorded = unrecorded(model, record) if unrecorded else None
        if recorded is None:
            return False
    recorded = jsonable({**(before_auto or {}), **recorded})
    return all(
        name in MACHINE_PARAMS or (name in recorded and recorded[name] == jsonable(value))
        for name, value in expected.items()
    )
