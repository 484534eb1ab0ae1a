"""RaggedSets: the one set representation (indexing, validation, gathers)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import KFold, train_test_split
from sklearn.utils import _safe_indexing

from skatomsets.exceptions import InvalidSetError
from skatomsets.sets import RaggedSets, to_sets


@pytest.fixture
def sets() -> RaggedSets:
    values = np.arange(12, dtype=float).reshape(6, 2)
    return RaggedSets(values, offsets=[0, 1, 3, 6], weights=[1, 1, 3, 1, 1, 2])


def test_weights_are_normalised_per_set(sets):
    np.testing.assert_allclose(sets.weights, [1, 0.25, 0.75, 0.25, 0.25, 0.5])


def test_len_shape_lengths(sets):
    assert len(sets) == 3 and sets.shape == (3,) and sets.ndim == 1
    np.testing.assert_array_equal(sets.lengths, [1, 2, 3])
    np.testing.assert_array_equal(sets.segment_ids, [0, 1, 1, 2, 2, 2])


@pytest.mark.parametrize(
    "key, expected_first_rows",
    [
        ([2, 0], [[6, 7], [8, 9], [10, 11], [0, 1]]),
        (np.array([False, True, False]), [[2, 3], [4, 5]]),
        (slice(1, None), [[2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]),
        (-1, [[6, 7], [8, 9], [10, 11]]),
    ],
)
def test_indexing_gathers_whole_sets(sets, key, expected_first_rows):
    sub = sets[key]
    np.testing.assert_array_equal(sub.values, expected_first_rows)
    assert sub.offsets[-1] == len(sub.values)


def test_indexing_keeps_weights_with_their_members(sets):
    sub = sets[[1, 1]]
    np.testing.assert_allclose(sub.weights, [0.25, 0.75, 0.25, 0.75])
    np.testing.assert_array_equal(sub.offsets, [0, 2, 4])


def test_sklearn_safe_indexing_and_splitters(sets):
    sub = _safe_indexing(sets, np.array([2, 1]))
    assert isinstance(sub, RaggedSets) and sub.lengths.tolist() == [3, 2]
    a, b = train_test_split(sets, test_size=1, random_state=0)
    assert len(a) == 2 and len(b) == 1
    for train, test in KFold(3).split(sets):
        assert len(sets[train]) + len(sets[test]) == 3


def test_out_of_range_index_raises(sets):
    with pytest.raises(IndexError):
        sets[[3]]


def test_concat_roundtrip(sets):
    joined = RaggedSets.concat([sets[:1], sets[1:]])
    assert joined == sets


def test_gather_of_sets_keeps_order_and_segments(sets):
    sub = sets[[2, 0]]
    assert sub.values.shape == (4, 2)
    assert sub.segment_ids.tolist() == [0, 0, 0, 1]
    assert sub.offsets.tolist() == [0, 3, 4]
    np.testing.assert_array_equal(sub.values[3], sets.values[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"values": np.ones((2, 1)), "offsets": [0, 0, 2]}, "row 0: empty set"),
        ({"values": [[1.0], [np.nan]], "offsets": [0, 1, 2]}, "row 1: non-finite"),
        ({"values": np.ones((2, 1)), "offsets": [0, 1, 2], "weights": [1, -1]}, "row 1: negative"),
        (
            {"values": np.ones((2, 1)), "offsets": [0, 1, 2], "weights": [1, 0]},
            "row 1: weights sum",
        ),
        ({"values": np.ones((2, 1)), "offsets": [0, 1]}, "offsets end at 1"),
    ],
)
def test_invalid_sets_name_the_row(kwargs, match):
    with pytest.raises(InvalidSetError, match=match):
        RaggedSets(**kwargs)


def test_to_sets_reads_dense_rows_as_single_member_sets():
    s = to_sets(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert s.lengths.tolist() == [1, 1] and s.weights.tolist() == [1, 1]


def test_to_sets_rejects_formula_strings_with_a_hint():
    with pytest.raises(InvalidSetError, match="featurizer"):
        to_sets(["Fe2O3"])
