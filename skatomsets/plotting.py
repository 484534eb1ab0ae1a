"""Plots for fitted models, in scikit-learn's Display style.

Each Display is built with ``from_estimator`` (predicts or fits for you) or
``from_predictions`` / ``from_scores`` (numbers you already have), draws on the ``ax`` you
give (or on a new figure from ``matplotlib.pyplot``) and returns itself with ``figure_``
and ``ax_`` set, so that the figure can be shown, changed or saved as you like. No
backend is ever chosen for you.

================================  ============================================================
:class:`ParityDisplay`            predicted against true values, with the ensemble standard
                                  deviation (``predict(X, return_std=True)``) as error bars
:class:`LearningCurveDisplay`     test score against training-set size (mean and spread over
                                  repeats or CV folds), log-log for errors
:class:`ROCDisplay`               ROC curve of a classifier: scikit-learn's
                                  ``RocCurveDisplay``
================================  ============================================================

matplotlib is an optional dependency: ``pip install "skatomsets[plot]"``.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")  # only for this doctest: no window
>>> from skatomsets.plotting import ParityDisplay
>>> disp = ParityDisplay.from_predictions([1.0, 2.0, 3.0], [1.1, 1.9, 3.2], y_std=[0.1, 0.2, 0.1])
>>> round(disp.mae_, 3), disp.ax_.get_xlabel()
(0.133, 'true')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import RocCurveDisplay

from .uncertainty import final_estimator

__all__ = ["LearningCurveDisplay", "ParityDisplay", "ROCDisplay"]


def _require_matplotlib(what: str) -> None:
    """Raise a clear ImportError naming the ``plot`` extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{what} needs matplotlib, an optional dependency of skatomsets: "
            'pip install "skatomsets[plot]"'
        ) from exc


