"""Property-based fuzzing of the formula parser and the set container (hypothesis).

Settings: ``max_examples=200`` per property, no deadline (pymatgen's parser is slow on its
first call), derandomized so CI runs are reproducible.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymatgen.core import Element

from skatomsets import _csr
from skatomsets.exceptions import SkatomsetsInputError
from skatomsets.io.materials import parse_compositions
from skatomsets.sets import RaggedSets

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
SYMBOLS = [Element.from_Z(z).symbol for z in range(1, 95)]


@FUZZ
@given(st.text(max_size=20))
def test_any_string_parses_or_raises_a_typed_error(text):
    try:
        es = parse_compositions([text])
    except SkatomsetsInputError as exc:
        assert exc.row == 0
        return
    assert len(es) == 1
    assert np.isclose(es.fractions.sum(), 1.0)
    assert ((es.z >= 1) & (es.z <= 118)).all()


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(SYMBOLS),
        st.floats(min_value=1e-2, max_value=1e3, allow_nan=False),
        min_size=1,
        max_size=6,
    ),
    st.floats(min_value=1e-2, max_value=1e2),
)
def test_formula_fractions_are_scale_invariant(amounts, scale):
    formula = "".join(f"{el}{amt:.9f}" for el, amt in amounts.items())
    scaled = "".join(f"{el}{amt * scale:.9f}" for el, amt in amounts.items())
    a, b = parse_compositions([formula, scaled]).fractions.reshape(2, -1)
    np.testing.assert_allclose(a, b, rtol=1e-4)


@st.composite
def ragged(draw):
    lengths = draw(st.lists(st.integers(1, 5), min_size=1, max_size=12))
    d = draw(st.integers(1, 4))
    m = sum(lengths)
    values = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=m * d, max_size=m * d))
    weights = draw(st.lists(st.floats(1e-3, 10.0), min_size=m, max_size=m))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return RaggedSets(np.reshape(values, (m, d)), offsets, weights)


@FUZZ
@given(ragged(), st.data())
def test_indexing_equals_per_set_slicing(sets, data):
    idx = data.draw(st.lists(st.integers(0, len(sets) - 1), max_size=15))
    sub = sets[np.array(idx, dtype=np.int64)]
    assert len(sub) == len(idx)
    per_set = list(sets)
    for k, i in enumerate(idx):
        v, w = per_set[i]
        lo, hi = sub.offsets[k], sub.offsets[k + 1]
        np.testing.assert_array_equal(sub.values[lo:hi], v)
        np.testing.assert_array_equal(sub.weights[lo:hi], w)


@FUZZ
@given(ragged())
def test_weights_sum_to_one_and_batches_cover_every_member(sets):
    sums = np.add.reduceat(sets.weights.astype(np.float64), sets.offsets[:-1])
    np.testing.assert_allclose(sums, 1.0, rtol=1e-5)
    rows, offsets = _csr.gather(sets.offsets, np.arange(len(sets)))
    np.testing.assert_array_equal(rows, np.arange(sets.n_members))
    np.testing.assert_array_equal(offsets, sets.offsets)
    segment = sets.segment_ids
    assert segment.shape[0] == sets.n_members
    np.testing.assert_array_equal(np.bincount(segment, minlength=len(sets)), sets.lengths)
