"""AutoAtomSetsRegressor: the ready model that chooses its own features and model."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import StrOptions, fit_context
from ._base import AutoModelBase, fill_doc, pooled

__all__ = ["AutoAtomSetsRegressor"]

#: The "auto" bounds lie this share of the training targets' span beyond them.
RANGE_MARGIN = 0.1


@fill_doc
class AutoAtomSetsRegressor(RegressorMixin, AutoModelBase):
    """Regression that tries several AtomSets models and keeps what validates best.

    Give it formulas (or Compositions) or crystal structures and targets; it fits each
    candidate ready model (:func:`~skatomsets.auto.default_candidates`: element features from
    every source, parent networks' site features, MLPs on set statistics), scores it by MAE
    on rows it did not train on (by default the rows its networks held out for early
    stopping, so the search costs one fit per candidate; see ``cv``), keeps the best or the
    mean of the best few when that scores better, and chooses the lower bound of the
    predictions on the same rows. ``make_model("auto")`` is this estimator.

    Parameters
    ----------
    {search_parameters}
    lower_bound : "auto", float or None, default="auto"
        Predictions below it are raised to it. ``"auto"``: 0 when every training target is
        >= 0 (band gaps, moduli, counts: raising a negative prediction to 0 can only bring
        it closer), else the lowest training target less 10 % of the targets' span.
    upper_bound : "auto", float or None, default="auto"
        Predictions above it are lowered to it. ``"auto"``: the highest training target
        plus 10 % of the span, so that a material far from the training data (an element
        no training material has) cannot be predicted at a value no training target is
        near. The ``"auto"`` bounds are kept only if the held-out MAE with them is not
        worse than without; None: no bound.
    {run_parameters}

    Attributes
    ----------
    estimators_ : list of Pipeline
        The chosen candidates, refitted on all rows; predictions are their mean.
    chosen_ : list of str
        Their names, best first.
    best_candidate_ : str
        The best single candidate on the held-out rows.
    candidates_ : list of str
        Every candidate tried.
    cv_results_ : dict of lists
        ``candidate``, ``validation_score`` (negative MAE), ``fit_time`` (s), ``error``
        (why a candidate was left out, else ``""``).
    ensemble_scores_ : dict of int -> float
        Negative held-out MAE of the mean of the best k candidates.
    validation_score_ : float
        Negative held-out MAE of what was chosen.
    lower_bound_, upper_bound_ : float or None
        The bounds applied to predictions (None: none).
    bounds_gain_ : float
        How much the bounds lowered the held-out MAE.
    structures_ : bool
        Whether the inputs were crystal structures.
    n_validation_ : int
        Number of held-out rows.

    Examples
    --------
    >>> from skatomsets.auto import AutoAtomSetsRegressor
    >>> X = ["Fe2O3", "NaCl", "MgO", "Al2O3", "SiO2", "TiO2", "ZnO", "CuO"]
    >>> y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    >>> model = AutoAtomSetsRegressor(
    ...     candidates=["atomsets-v0", "mlp-v0-stats"],
    ...     model_params={"max_epochs": 3},
    ...     random_state=0,
    ... ).fit(X, y)
    >>> model.predict(["FeO"]).shape
    (1,)
    """

    _parameter_constraints: dict = {
        **AutoModelBase._parameter_constraints,
        "lower_bound": [StrOptions({"auto"}), Real, None],
        "upper_bound": [StrOptions({"auto"}), Real, None],
    }

    def __init__(
        self,
        *,
        candidates: str | list[str] = "auto",
        cv: str | int = "auto",
        validation_fraction: float = 0.2,
        max_ensemble: int = 3,
        allow_isolated: bool = True,
        lower_bound: str | float | None = "auto",
        upper_bound: str | float | None = "auto",
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
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit and score the candidates, keep the best (or the mean of the best few).

        Parameters
        ----------
        X : sequence of materials, or DataFrame
            Formulas / Compositions / Structures (or structure files); a DataFrame's extra
            numeric columns are extra inputs of every candidate.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training loss and of the validation MAE.

        Returns
        -------
        self
        """
        y = np.asarray(y, dtype=np.float64)
        return self._fit(X, y, sample_weight)

    def _metric_name(self) -> str:
        return "MAE"

    def _display(self, score: float) -> float:
        return -score

    def _score(self, y_true, pred, w) -> float:
        return -float(np.average(np.abs(np.asarray(y_true) - pred), weights=w))

    def _member_values(self, est: Any, outs: np.ndarray) -> np.ndarray:
        return (outs * est.y_scale_ + est.y_mean_)[..., 0]

    def _val_output(self, model: Any, X: Any) -> np.ndarray:
        return np.asarray(model.predict(X), dtype=np.float64)

    def _choose_rule(self, y_true, pred, y_train) -> None:
        def mae(p: np.ndarray) -> float:
            return float(np.mean(np.abs(y_true - p)))

        lo, hi = float(np.min(y_train)), float(np.max(y_train))
        margin = RANGE_MARGIN * (hi - lo)
        self.lower_bound_ = self._bound_value(self.lower_bound, 0.0 if lo >= 0 else lo - margin)
        self.upper_bound_ = self._bound_value(self.upper_bound, hi + margin)
        before = mae(pred)
        after = mae(self._bound(pred))
        self.bounds_gain_ = before - after
        if after > before:  # "auto" bounds only where they do not hurt the held-out rows
            if self.lower_bound == "auto":
                self.lower_bound_ = None
            if self.upper_bound == "auto":
                self.upper_bound_ = None
            self.bounds_gain_ = before - mae(self._bound(pred))

    @staticmethod
    def _bound_value(param: Any, auto: float) -> float | None:
        if param is None:
            return None
        return auto if isinstance(param, str) else float(param)

    def _rule_text(self) -> str:
        if self.lower_bound_ is None and self.upper_bound_ is None:
            return "; predictions unbounded"
        lo = "" if self.lower_bound_ is None else f"{self.lower_bound_:.4g} <= "
        hi = "" if self.upper_bound_ is None else f" <= {self.upper_bound_:.4g}"
        return f"; {lo}predictions{hi} (held-out MAE -{self.bounds_gain_:.3g})"

    def predict(self, X: Any, return_std: bool = False):
        """Mean prediction of the chosen models, within :attr:`lower_bound_` and
        :attr:`upper_bound_`.

        Parameters
        ----------
        X : sequence of materials, or DataFrame
        return_std : bool, default=False
            Also return the standard deviation over every network of every chosen model
            (their ensembles pooled).

        Returns
        -------
        y : ndarray of shape (n_samples,)
        std : ndarray of shape (n_samples,)
            Only with ``return_std=True``.
        """
        check_is_fitted(self)
        if not return_std:
            pred = np.mean(
                [np.asarray(m.predict(X), dtype=np.float64) for m in self.estimators_], 0
            )
            return self._bound(pred)
        means, stds = zip(*(m.predict(X, return_std=True) for m in self.estimators_), strict=True)
        mean, std = pooled(means, stds)
        return self._bound(mean), std

    def _bound(self, pred: np.ndarray) -> np.ndarray:
        return np.clip(pred, self.lower_bound_, self.upper_bound_)
