"""The ragged-set representation that travels between featurizers and estimators.

A material is a *set* of atoms (or elements, or sites). Each member has a feature row and a
weight (its fraction in a formula, or its site occupancy). :class:`RaggedSets` stores many
such sets in three flat arrays, CSR style::

    values   (n_members, n_features)   feature rows of all members, set after set
    weights  (n_members,)              weight of each member (normalised to sum 1 per set)
    offsets  (n_sets + 1,)             members of set i are rows offsets[i]:offsets[i+1]

It behaves like a 1-D array of sets for scikit-learn: ``len``, ``shape``, integer / slice /
boolean-mask / index-array indexing all return a new :class:`RaggedSets`, so
``cross_val_score``, ``GridSearchCV`` and ``train_test_split`` work on it without padding to
dense arrays. All indexing is vectorised (no Python loop per set; the CSR helpers of
:mod:`skatomsets._csr`). The estimators turn the sets of a mini-batch into torch tensors
themselves (``estimators._data.SetBatch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _csr
from .exceptions import InvalidSetError

__all__ = ["InvalidSetError", "RaggedSets", "sets_from_column"]


class RaggedSets:
    """A batch of weighted feature sets of different sizes.

    The one ragged *set* container that crosses module boundaries: featurizers return it,
    transformers and set estimators take it (see the invariants in ``docs/architecture.md``).

    Parameters
    ----------
    values : array-like of shape (n_members, n_features)
        Feature rows of all members, concatenated set after set. A 1-D array is taken as a
        single feature column.
    offsets : array-like of shape (n_sets + 1,)
        Start of each set in ``values``; ``offsets[0] == 0`` and ``offsets[-1] == n_members``.
    weights : array-like of shape (n_members,), optional
        Non-negative member weights; each set's weights are normalised to sum to one.
        Defaults to equal weights.
    feature_names : sequence of str, optional
        Names of the feature columns. Defaults to ``x0, x1, ...``.
    extras : array-like of shape (n_sets, n_extras), optional
        Extra per-material inputs beside the set (temperature, pressure, a computed band
        gap...): one numeric row per set, kept aligned with the sets by every indexing and
        concatenation. The set estimators feed them in after the readout (like MEGNet's
        state vector). None (default) means no extra inputs.
    extra_names : sequence of str, optional
        Names of the extra columns. Defaults to ``extra0, extra1, ...``.

    Raises
    ------
    InvalidSetError
        If the offsets are not monotone, a set is empty, weights are negative, non-finite or
        sum to zero within a set, or the features contain NaN/inf. The message names the
        offending set index.
    InvalidExtraInputError
        If the extras are not a numeric ``(n_sets, k)`` array or contain NaN/inf (the
        message names the row and the column).

    Examples
    --------
    >>> import numpy as np
    >>> s = RaggedSets(np.arange(6.0).reshape(3, 2), offsets=[0, 2, 3], weights=[1, 3, 1])
    >>> len(s), s.n_features
    (2, 2)
    >>> s.weights
    array([0.25, 0.75, 1.  ], dtype=float32)
    >>> s[[1]].values
    array([[4., 5.]], dtype=float32)
    """

    __array_priority__ = 100
    #: extra per-set inputs (n_sets, k) float32, or None; class defaults keep old pickles valid
    extras: np.ndarray | None = None
    extra_names: np.ndarray | None = None

    def __init__(
        self,
        values: Any,
        offsets: Any,
        weights: Any = None,
        feature_names: Sequence[str] | None = None,
        extras: Any = None,
        extra_names: Sequence[str] | None = None,
    ) -> None:
        values = np.asarray(values)
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2:
            raise InvalidSetError(
                f"values must be 2-D (n_members, n_features), got {values.ndim}-D"
            )
        if not np.issubdtype(values.dtype, np.number):
            raise InvalidSetError(f"values must be numeric, got dtype {values.dtype}")
        values = np.ascontiguousarray(values, dtype=np.float32)
        offsets = np.asarray(offsets, dtype=np.int64)
        if offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0:
            raise InvalidSetError("offsets must be 1-D and start at 0")
        if offsets[-1] != len(values):
            raise InvalidSetError(
                f"offsets end at {offsets[-1]} but there are {len(values)} member rows"
            )
        lengths = np.diff(offsets)
        if (lengths < 0).any():
            raise InvalidSetError("offsets must be non-decreasing")
        if (lengths == 0).any():
            i = int(np.flatnonzero(lengths == 0)[0])
            raise InvalidSetError("empty set: every material needs at least one atom", row=i)
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            i = int(np.searchsorted(offsets, np.flatnonzero(bad)[0], side="right") - 1)
            raise InvalidSetError("non-finite (NaN or inf) feature value", row=i)
        if weights is None:
            weights = np.ones(len(values))
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if weights.shape != (len(values),):
            raise InvalidSetError(
                f"weights must have one entry per member ({len(values)}), got {weights.shape}"
            )
        badw = ~np.isfinite(weights) | (weights < 0)
        if badw.any():
            i = int(np.searchsorted(offsets, np.flatnonzero(badw)[0], side="right") - 1)
            raise InvalidSetError("negative or non-finite weight", row=i)
        sums = np.add.reduceat(weights, offsets[:-1]) if len(lengths) else np.zeros(0)
        if (sums <= 0).any():
            i = int(np.flatnonzero(sums <= 0)[0])
            raise InvalidSetError("weights sum to zero", row=i)
        self.values = values
        self.offsets = offsets
        self.weights = (weights / _csr.expand(sums, offsets)).astype(np.float32)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(values.shape[1])]
        feature_names = [str(n) for n in feature_names]
        if len(feature_names) != values.shape[1]:
            raise InvalidSetError(
                f"{len(feature_names)} feature names for {values.shape[1]} feature columns"
            )
        self.feature_names = np.asarray(feature_names, dtype=object)
        if extras is not None:
            self.extras, self.extra_names = check_extras(extras, len(self), extra_names)

    @classmethod
    def _trusted(
        cls,
        values: np.ndarray,
        offsets: np.ndarray,
        weights: np.ndarray,
        feature_names: Any,
        extras: np.ndarray | None = None,
        extra_names: Any = None,
    ) -> RaggedSets:
        """Build from arrays already validated (used by indexing; skips the checks)."""
        new = cls.__new__(cls)
        new.values, new.offsets, new.weights = values, offsets, weights
        new.feature_names = feature_names
        if extras is not None:
            new.extras, new.extra_names = extras, extra_names
        return new

    def with_extras(self, extras: Any, extra_names: Sequence[str] | None = None) -> RaggedSets:
        """The same sets with extra per-set inputs (or none, if ``extras`` is None).

        Parameters
        ----------
        extras : array-like of shape (n_sets, n_extras) or None
        extra_names : sequence of str, optional

        Returns
        -------
        RaggedSets
            Shares the member arrays with ``self`` (nothing is copied or mutated).
        """
        if extras is None:
            return RaggedSets._trusted(self.values, self.offsets, self.weights, self.feature_names)
        extras, names = check_extras(extras, len(self), extra_names)
        return RaggedSets._trusted(
            self.values, self.offsets, self.weights, self.feature_names, extras, names
        )

    @property
    def n_extras(self) -> int:
        """Number of extra per-set input columns (0 if there are none)."""
        return 0 if self.extras is None else self.extras.shape[1]

    @classmethod
    def from_list(
        cls,
        sets: Sequence[Any],
        weights: Sequence[Any] | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> RaggedSets:
        """Build from a list of ``(n_i, n_features)`` arrays (and optional weight vectors)."""
        arrays = [np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in sets]
        offsets = _csr.offsets_of(arrays)
        width = {a.shape[1] for a in arrays}
        if len(width) > 1:
            raise InvalidSetError(f"sets have different feature widths {sorted(width)}")
        values = np.concatenate(arrays) if arrays else np.zeros((0, 0))
        w = None if weights is None else np.concatenate([np.ravel(x) for x in weights])
        return cls(values, offsets, w, feature_names)

    @classmethod
    def from_rows(cls, rows: Sequence[Any]) -> RaggedSets:
        """Build from one set per row, as ``featurize_dataframe`` writes them into a column.

        Parameters
        ----------
        rows : sequence
            Each row is one material's set: a :class:`RaggedSets` holding one set (what the
            set featurizers' ``featurize`` returns), a ``(values, weights)`` pair with
            ``values`` of shape ``(n_members, n_features)`` and ``weights`` of shape
            ``(n_members,)``, or a 2-D array of member rows (equal weights).

        Raises
        ------
        InvalidSetError
            Naming the first row that is not a set (e.g. the NaN that
            ``featurize_dataframe(ignore_errors=True)`` leaves where a material failed), or
            whose feature width differs from the rows before it.
        """
        values: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        names = None
        for i, row in enumerate(rows):
            if isinstance(row, RaggedSets):
                if len(row) != 1:
                    raise InvalidSetError(
                        f"holds {len(row)} sets; each row must hold one material's set", row=i
                    )
                v, w = row.values, row.weights
                names = row.feature_names if names is None else names
            elif isinstance(row, (list, tuple)) and len(row) == 2:
                v, w = np.asarray(row[0]), np.asarray(row[1])
                if v.ndim != 2 or w.shape != (len(v),):
                    raise InvalidSetError(
                        "a (values, weights) row needs values of shape (n_members, "
                        f"n_features) and weights of shape (n_members,), got {v.shape} and "
                        f"{w.shape}",
                        row=i,
                    )
            elif isinstance(row, np.ndarray) and row.ndim == 2:
                v, w = row, np.ones(len(row))
            else:
                raise InvalidSetError(
                    f"expected a feature set, got {_describe(row)} (featurize_dataframe("
                    "ignore_errors=True) leaves NaN where a material failed: drop those rows)",
                    row=i,
                )
            if values and v.shape[1] != values[0].shape[1]:
                raise InvalidSetError(
                    f"set has {v.shape[1]} features but the rows before it have "
                    f"{values[0].shape[1]}",
                    row=i,
                )
            if not np.issubdtype(v.dtype, np.number):
                raise InvalidSetError(f"set values must be numeric, got dtype {v.dtype}", row=i)
            values.append(v)
            weights.append(w)
        if not values:
            raise InvalidSetError("no sets given")
        offsets = _csr.offsets_of(values)
        return cls(np.concatenate(values), offsets, np.concatenate(weights), names)

    @classmethod
    def from_dense(cls, X: Any) -> RaggedSets:
        """Treat each row of a 2-D array as a set with a single member of weight one."""
        X = np.asarray(X)
        if X.ndim != 2:
            raise InvalidSetError(f"expected a 2-D array, got {X.ndim}-D")
        return cls(X, np.arange(len(X) + 1))

    # ------------------------------------------------------------------ array protocol
    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def shape(self) -> tuple[int]:
        """``(n_sets,)``: the container is a 1-D array of sets for scikit-learn."""
        return (len(self),)

    @property
    def ndim(self) -> int:
        """Always 1."""
        return 1

    @property
    def n_features(self) -> int:
        """Width of the member feature rows."""
        return self.values.shape[1]

    @property
    def n_members(self) -> int:
        """Total number of members over all sets."""
        return self.values.shape[0]

    @property
    def lengths(self) -> np.ndarray:
        """Number of members of each set."""
        return np.diff(self.offsets)

    @property
    def segment_ids(self) -> np.ndarray:
        """Index of the owning set for every member row."""
        return _csr.segment_ids(self.offsets)

    def __getitem__(self, key: Any) -> RaggedSets:
        if isinstance(key, tuple):
            # scikit-learn's _safe_indexing calls X[key, ...]
            rest = [k for k in key[1:] if k is not Ellipsis and k != slice(None)]
            if rest:
                raise IndexError("RaggedSets only supports indexing along the set axis")
            key = key[0]
        n = len(self)
        if isinstance(key, (int, np.integer)):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"set index {key} out of range for {n} sets")
            idx = np.array([i % n], dtype=np.int64)
        elif isinstance(key, slice):
            idx = np.arange(n, dtype=np.int64)[key]
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (n,):
                    raise IndexError(f"boolean mask of shape {key.shape} for {n} sets")
                idx = np.flatnonzero(key)
            elif key.size == 0:
                idx = np.zeros(0, dtype=np.int64)
            elif np.issubdtype(key.dtype, np.integer):
                idx = key.astype(np.int64).ravel()
                if (idx >= n).any() or (idx < -n).any():
                    raise IndexError(f"set index out of range for {n} sets")
                idx = idx % n
            else:
                raise IndexError(f"cannot index RaggedSets with {key.dtype} array")
        if len(idx) == n and (idx == np.arange(n)).all():
            return self
        rows, offsets = _csr.gather(self.offsets, idx)
        return RaggedSets._trusted(
            self.values[rows],
            offsets,
            self.weights[rows],
            self.feature_names,
            None if self.extras is None else self.extras[idx],
            self.extra_names,
        )

    def __iter__(self):
        for i in range(len(self)):
            lo, hi = self.offsets[i], self.offsets[i + 1]
            yield self.values[lo:hi], self.weights[lo:hi]

    def __repr__(self) -> str:
        extra = f", n_extras={self.n_extras}" if self.extras is not None else ""
        return (
            f"RaggedSets(n_sets={len(self)}, n_members={self.n_members}, "
            f"n_features={self.n_features}{extra})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RaggedSets):
            return NotImplemented
        return (
            np.array_equal(self.offsets, other.offsets)
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.weights, other.weights)
            and (self.extras is None) == (other.extras is None)
            and (self.extras is None or np.array_equal(self.extras, other.extras))
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ helpers
    def with_values(
        self, values: np.ndarray, feature_names: Sequence[str] | None = None
    ) -> RaggedSets:
        """A container with the same sets and weights but new member features."""
        values = np.ascontiguousarray(values, dtype=np.float32)
        if values.ndim != 2 or len(values) != self.n_members:
            raise InvalidSetError(
                f"new values must have shape ({self.n_members}, k), got {values.shape}"
            )
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(values.shape[1])]
        return RaggedSets._trusted(
            values,
            self.offsets,
            self.weights,
            np.asarray(list(feature_names), dtype=object),
            self.extras,
            self.extra_names,
        )

    @staticmethod
    def concat(parts: Sequence[RaggedSets]) -> RaggedSets:
        """Concatenate containers along the set axis (e.g. chunks featurised in parallel)."""
        if not parts:
            raise InvalidSetError("nothing to concatenate")
        widths = {p.n_features for p in parts}
        if len(widths) > 1:
            raise InvalidSetError(f"cannot concatenate sets of feature widths {sorted(widths)}")
        offsets, _ = _csr.concat_offsets([p.offsets for p in parts])
        has_extras = {p.extras is not None for p in parts}
        if len(has_extras) > 1:
            raise InvalidSetError("cannot concatenate sets with and without extra inputs")
        extras = None
        if parts[0].extras is not None:
            if len({p.n_extras for p in parts}) > 1:
                raise InvalidSetError("cannot concatenate sets with different extra inputs")
            extras = np.concatenate([p.extras for p in parts])
        return RaggedSets._trusted(
            np.concatenate([p.values for p in parts]),
            offsets,
            np.concatenate([p.weights for p in parts]),
            parts[0].feature_names,
            extras,
            parts[0].extra_names,
        )


def check_extras(
    extras: Any, n_sets: int, names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Validate extra per-set inputs: a finite numeric ``(n_sets, k)`` array.

    Parameters
    ----------
    extras : array-like of shape (n_sets, k)
    n_sets : int
    names : sequence of str, optional
        Column names (used in error messages); default ``extra0, extra1, ...``.

    Returns
    -------
    extras : ndarray of shape (n_sets, k), float32
    names : ndarray of str (object dtype)

    Raises
    ------
    InvalidExtraInputError
        Naming the row and column of a non-numeric, NaN or infinite value.
    """
    from .exceptions import InvalidExtraInputError

    arr = np.asarray(extras)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or len(arr) != n_sets:
        raise InvalidExtraInputError(
            f"extra inputs must have shape ({n_sets}, k), got {np.shape(extras)}"
        )
    if names is None:
        names = [f"extra{j}" for j in range(arr.shape[1])]
    names = np.asarray([str(c) for c in names], dtype=object)
    if len(names) != arr.shape[1]:
        raise InvalidExtraInputError(f"{len(names)} names for {arr.shape[1]} extra columns")
    if not np.issubdtype(arr.dtype, np.number) or arr.dtype.kind == "c":
        for j in range(arr.shape[1]):
            for i, v in enumerate(arr[:, j]):
                if not _is_real(v):
                    raise InvalidExtraInputError(
                        f"extra input column {names[j]!r} has a non-numeric value {v!r}",
                        row=i,
                        column=names[j],
                    )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise InvalidExtraInputError(
            f"extra input column {names[j]!r} is NaN or infinite", row=i, column=names[j]
        )
    return arr, names


