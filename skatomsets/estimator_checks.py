"""Checks that every public skatomsets estimator and transformer follows the conventions.

The counterpart of :mod:`sklearn.utils.estimator_checks` (and of imbalanced-learn's
``imblearn.utils.estimator_checks``) for this package. For each estimator,
:func:`estimator_checks_generator` yields

* scikit-learn's own checks, for the estimators that take a numeric 2-D array (the set and
  MLP models, :class:`~skatomsets.SetStatsTransformer`), with an expected-failure mark only
  where a check cannot apply (:func:`expected_failed_checks` says why);
* the package's conventions for what scikit-learn cannot test, because the input is
  materials (formulas, Structures) rather than a numeric array: the featurizers and the
  MEGNet estimators. ``__init__`` only stores parameters; ``fit`` returns ``self``;
  unfitted use raises ``NotFittedError``; the input is never mutated; ``transform`` is
  deterministic, equals ``fit_transform``, survives pickling, agrees across ``n_jobs`` and
  handles an empty input; ``get_feature_names_out`` names every output column; bad
  parameters raise ``InvalidParameterError`` in ``fit``, never in ``__init__``;
* for the neural estimators, keyword-only ``__init__`` parameters that are all declared in
  ``_parameter_constraints``.

Use :func:`parametrize_with_checks` in a test module::

    from skatomsets.estimator_checks import all_estimators, parametrize_with_checks, tiny_instance

    @parametrize_with_checks([tiny_instance(cls) for _, cls in all_estimators()])
    def test_conventions(estimator, check):
        check(estimator)

or :func:`check_estimator` to run every check on one estimator (the first failure raises).
"""

from __future__ import annotations

import copy
import inspect
import pickle
from collections.abc import Callable, Iterator
from functools import partial, wraps
from typing import Any
from unittest import SkipTest

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as _sk_checks

from ._sklearn_compat import InvalidParameterError

__all__ = [
    "all_estimators",
    "check_estimator",
    "estimator_checks_generator",
    "expected_failed_checks",
    "parametrize_with_checks",
    "tiny_instance",
]

#: Fast training budgets for the checks; scikit-learn's checks need the set and MLP models
#: to learn its toy problems (60 epochs at lr=0.01 do, in about a second).
_NEURAL_TINY = {
    "max_epochs": 60,
    "batch_size": 32,
    "lr": 0.01,
    "n_ensemble": 1,
    "device": "cpu",
    "random_state": 0,
}
#: A MEGNet of two blocks of width 16 (an epoch on a few structures takes milliseconds).
_MEGNET_TINY = {
    "n_blocks": 2,
    "embedding_dim": 8,
    "encoder_units": (16, 16),
    "block_units": (16, 16),
    "set2set_hidden": 8,
    "head_units": (16,),
    "max_epochs": 3,
    "batch_size": 4,
    "n_ensemble": 1,
    "device": "cpu",
    "random_state": 0,
}

# ----------------------------------------------------------------------- expected failures
_WEIGHTS_VS_REPEATS = (
    "mini-batch training with a random validation split: repeated rows change the batches "
    "and the split, so weights equal repeats only in expectation; pinned in a deterministic "
    "full-batch setup in tests/test_sample_weight.py"
)


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """Checks that cannot apply to ``estimator``, with the reason (check name -> reason).

    Only scikit-learn checks are listed, and only for the neural estimators: weights equal
    repeated rows only in expectation for stochastic mini-batch training. (Predictions are
    computed in float64 on the CPU, so ``check_methods_subset_invariance`` applies and runs.)
    """
    from .estimators._base import NeuralEstimatorBase

    if not isinstance(estimator, NeuralEstimatorBase):
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": _WEIGHTS_VS_REPEATS}