def _axes(ax: Any):
    """``(figure, ax)``: the given axes and its figure, or a new pyplot figure."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax.figure, ax


class ParityDisplay:
    """Parity plot: predicted against true values, with uncertainty as error bars.

    Build it with :meth:`from_estimator` or :meth:`from_predictions`; the constructor only
    stores numbers, :meth:`plot` draws.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    y_std : array-like of shape (n_samples,), optional
        Standard deviation of each prediction (e.g. the ensemble spread), drawn as error
        bars.
    name : str, optional
        Shown in the title with the MAE.

    Attributes
    ----------
    mae_ : float
        Mean absolute error of ``y_pred``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    points_ : matplotlib artist
        The ``errorbar`` container (with ``y_std``) or the scatter collection.
    line_ : matplotlib Line2D
        The ``y = x`` line.
    """

    def __init__(
        self, *, y_true: Any, y_pred: Any, y_std: Any = None, name: str | None = None
    ) -> None:
        self.y_true = y_true
        self.y_pred = y_pred
        self.y_std = y_std
        self.name = name

    def plot(
        self,
        ax: Any = None,
        *,
        name: str | None = None,
        scatter_kwargs: dict[str, Any] | None = None,
        line_kwargs: dict[str, Any] | None = None,
    ) -> ParityDisplay:
        """Draw the points, their error bars and the ``y = x`` line.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure (``matplotlib.pyplot.subplots``) if None.
        name : str, optional
            Overrides the ``name`` given at construction.
        scatter_kwargs : dict, optional
            Passed to ``ax.errorbar`` (with ``y_std``) or ``ax.scatter``.
        line_kwargs : dict, optional
            Passed to ``ax.plot`` for the ``y = x`` line.

        Returns
        -------
        ParityDisplay
            ``self``, with ``figure_``, ``ax_``, ``points_``, ``line_`` and ``mae_`` set.
        """
        _require_matplotlib("ParityDisplay")
        y = np.asarray(self.y_true, dtype=float).ravel()
        p = np.asarray(self.y_pred, dtype=float).ravel()
        if y.shape != p.shape:
            raise ValueError(f"y_true has {y.size} values but y_pred has {p.size}")
        std = None if self.y_std is None else np.asarray(self.y_std, dtype=float).ravel()
        if std is not None and std.shape != p.shape:
            raise ValueError(f"y_std has {std.size} values but y_pred has {p.size}")
        fig, ax = _axes(ax)
        self.mae_ = float(np.mean(np.abs(y - p))) if y.size else float("nan")
        finite = np.concatenate([y, p])
        finite = finite[np.isfinite(finite)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.line_ = ax.plot(
            [lo, hi], [lo, hi], **{"color": "0.6", "lw": 0.8, **(line_kwargs or {})}
        )[0]
        if std is not None:
            kw = {"fmt": "o", "ms": 2.5, "alpha": 0.5, "elinewidth": 0.6, "capsize": 0}
            self.points_ = ax.errorbar(y, p, yerr=std, **{**kw, **(scatter_kwargs or {})})
        else:
            kw = {"s": 6, "alpha": 0.5, "linewidths": 0}
            self.points_ = ax.scatter(y, p, **{**kw, **(scatter_kwargs or {})})
        name = self.name if name is None else name
        title = f"MAE {self.mae_:.3g}"
        ax.set_title(f"{name}\n{title}" if name else title)
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: Any,
        y_pred: Any,
        *,
        y_std: Any = None,
        name: str | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> ParityDisplay:
        """Parity plot of predictions you already have.

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,)
        y_std : array-like of shape (n_samples,), optional
            Error bars (e.g. the ensemble standard deviation).
        name : str, optional
        ax : matplotlib Axes, optional
        **kwargs
            Passed to :meth:`plot` (``scatter_kwargs``, ``line_kwargs``).

        Returns
        -------
        ParityDisplay
        """
        _require_matplotlib("ParityDisplay.from_predictions")
        disp = cls(y_true=y_true, y_pred=y_pred, y_std=y_std, name=name)
        return disp.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        return_std: bool = True,
        name: str | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> ParityDisplay:
        """Parity plot of a fitted regressor (or Pipeline) on ``X``.

        Parameters
        ----------
        estimator : fitted regressor or Pipeline
        X : materials or features accepted by ``estimator.predict``
        y : array-like of shape (n_samples,)
            True values.
        return_std : bool, default=True
            Draw the ensemble standard deviation (``predict(X, return_std=True)``, as the
            skatomsets regressors give with ``n_ensemble > 1``) as error bars; estimators
            whose ``predict`` has no ``return_std`` (or a single network) are drawn without.
        name : str, optional
            Default: the class name of the (final) estimator.
        ax : matplotlib Axes, optional
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        ParityDisplay
        """
        _require_matplotlib("ParityDisplay.from_estimator")
        std = None
        if return_std:
            try:
                pred, std = estimator.predict(X, return_std=True)
            except (TypeError, ValueError):  # no return_std, or a single network
                pred = estimator.predict(X)
        else:
            pred = estimator.predict(X)
        if name is None:
            name = type(final_estimator(estimator)).__name__
        return cls.from_predictions(y, pred, y_std=std, name=name, ax=ax, **kwargs)


class LearningCurveDisplay:
    """Test score against training-set size: mean line and spread over repeats.

    Build it with :meth:`from_estimator` (runs scikit-learn's
    :func:`~sklearn.model_selection.learning_curve`) or :meth:`from_scores` (scores you
    already have, e.g. the convergence protocol of
    :func:`skatomsets.benchmarks.protocols.run_protocols`). Several models go on one axes
    by calling ``from_*`` with the same ``ax`` and different ``name``.

    Parameters
    ----------
    train_sizes : array-like of shape (n_sizes,)
        Training-set sizes.
    test_scores : array-like of shape (n_sizes, n_repeats)
        One score per size and repeat (CV fold or random split); a 1-D array is one repeat.
    score_name : str, default="test MAE"
        Axis label.
    name : str, optional
        Legend label of the line.

    Attributes
    ----------
    ax_, figure_ : matplotlib Axes and Figure
    errorbar_ : matplotlib ErrorbarContainer
    """

    def __init__(
        self,
        *,
        train_sizes: Any,
        test_scores: Any,
        score_name: str = "test MAE",
        name: str | None = None,
    ) -> None:
        self.train_sizes = train_sizes
        self.test_scores = test_scores
        self.score_name = score_name
        self.name = name

    def plot(
        self,
        ax: Any = None,
        *,
        name: str | None = None,
        log_scale: bool | str = "auto",
        errorbar_kwargs: dict[str, Any] | None = None,
    ) -> LearningCurveDisplay:
        """Draw mean ± standard deviation of the scores against training-set size.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        name : str, optional
            Legend label (overrides the constructor's).
        log_scale : bool or "auto", default="auto"
            Log x axis always with "auto", log y axis too when every mean is positive
            (errors such as the MAE, as in the paper's convergence plots); True: both log;
            False: both linear.
        errorbar_kwargs : dict, optional
            Passed to ``ax.errorbar``.

        Returns
        -------
        LearningCurveDisplay
            ``self`` with ``figure_``, ``ax_`` and ``errorbar_``.
        """
        _require_matplotlib("LearningCurveDisplay")
        sizes = np.asarray(self.train_sizes, dtype=float).ravel()
        scores = np.asarray(self.test_scores, dtype=float)
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.ndim != 2 or len(scores) != len(sizes):
            raise ValueError(
                f"test_scores must have one row per training size ({len(sizes)}), got "
                f"shape {scores.shape}"
            )
        fig, ax = _axes(ax)
        mean, std = np.nanmean(scores, axis=1), np.nanstd(scores, axis=1)
        name = self.name if name is None else name
        kw = {"marker": "o", "ms": 3, "capsize": 2, "label": name}
        self.errorbar_ = ax.errorbar(sizes, mean, yerr=std, **{**kw, **(errorbar_kwargs or {})})
        if log_scale:
            from matplotlib.ticker import LogFormatter, NullFormatter, ScalarFormatter

            ax.set_xscale("log")
            ax.set_xticks(sizes)  # the sizes themselves, as plain numbers
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
            if log_scale is True or (mean > 0).all():
                ax.set_yscale("log")
                ax.yaxis.set_major_formatter(LogFormatter())
                ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
        ax.set_xlabel("training-set size")
        ax.set_ylabel(self.score_name)
        if name is not None:
            ax.legend()
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_scores(
        cls,
        train_sizes: Any,
        test_scores: Any,
        *,
        score_name: str = "test MAE",
        name: str | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> LearningCurveDisplay:
        """Learning curve of scores you already have.

        Parameters
        ----------
        train_sizes : array-like of shape (n_sizes,)
        test_scores : array-like of shape (n_sizes, n_repeats)
        score_name : str, default="test MAE"
        name : str, optional
        ax : matplotlib Axes, optional
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        LearningCurveDisplay
        """
        _require_matplotlib("LearningCurveDisplay.from_scores")
        disp = cls(
            train_sizes=train_sizes, test_scores=test_scores, score_name=score_name, name=name
        )
        return disp.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        train_sizes: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 1.0),
        cv: Any = 5,
        scoring: str | None = None,
        shuffle: bool = True,
        random_state: Any = 0,
        n_jobs: int | None = None,
        name: str | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> LearningCurveDisplay:
        """Fit clones of ``estimator`` on growing training sets and plot the test score.

        Runs :func:`sklearn.model_selection.learning_curve` (one fit per size and CV
        split). Errors are shown positive: with the default ``scoring`` (MAE for
        regressors, ROC-AUC for classifiers) the axis reads "test MAE" / "test ROC-AUC".

        Parameters
        ----------
        estimator : unfitted regressor, classifier or Pipeline
        X : materials or features
        y : array-like of shape (n_samples,)
        train_sizes : sequence of float or int, default=(0.1, 0.25, 0.5, 0.75, 1.0)
            Fractions of the training part of each split (floats in (0, 1]) or absolute
            sizes (ints).
        cv : int, cross-validation generator or iterable, default=5
        scoring : str, optional
            A scikit-learn scorer name; default ``"neg_mean_absolute_error"`` for
            regressors, ``"roc_auc"`` for classifiers. ``neg_*`` scores are negated back.
        shuffle : bool, default=True
            Shuffle the training rows before taking the first ``n`` of them.
        random_state : int, RandomState or None, default=0
            Seed of that shuffle.
        n_jobs : int, optional
            Parallel fits (joblib).
        name : str, optional
            Legend label; default the class name of the (final) estimator.
        ax : matplotlib Axes, optional
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        LearningCurveDisplay
        """
        from sklearn.base import is_classifier
        from sklearn.model_selection import learning_curve

        _require_matplotlib("LearningCurveDisplay.from_estimator")
        if scoring is None:
            scoring = "roc_auc" if is_classifier(estimator) else "neg_mean_absolute_error"
        sizes, _, test = learning_curve(
            estimator,
            X,
            y,
            train_sizes=np.asarray(train_sizes),
            cv=cv,
            scoring=scoring,
            shuffle=shuffle,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        label = scoring
        if scoring.startswith("neg_"):
            test, label = -test, scoring[4:]
        label = {"mean_absolute_error": "MAE", "roc_auc": "ROC-AUC"}.get(label, label)
        if name is None:
            name = type(final_estimator(estimator)).__name__
        return cls.from_scores(sizes, test, score_name=f"test {label}", name=name, ax=ax, **kwargs)


class ROCDisplay(RocCurveDisplay):
    """ROC curve of a classifier: scikit-learn's :class:`~sklearn.metrics.RocCurveDisplay`.

    Works unchanged with :class:`~skatomsets.AtomSetsClassifier` and its Pipelines
    (``from_estimator`` uses ``predict_proba``); ``from_predictions`` takes the labels and
    the positive-class probabilities (e.g. the benchmark's recorded test folds). Several
    models go on one axes through ``ax``. Only the message when matplotlib is missing is
    ours (it names the ``plot`` extra).
    """

    def plot(self, *args: Any, **kwargs: Any) -> ROCDisplay:
        """Draw the curve; see :meth:`sklearn.metrics.RocCurveDisplay.plot`."""
        _require_matplotlib("ROCDisplay")
        return super().plot(*args, **kwargs)

    @classmethod
    def from_estimator(cls, *args: Any, **kwargs: Any) -> ROCDisplay:
        """ROC curve of a fitted classifier; see ``RocCurveDisplay.from_estimator``."""
        _require_matplotlib("ROCDisplay.from_estimator")
        return super().from_estimator(*args, **kwargs)

    @classmethod
    def from_predictions(cls, *args: Any, **kwargs: Any) -> ROCDisplay:
        """ROC curve of labels and scores; see ``RocCurveDisplay.from_predictions``."""
        _require_matplotlib("ROCDisplay.from_predictions")
        return super().from_predictions(*args, **kwargs)