def _is_real(v: Any) -> bool:
    """True for a real number (bools included, strings and None excluded)."""
    if v is None or isinstance(v, (str, bytes, complex, np.complexfloating)):
        return False
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _describe(obj: Any) -> str:
    if isinstance(obj, float) and np.isnan(obj):
        return "NaN"
    if obj is None:
        return "None"
    return f"a {type(obj).__name__} {obj!r:.60}"


def _is_set_row(obj: Any) -> bool:
    if isinstance(obj, RaggedSets):
        return True
    if isinstance(obj, (list, tuple)) and len(obj) == 2:
        return np.ndim(obj[0]) == 2
    return isinstance(obj, np.ndarray) and obj.ndim == 2


def sets_from_column(X: Any) -> Any:
    """A column of per-material sets as :class:`RaggedSets`; any other input unchanged.

    A *set column* is what a set featurizer's ``featurize_dataframe`` (or matminer's
    ``MultipleFeaturizer``) writes: a pandas Series, a one-column DataFrame, a 1-D object
    array or a list whose rows are per-material sets (see :meth:`RaggedSets.from_rows`).
    It is recognised when at least one row is a set; every row must then be one, or an
    :class:`InvalidSetError` names the first row that is not.

    Parameters
    ----------
    X : any

    Returns
    -------
    RaggedSets or X
    """
    if isinstance(X, RaggedSets):
        return X
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # DataFrame
        if X.shape[1] != 1:
            return X
        X = X.iloc[:, 0]
    if hasattr(X, "iloc") and hasattr(X, "dtype"):  # Series
        if X.dtype != object:
            return X
        rows = X.tolist()
    elif isinstance(X, np.ndarray):
        if X.dtype != object or X.ndim != 1:
            return X
        rows = list(X)
    elif isinstance(X, (list, tuple)):
        rows = X
    else:
        return X
    if not any(_is_set_row(r) for r in rows):
        return X
    return RaggedSets.from_rows(rows)


def to_sets(X: Any, estimator: Any = None) -> RaggedSets:
    """Accept a :class:`RaggedSets`, a column of per-material sets (:func:`sets_from_column`),
    or a 2-D numeric array as one single-member set per row.

    Parameters
    ----------
    X : RaggedSets or array-like of shape (n_samples, n_features)
    estimator : estimator, optional
        Named in error messages.

    Returns
    -------
    RaggedSets
    """
    X = sets_from_column(X)
    if isinstance(X, RaggedSets):
        return X
    from sklearn.utils.validation import check_array

    if isinstance(X, (list, tuple)) and X and isinstance(X[0], str):
        raise InvalidSetError(
            "got strings where feature sets were expected: put a featurizer such as "
            "ElementEmbeddingFeaturizer before this step (e.g. in a Pipeline)"
        )
    arr = check_array(X, dtype=np.float32, estimator=estimator)
    return RaggedSets.from_dense(arr)