# ----------------------------------------------------------------------- which estimators
def all_estimators() -> list[tuple[str, type]]:
    """Every public estimator and transformer of :mod:`skatomsets`, as ``(name, class)``.

    Read from ``skatomsets.__all__``, sorted by name: a new public estimator is checked
    without being listed anywhere else.
    """
    import skatomsets

    out = []
    for name in sorted(skatomsets.__all__):
        obj = getattr(skatomsets, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            out.append((name, obj))
    return out


def tiny_instance(cls: type, **params: Any) -> BaseEstimator:
    """An instance of ``cls`` with fast parameters for the checks (``params`` override them).

    Neural estimators train briefly on one CPU thread; the featurizers use no feature cache
    (so that every ``transform`` computes).
    """
    from .auto._base import AutoModelBase
    from .estimators._base import NeuralEstimatorBase
    from .estimators._megnet_base import MEGNetBase
    from .featurizers import ElementEmbeddingFeaturizer, SetFeatureUnion

    names = set(inspect.signature(cls.__init__).parameters)
    base: dict[str, Any] = {}
    if issubclass(cls, AutoModelBase):
        # two candidates, trained briefly: the search, the choice and the refit all run
        tiny = {k: v for k, v in _NEURAL_TINY.items() if k != "random_state"}
        base = {
            "candidates": ["atomsets-v0", "mlp-v0-stats"],
            "model_params": tiny,
            "random_state": 0,
        }
    elif issubclass(cls, SetFeatureUnion):
        base = {
            "featurizer_list": [
                ("megnet16", ElementEmbeddingFeaturizer("megnet16")),
                ("magpie", ElementEmbeddingFeaturizer("magpie")),
            ]
        }
    elif issubclass(cls, MEGNetBase):
        base = dict(_MEGNET_TINY)
    elif issubclass(cls, NeuralEstimatorBase):
        base = dict(_NEURAL_TINY)
    elif "cache" in names:
        base = {"cache": False}
    return cls(**{**base, **params})


def _material_input(estimator: Any) -> bool:
    """Estimators whose input is materials (formulas, Structures), not a numeric array."""
    from sklearn.utils import get_tags

    return not get_tags(estimator).input_tags.two_d_array


def _missing_dependency(estimator: Any) -> str | None:
    """The optional package ``estimator`` needs and that is not installed, if any."""
    from .parents import Parent, available_parents, missing_dependency, parent_info

    parent = getattr(estimator, "parent", None)
    if parent is None:
        parent = getattr(type(estimator), "_default_parent", None)
    if isinstance(parent, Parent) or not isinstance(parent, str):
        return None
    if parent in available_parents():
        try:
            parent_info(parent)
        except ValueError:  # registered without a ParentInfo: nothing known
            return None
        return missing_dependency(parent)
    return None


def _materials(estimator: Any) -> list[Any]:
    """A few small materials the estimator accepts: formulas or Structures."""
    from .featurizers import ElementEmbeddingFeaturizer

    if isinstance(estimator, ElementEmbeddingFeaturizer):
        return ["NaCl", "Fe2O3", "LiCoO2", "Al2O3", "MgO", "SiO2"]
    from pymatgen.core import Lattice, Structure

    out = []
    for i, a in enumerate(np.linspace(4.0, 4.7, 8)):
        species = ["Cs", "Cl"] if i % 2 else ["Na", "Cl"]
        out.append(Structure(Lattice.cubic(a), species, [[0, 0, 0], [0.5, 0.5, 0.5]]))
    return out


def _targets(estimator: Any, materials: list[Any]) -> np.ndarray | None:
    """Targets for the predictors (alternating classes, or the structures' volumes)."""
    if not hasattr(estimator, "predict"):
        return None
    if is_classifier(estimator):
        return np.arange(len(materials)) % 2
    return np.array([s.volume for s in materials])


# ----------------------------------------------------------------------- the generator
def estimator_checks_generator(
    estimator: BaseEstimator, *, mark: str | None = None
) -> Iterator[tuple[BaseEstimator, Callable[[BaseEstimator], Any]]]:
    """Yield ``(estimator, check)`` pairs: scikit-learn's checks, then the package's.

    Parameters
    ----------
    estimator : estimator instance
    mark : {"xfail", "skip"} or None, default=None
        How to mark the checks of :func:`expected_failed_checks`: "xfail" wraps the pair in
        ``pytest.param(..., marks=pytest.mark.xfail(reason))`` (needs pytest), "skip"
        replaces the check by one that raises ``unittest.SkipTest`` with the reason, None
        yields them unmarked. When an optional dependency of the estimator (the package of
        its parent, e.g. ``chgnet``, ``sevenn``: from the parent registry) is missing, every
        check raises ``SkipTest`` saying which (none is yielded with None).

    Yields
    ------
    estimator : estimator instance
    check : callable
        ``check(estimator)`` raises on failure.
    """
    missing = _missing_dependency(estimator)
    if missing is not None:
        if mark is not None:
            reason = f"{type(estimator).__name__} needs the optional {missing!r} package"
            for est, check in _yield_all_checks(estimator):
                yield est, _skipping(check, reason)
        return
    if not _material_input(estimator):
        yield from _sk_checks.estimator_checks_generator(
            estimator,
            legacy=True,
            expected_failed_checks=expected_failed_checks(estimator),
            mark=mark,
        )
    for check in _yield_own_checks(estimator):
        yield estimator, check


def _skipping(check: Callable[[Any], Any], reason: str) -> Callable[[Any], Any]:
    """``check`` replaced by a function of the same name that raises ``SkipTest``."""

    @wraps(check.func if isinstance(check, partial) else check)
    def skipped(*args: Any, **kwargs: Any) -> None:
        raise SkipTest(reason)

    return skipped


def _yield_all_checks(estimator: Any) -> Iterator[tuple[Any, Callable[[Any], Any]]]:
    """Every ``(estimator, check)`` pair, unmarked: scikit-learn's, then ours."""
    if not _material_input(estimator):
        yield from _sk_checks.estimator_checks_generator(estimator, legacy=True)
    for check in _yield_own_checks(estimator):
        yield estimator, check


def _yield_own_checks(estimator: Any) -> Iterator[Callable[[Any], Any]]:
    from .estimators._base import NeuralEstimatorBase

    name = type(estimator).__name__
    checks: list[Callable[..., Any]] = [check_init_stores_params]
    if isinstance(estimator, NeuralEstimatorBase):
        checks.append(check_keyword_only_init)
    elif hasattr(estimator, "transform"):
        checks.append(check_transformer_init)
    if _material_input(estimator):
        checks += [check_unfitted_raises, check_fit_returns_self, check_input_not_mutated]
        if hasattr(estimator, "transform"):
            checks += [
                check_get_feature_names_out,
                check_transform_deterministic_and_picklable,
                check_fit_transform_equals_fit_then_transform,
                check_empty_input,
            ]
            if "n_jobs" in estimator.get_params():
                checks.append(check_n_jobs_gives_the_same_result)
        if hasattr(estimator, "predict"):
            checks += [check_predict_reproducible_and_picklable]
        if getattr(estimator, "_parameter_constraints", None):
            checks.append(check_param_validation_in_fit)
    for check in checks:
        yield partial(check, name)


def parametrize_with_checks(estimators: list[BaseEstimator]) -> Any:
    """Pytest decorator running every check on every estimator (one test per pair).

    Checks listed by :func:`expected_failed_checks` are marked xfail (non-strict), with
    their reason; the checks of an estimator whose optional dependency (its parent's
    package) is not installed are skipped, saying which package is missing.

    Parameters
    ----------
    estimators : list of estimator instances

    Returns
    -------
    decorator
        ``pytest.mark.parametrize("estimator, check", ...)``.
    """
    import pytest

    pairs = [p for est in estimators for p in estimator_checks_generator(est, mark="xfail")]
    return pytest.mark.parametrize(
        "estimator, check", pairs, ids=_sk_checks._get_check_estimator_ids
    )


def check_estimator(estimator: BaseEstimator) -> list[str]:
    """Run every check on ``estimator``; the first failure raises.

    The checks of :func:`expected_failed_checks` are skipped (and all of them when an
    optional dependency is missing).

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    list of str
        The skipped checks, each with the reason.
    """
    skipped = []
    for est, check in estimator_checks_generator(estimator, mark="skip"):
        try:
            check(est)
        except SkipTest as exc:
            skipped.append(f"{_sk_checks._get_check_estimator_ids(check)}: {exc}")
    return skipped


# ----------------------------------------------------------------------- the checks
def check_init_stores_params(name: str, estimator_orig: Any) -> None:
    """``__init__`` stores each parameter as given and nothing else; ``clone`` agrees."""
    est = clone(estimator_orig)
    params = [p for p in inspect.signature(type(est).__init__).parameters if p != "self"]
    assert set(vars(estimator_orig)) >= set(params), f"{name}: a parameter is not stored"
    fresh = type(est)(**est.get_params(deep=False))
    assert set(vars(fresh)) == set(params), (
        f"{name}.__init__ sets attributes that are not parameters: "
        f"{sorted(set(vars(fresh)) - set(params))}"
    )
    for p in params:
        assert getattr(fresh, p) is est.get_params(deep=False)[p], f"{name}.{p} was changed"


def _check_init(name: str, estimator_orig: Any, max_positional: int) -> None:
    """At most ``max_positional`` parameters are positional; ``_parameter_constraints``
    names exactly the ``__init__`` parameters."""
    sig = inspect.signature(type(estimator_orig).__init__)
    positional = [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    assert len(positional) <= max_positional, f"{name}.__init__ takes {positional} positionally"
    params = set(sig.parameters) - {"self"}
    declared = set(getattr(estimator_orig, "_parameter_constraints", {}))
    assert params == declared, (
        f"{name}: parameters without constraints {sorted(params - declared)}, "
        f"constraints without parameters {sorted(declared - params)}"
    )


def check_keyword_only_init(name: str, estimator_orig: Any) -> None:
    """Every parameter of a neural estimator is keyword-only and has declared constraints."""
    _check_init(name, estimator_orig, 0)


def check_transformer_init(name: str, estimator_orig: Any) -> None:
    """A transformer takes at most its main parameter positionally; all are constrained.

    ``ElementEmbeddingFeaturizer("megnet16")``, ``MEGNetSiteFeaturizer(1)``: the first
    parameter may be positional (matminer's style), every other one is keyword-only, and
    ``_parameter_constraints`` names exactly the ``__init__`` parameters.
    """
    _check_init(name, estimator_orig, 1)


def check_unfitted_raises(name: str, estimator_orig: Any) -> None:
    """``transform`` / ``predict`` before ``fit`` raise ``NotFittedError``."""
    est = clone(estimator_orig)
    X = _materials(est)
    for method in ("transform", "predict", "predict_proba"):
        if hasattr(est, method):
            try:
                getattr(est, method)(X)
            except NotFittedError:
                continue
            raise AssertionError(f"{name}.{method} before fit did not raise NotFittedError")


def check_fit_returns_self(name: str, estimator_orig: Any) -> None:
    """``fit`` returns the estimator itself and sets fitted attributes (``*_``)."""
    est = clone(estimator_orig)
    X = _materials(est)
    assert est.fit(X, _targets(est, X)) is est, f"{name}.fit does not return self"
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert fitted, f"{name}.fit set no fitted attribute"


def check_input_not_mutated(name: str, estimator_orig: Any) -> None:
    """Neither ``fit`` nor ``transform`` / ``predict`` changes the materials passed in."""
    est = clone(estimator_orig)
    X = _materials(est)
    before = [_snapshot(x) for x in X]
    est.fit(X, _targets(est, X))
    for method in ("transform", "predict"):
        if hasattr(est, method):
            getattr(est, method)(X)
    after = [_snapshot(x) for x in X]
    assert before == after, f"{name} mutated its input"


def _snapshot(x: Any) -> Any:
    return x.as_dict() if hasattr(x, "as_dict") else copy.deepcopy(x)


def _output_width(out: Any) -> int:
    return out.n_features if hasattr(out, "n_features") else np.asarray(out).shape[1]


def _assert_same_output(a: Any, b: Any, msg: str) -> None:
    if hasattr(a, "offsets"):  # RaggedSets
        assert a == b, msg
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=msg)


def check_get_feature_names_out(name: str, estimator_orig: Any) -> None:
    """One unique string name per output column, and ``n_features_out_`` agrees."""
    est = clone(estimator_orig)
    X = _materials(est)
    out = est.fit(X).transform(X)
    names = est.get_feature_names_out()
    assert len(names) == _output_width(out) == est.n_features_out_, name
    assert all(isinstance(n, str) for n in names), f"{name}: non-string feature names"
    assert len(set(names)) == len(names), f"{name}: duplicate feature names"


def check_transform_deterministic_and_picklable(name: str, estimator_orig: Any) -> None:
    """Two ``transform`` calls agree, and so does the estimator after a pickle round trip."""
    est = clone(estimator_orig).fit()
    X = _materials(est)
    a = est.transform(X)
    _assert_same_output(a, est.transform(X), f"{name}.transform is not deterministic")
    b = pickle.loads(pickle.dumps(est)).transform(X)
    _assert_same_output(a, b, f"{name} transforms differently after pickling")


def check_fit_transform_equals_fit_then_transform(name: str, estimator_orig: Any) -> None:
    """``fit_transform(X)`` equals ``fit(X).transform(X)``."""
    X = _materials(estimator_orig)
    a = clone(estimator_orig).fit_transform(X)
    b = clone(estimator_orig).fit(X).transform(X)
    _assert_same_output(a, b, f"{name}: fit_transform differs from fit + transform")
    assert len(a) == len(X), f"{name}: {len(a)} rows for {len(X)} materials"


def check_empty_input(name: str, estimator_orig: Any) -> None:
    """An empty input gives an empty output of the usual width."""
    est = clone(estimator_orig)
    X = _materials(est)
    full = est.fit(X).transform(X)
    empty = est.transform([])
    assert len(empty) == 0, f"{name}: {len(empty)} rows for no material"
    assert _output_width(empty) == _output_width(full), f"{name}: empty output changes width"


def check_n_jobs_gives_the_same_result(name: str, estimator_orig: Any) -> None:
    """``n_jobs=2`` over several chunks gives what one job gives, in the same order.

    Both runs cut the input into the same chunks (the networks compute a chunk as one
    float32 batch, so another chunking may differ at 1e-7). Runs joblib's threading backend
    (the chunking and reassembly are the same as with processes; process start-up would
    dominate the check's time); pickling, which the process backend relies on, is checked
    by :func:`check_transform_deterministic_and_picklable`.
    """
    from joblib import parallel_config

    X = _materials(estimator_orig)
    one = clone(estimator_orig).set_params(n_jobs=None, chunk_size=2).fit(X).transform(X)
    with parallel_config(backend="threading"):
        two = clone(estimator_orig).set_params(n_jobs=2, chunk_size=2).fit(X).transform(X)
    _assert_same_output(one, two, f"{name}: n_jobs=2 gives another result")


def check_predict_reproducible_and_picklable(name: str, estimator_orig: Any) -> None:
    """Two fits with the same ``random_state`` predict alike; pickling keeps predictions."""
    X = _materials(estimator_orig)
    y = _targets(estimator_orig, X)
    a = clone(estimator_orig).fit(X, y)
    pred = a.predict(X)
    assert len(pred) == len(X), f"{name}: {len(pred)} predictions for {len(X)} materials"
    if not is_classifier(a):
        assert np.isfinite(pred).all(), f"{name}: non-finite predictions"
    np.testing.assert_array_equal(pred, clone(estimator_orig).fit(X, y).predict(X))
    np.testing.assert_array_equal(pred, pickle.loads(pickle.dumps(a)).predict(X))


class _BadType:
    """A value no parameter accepts."""


def check_param_validation_in_fit(name: str, estimator_orig: Any) -> None:
    """A parameter of a type it does not accept raises ``InvalidParameterError`` in ``fit``.

    scikit-learn's ``check_param_validation`` does this for numeric inputs; this is the
    same for estimators that take materials. ``__init__`` and ``set_params`` accept
    anything.
    """
    X = _materials(estimator_orig)
    y = _targets(estimator_orig, X)
    for param in estimator_orig._parameter_constraints:
        est = clone(estimator_orig).set_params(**{param: _BadType()})
        try:
            est.fit(X, y)
        except InvalidParameterError as exc:
            assert f"'{param}' parameter of {name} must be" in str(exc), str(exc)
            continue
        raise AssertionError(f"{name}.fit accepted {param}=<bad type>")
