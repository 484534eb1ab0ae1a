"""Extra per-material inputs beside the material: a DataFrame's numeric columns.

A set featurizer given a DataFrame with one column of materials and further numeric columns
(temperature, pressure, a computed band gap...) featurizes the materials column and carries
the numbers along as :attr:`RaggedSets.extras <skatomsets.sets.RaggedSets.extras>`; the set
estimators standardise them and feed them in after the readout, like MEGNet's state vector.

Which column holds the materials: the one column whose dtype is not numeric (object, string
or category: formulas, Compositions, Structures). When several columns are not numeric
(e.g. an extra column with a stray string in it), a column named ``composition``,
``formula``, ``structure`` or ``material(s)`` wins, else the one with the largest share of
non-numbers. Every other column is an extra input and must be numeric; a non-numeric, NaN
or infinite value raises
:class:`~skatomsets.exceptions.InvalidExtraInputError` naming the row (0-based position)
and the column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InvalidExtraInputError
from ..sets import check_extras

__all__ = ["MATERIALS_COLUMN_NAMES", "split_extra_columns"]

#: Column names taken as the materials column when several columns are not numeric.
MATERIALS_COLUMN_NAMES = ("composition", "formula", "structure", "material", "materials")


def split_extra_columns(X: Any) -> tuple[Any, np.ndarray | None, np.ndarray | None]:
    """Split a DataFrame into its materials column and its extra numeric columns.

    Parameters
    ----------
    X : DataFrame, or any other input of a featurizer
        Anything but a DataFrame with two or more columns is returned unchanged.

    Returns
    -------
    materials : Series or X
        The materials column (or ``X`` itself).
    extras : ndarray of shape (n_samples, k), float32, or None
    names : ndarray of str, or None
        Names of the extra columns.

    Raises
    ------
    InvalidExtraInputError
        If no column holds materials, or an extra column has a non-numeric, NaN or infinite
        value (naming the row and the column).
    """
    if not (hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2 and X.shape[1] > 1):
        return X, None, None
    from pandas.api.types import is_numeric_dtype

    numeric = [is_numeric_dtype(dt) for dt in X.dtypes]
    if all(numeric):
        raise InvalidExtraInputError(
            f"a DataFrame of {X.shape[1]} columns was given, but all are numeric: one column "
            "must hold the materials (formulas, Compositions or Structures), the others are "
            "extra numeric inputs"
        )
    j_mat = _materials_column(X, [j for j, num in enumerate(numeric) if not num])
    materials = X.iloc[:, j_mat]
    rest = [j for j in range(X.shape[1]) if j != j_mat]
    names = [str(X.columns[j]) for j in rest]
    cols = []
    for j in rest:
        col = X.iloc[:, j]
        if numeric[j]:
            cols.append(col.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            vals = col.to_numpy(dtype=object)
            # pandas missing values (None, pd.NA) count as NaN, not as "non-numeric"
            vals[col.isna().to_numpy()] = np.nan
            cols.append(vals)
    arr = np.column_stack(cols)
    extras, names_arr = check_extras(arr, len(X), names)
    return materials, extras, names_arr


def _materials_column(X: Any, candidates: list[int]) -> int:
    """Position of the materials column among the non-numeric columns ``candidates``."""
    if len(candidates) == 1:
        return candidates[0]
    for j in candidates:
        if str(X.columns[j]).lower() in MATERIALS_COLUMN_NAMES:
            return j
    from ..sets import _is_real

    def share_of_non_numbers(j: int) -> float:
        values = X.iloc[:, j].dropna().tolist()
        return sum(not _is_real(v) for v in values) / max(len(values), 1)

    return max(candidates, key=share_of_non_numbers)  # first of equals on ties
