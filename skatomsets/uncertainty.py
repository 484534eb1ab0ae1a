"""Uncertainty of fitted models, also through Pipelines: ensemble spread and domain score.

The neural estimators give

- ``predict(X, return_std=True)`` (regressors) and ``predict_proba(X, return_std=True)``
  (classifiers): mean and standard deviation over the ``n_ensemble`` members;
- ``domain_score(X)``, ``out_of_domain(X)`` and ``domain_threshold_``: how far each material
  is from the training data in the trained network's latent space (see
  :mod:`skatomsets.estimators._domain`).

A :class:`~sklearn.pipeline.Pipeline` forwards ``predict(X, return_std=True)`` and
``predict_proba(X, return_std=True)`` to its last step by itself; the functions here do the
same for the domain score (the steps before the model transform ``X`` first).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "domain_score",
    "domain_threshold",
    "final_estimator",
    "out_of_domain",
    "prediction_frame",
]


def final_estimator(model: Any) -> Any:
    """The last step of a Pipeline, or ``model`` itself (the package's one such helper)."""
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _split(model: Any) -> tuple[Any, Any]:
    """The fitted final estimator and a function transforming X up to it."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        head, last = model[:-1], model[-1]
        return last, (head.transform if len(head) else (lambda X: X))
    return model, (lambda X: X)


def _final(model: Any) -> Any:
    est, _ = _split(model)
    if not hasattr(est, "domain_score"):
        raise TypeError(
            f"{type(est).__name__} has no domain of applicability; use a skatomsets "
            "neural estimator (AtomSets*, AtomSetsMLP*, MEGNet*)"
        )
    return est


def domain_score(model: Any, X: Any) -> np.ndarray:
    """Domain score of each material (1 = a typical training material; larger = farther).

    Parameters
    ----------
    model : fitted skatomsets estimator, or a Pipeline ending in one
    X : materials (for a Pipeline) or featurized inputs (for an estimator)

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    est = _final(model)
    _, transform = _split(model)
    return est.domain_score(transform(X))


def domain_threshold(model: Any) -> float:
    """The fitted out-of-domain threshold of ``model`` (or of its last Pipeline step)."""
    return float(_final(model).domain_threshold_)


def out_of_domain(model: Any, X: Any) -> np.ndarray:
    """True where the :func:`domain_score` exceeds the model's :func:`domain_threshold`."""
    return domain_score(model, X) > domain_threshold(model)


def prediction_frame(model: Any, X: Any) -> Any:
    """Everything a fitted model says about the materials ``X``, one row per material.

    Columns: ``prediction``; ``std`` (the ensemble standard deviation, when the model has
    ``n_ensemble >= 2``); for classifiers ``p_<class>`` (and ``p_<class>_std`` where the
    classifier gives it); ``domain_score`` and ``out_of_domain`` for models with a fitted
    domain of applicability. Multi-output regressors give ``prediction_<j>`` / ``std_<j>``.
    ``X`` goes through the Pipeline's steps once.

    Returns
    -------
    DataFrame
    """
    import pandas as pd

    final, transform = _split(model)
    X = transform(X)
    out = pd.DataFrame(index=range(len(X)))
    if hasattr(final, "predict_proba"):
        proba_std = None
        try:
            proba, proba_std = final.predict_proba(X, return_std=True)
        except (TypeError, ValueError):  # no return_std, or a single network
            proba = final.predict_proba(X)
        classes = final.classes_
        # the model's own decision rule (the auto classifier's tuned threshold), else argmax:
        # from the probabilities already computed, not a second pass through the networks
        decide = getattr(final, "predict_from_proba", None)
        labels = decide(proba) if decide else classes[np.asarray(proba).argmax(axis=1)]
        out["prediction"] = np.asarray(labels)
        for j, c in enumerate(classes):
            out[f"p_{c}"] = proba[:, j]
            if proba_std is not None:
                out[f"p_{c}_std"] = proba_std[:, j]
    else:
        if len(getattr(final, "nets_", ())) == 1:  # one network: no spread to give
            pred, std = final.predict(X), None
        else:
            try:
                pred, std = final.predict(X, return_std=True)
            except (TypeError, ValueError):  # an estimator without return_std
                pred, std = final.predict(X), None
        if np.ndim(pred) == 2:
            for j in range(pred.shape[1]):
                out[f"prediction_{j}"] = pred[:, j]
                if std is not None:
                    out[f"std_{j}"] = std[:, j]
            return out
        out["prediction"] = pred
        if std is not None:
            out["std"] = std
    if hasattr(final, "domain_threshold_"):
        score = final.domain_score(X)
        out["domain_score"] = score
        out["out_of_domain"] = score > final.domain_threshold_
    return out
