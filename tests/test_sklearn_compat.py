"""Every public estimator and transformer against scikit-learn's checks and our conventions.

The checks come from :mod:`skatomsets.estimator_checks`: scikit-learn's own checks for the
estimators that take numeric arrays, and the package's conventions for the featurizers and
the MEGNet estimators (which take materials, so scikit-learn skips them).
"""

from __future__ import annotations

import functools
import importlib.util

import pytest

import skatomsets
from skatomsets import ElementEmbeddingFeaturizer
from skatomsets.estimator_checks import (
    all_estimators,
    check_estimator,
    estimator_checks_generator,
    expected_failed_checks,
    parametrize_with_checks,
    tiny_instance,
)

ESTIMATORS = [tiny_instance(cls) for _, cls in all_estimators()] + [
    # a second element table (with NaN rows for elements it has no features for)
    tiny_instance(ElementEmbeddingFeaturizer, embedding="magpie"),
]


@parametrize_with_checks(ESTIMATORS)
def test_estimator_conventions(estimator, check):
    check(estimator)


def test_every_public_estimator_and_transformer_is_checked():
    names = {name for name, _ in all_estimators()}
    public = {
        n for n in skatomsets.__all__ if n.endswith(("Regressor", "Classifier", "Featurizer"))
    }
    assert public | {"SetStatsTransformer", "SetFeatureUnion"} == names
    assert {"CHGNetSiteFeaturizer", "MEGNetRegressor", "ParentStructureFeaturizer"} <= names


@pytest.mark.skipif(not importlib.util.find_spec("chgnet"), reason="chgnet is not installed")
def test_chgnet_featurizers_are_checked_not_skipped_when_chgnet_is_installed():
    est = tiny_instance(skatomsets.CHGNetSiteFeaturizer)
    pairs = list(estimator_checks_generator(est, mark="xfail"))
    assert len(pairs) >= 8
    # the checks themselves, not stand-ins that raise SkipTest
    assert all(isinstance(check, functools.partial) for _, check in pairs)


def test_check_estimator_runs_everything_and_skips_for_a_missing_dependency(monkeypatch):
    assert check_estimator(tiny_instance(ElementEmbeddingFeaturizer)) == []
    assert expected_failed_checks(tiny_instance(ElementEmbeddingFeaturizer)) == {}
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "chgnet" else real_find_spec(name, *a),
    )
    skipped = check_estimator(tiny_instance(skatomsets.CHGNetStructureFeaturizer))
    assert len(skipped) >= 8
    assert all("needs the optional 'chgnet' package" in s for s in skipped)
