"""The one place that imports scikit-learn's private helpers.

scikit-learn's declarative parameter validation (``_parameter_constraints`` checked by
``_fit_context``) is the convention every estimator and featurizer here follows, but its
building blocks live in private modules. Importing them here only (as imbalanced-learn does
in its ``utils/_sklearn_compat.py``) means a scikit-learn release that moves them breaks one
file, and the supported range (``scikit-learn>=1.6,<1.10`` in ``pyproject.toml``) is checked
in one test (``tests/test_dependencies.py``).
"""

from __future__ import annotations

from sklearn.base import _fit_context as fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.metaestimators import _BaseComposition as BaseComposition

__all__ = [
    "BaseComposition",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "fit_context",
]
