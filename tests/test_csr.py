"""The CSR helpers every ragged container uses (skatomsets._csr)."""

from __future__ import annotations

import numpy as np
import pytest

from skatomsets import _csr


def test_offsets_from_counts_and_of_arrays():
    np.testing.assert_array_equal(_csr.offsets_from_counts([2, 0, 3]), [0, 2, 2, 5])
    assert _csr.offsets_from_counts([]).tolist() == [0]
    assert _csr.offsets_from_counts([1]).dtype == np.int64
    arrays = [np.ones((3, 2)), np.ones((1, 2))]
    np.testing.assert_array_equal(_csr.offsets_of(arrays), [0, 3, 4])
    assert _csr.offsets_of([]).tolist() == [0]


def test_gather_any_order_with_repeats_and_empty_groups():
    offsets = np.array([0, 2, 2, 5])  # groups: [0, 1], [], [2, 3, 4]
    rows, new = _csr.gather(offsets, np.array([2, 0, 1, 2]))
    assert rows.tolist() == [2, 3, 4, 0, 1, 2, 3, 4]
    assert new.tolist() == [0, 3, 5, 5, 8]
    rows, new = _csr.gather(offsets, np.zeros(0, dtype=np.int64))
    assert rows.tolist() == [] and new.tolist() == [0]


def test_ranges_are_concatenated_aranges():
    index, offsets = _csr.ranges(np.array([5, 0, 9]), np.array([2, 1, 0]))
    assert index.tolist() == [5, 6, 0] and offsets.tolist() == [0, 2, 3, 3]


def test_segment_ids_and_split():
    offsets = np.array([0, 1, 1, 4])
    assert _csr.segment_ids(offsets).tolist() == [0, 2, 2, 2]
    parts = _csr.split(np.arange(4) * 10, offsets)
    assert [p.tolist() for p in parts] == [[0], [], [10, 20, 30]]


def test_concat_offsets_shifts_each_part():
    joined, shifts = _csr.concat_offsets([np.array([0, 2, 3]), np.array([0]), np.array([0, 4])])
    assert joined.tolist() == [0, 2, 3, 7] and shifts.tolist() == [0, 3, 3]


@pytest.mark.parametrize("seed", range(5))
def test_gather_equals_a_python_loop(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, size=20)
    offsets = _csr.offsets_from_counts(counts)
    idx = rng.integers(0, 20, size=30)
    rows, new = _csr.gather(offsets, idx)
    expected = [r for i in idx for r in range(offsets[i], offsets[i + 1])]
    assert rows.tolist() == expected
    np.testing.assert_array_equal(np.diff(new), counts[idx])
