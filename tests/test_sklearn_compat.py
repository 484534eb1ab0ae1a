"""scikit-learn's own estimator checks on every public estimator and transformer."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsMLPClassifier,
    AtomSetsMLPRegressor,
    AtomSetsRegressor,
    SetStatsTransformer,
)

_FAST = {
    "max_epochs": 60,
    "batch_size": 32,
    "lr": 0.01,
    "n_ensemble": 1,
    "device": "cpu",
    "random_state": 0,
}

# The networks compute in float32: the same sample can differ by ~1e-7 between two batch
# compositions (BLAS blocking), while these checks demand agreement to 1e-7 absolute.
_FLOAT32_BATCHING = (
    "float32 network outputs vary at the 1e-7 level with batch composition (BLAS blocking); "
    "batch independence is pinned at 1e-5 in tests/test_readout.py"
)
_NEURAL_XFAIL = {
    "check_methods_subset_invariance": _FLOAT32_BATCHING,
    "check_methods_sample_order_invariance": _FLOAT32_BATCHING,
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch training with a random validation split: repeated rows change the "
        "batches and the split, so weights equal repeats only in expectation; pinned in a "
        "deterministic full-batch setup in tests/test_sample_weight.py"
    ),
}


def _expected_failed_checks(estimator):
    return _NEURAL_XFAIL if hasattr(estimator, "n_ensemble") else {}


# Featurizers (ElementEmbeddingFeaturizer, MEGNet*Featurizer) take materials, not numeric
# matrices: scikit-learn skips every check for estimators whose input tag is "string", so
# their conventions are pinned in tests/test_featurizer_conventions.py instead.


@parametrize_with_checks(
    [
        AtomSetsRegressor(**_FAST),
        AtomSetsClassifier(**_FAST),
        AtomSetsMLPRegressor(**_FAST),
        AtomSetsMLPClassifier(**_FAST),
        SetStatsTransformer(),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
