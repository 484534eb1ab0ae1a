"""Atom features from several sources in one set: the per-member concatenation of featurizers.

AtomSets transfers *any* atom feature. :class:`SetFeatureUnion` puts the features of several
set featurizers side by side for each member of each set: element tables (``megnet16``,
``matscholar``, ``magpie``, a parent's element embedding) for formulas, or the site levels of
several parent networks (MEGNet V1 with CHGNet V3, ...) for structures. It returns one
:class:`~skatomsets.sets.RaggedSets`, whose feature names say where each column came from
(``"<source>__<feature>"``). Each source keeps its own cache (the parent featurizers' cache is
keyed by the parent's weights, not by the union), so adding a source to a union never
recomputes the others.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import BaseComposition
from ..exceptions import InvalidSetError
from ..io.extras import split_extra_columns
from ..io.materials import as_sequence
from ..sets import RaggedSets
from ._base import BaseSetFeaturizer, material_input_tags

__all__ = ["SetFeatureUnion", "make_set_union"]


class SetFeatureUnion(TransformerMixin, BaseComposition, BaseEstimator):
    """Concatenate, member by member, the feature sets of several set featurizers.

    Every featurizer must give the same sets (the same members in the same order, with the
    same weights): element featurizers of formulas always do, and so do site featurizers of
    ordered structures. Their member features are put side by side.

    Parameters
    ----------
    featurizer_list : list of (str, featurizer)
        Named set featurizers (anything whose ``transform`` returns a
        :class:`~skatomsets.sets.RaggedSets`). The names prefix the feature names, and
        address nested parameters (``"<name>__<param>"``) as in scikit-learn's
        ``FeatureUnion``.

    Attributes
    ----------
    featurizers_ : list of (str, featurizer)
        Fitted clones of the featurizers (the ones given are not modified).
    n_features_out_ : int
        Sum of the sources' widths.
    source_widths_ : dict of str -> int
        Width of each source, in order.

    See Also
    --------
    make_set_union : Build a union, naming each source after its featurizer.

    Examples
    --------
    >>> from skatomsets.featurizers import ElementEmbeddingFeaturizer, SetFeatureUnion
    >>> union = SetFeatureUnion(
    ...     [
    ...         ("megnet16", ElementEmbeddingFeaturizer("megnet16")),
    ...         ("magpie", ElementEmbeddingFeaturizer("magpie")),
    ...     ]
    ... )
    >>> sets = union.fit_transform(["Fe2O3", "NaCl"])
    >>> sets.n_features, str(sets.feature_names[16])
    (38, 'magpie__magpie_Number')
    """

    _parameter_constraints: dict = {"featurizer_list": [list]}

    def __init__(self, featurizer_list: list[tuple[str, Any]]) -> None:
        self.featurizer_list = featurizer_list

    # nested parameters, as in sklearn's FeatureUnion
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the union and, with ``deep``, of every named featurizer."""
        return self._get_params("featurizer_list", deep=deep)

    def set_params(self, **params: Any):
        """Set parameters of the union or of its featurizers (``"<name>__<param>"``)."""
        self._set_params("featurizer_list", **params)
        return self

    def _check_list(self) -> None:
        items = self.featurizer_list
        if not items:
            raise ValueError("featurizer_list is empty: give at least one (name, featurizer)")
        for item in items:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise ValueError(
                    f"featurizer_list items must be (name, featurizer) tuples, got {item!r}"
                )
            if not hasattr(item[1], "transform"):
                raise TypeError(f"featurizer {item[0]!r} has no transform method")
        self._validate_names([name for name, _ in items])

    def fit(self, X: Any = None, y: Any = None):
        """Fit a clone of each featurizer (loads its tables or parent network).

        Parameters
        ----------
        X : sequence of materials, optional
            Passed to each featurizer's ``fit`` (featurizers do not learn from data).
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        self._check_list()
        self.featurizers_ = [(name, clone(f).fit(X, y)) for name, f in self.featurizer_list]
        self.source_widths_ = {
            name: len(f.get_feature_names_out()) for name, f in self.featurizers_
        }
        self.n_features_out_ = sum(self.source_widths_.values())
        return self

    def transform(self, X: Any) -> RaggedSets:
        """Featurize with every source and concatenate the member features.

        Parameters
        ----------
        X : sequence of materials, or DataFrame
            As each featurizer takes it. A DataFrame's extra numeric columns become the
            extras of the result (once, not once per source).

        Returns
        -------
        RaggedSets
            ``n_features_out_`` features per member: the sources' columns in order.

        Raises
        ------
        InvalidSetError
            If two sources give different sets for a material (naming the row).
        """
        check_is_fitted(self)
        materials, extras, extra_names = split_extra_columns(X)
        if extras is None:
            materials = X  # keep iterators / Series as the featurizers take them
        else:
            materials = as_sequence(materials)
        parts = [(name, f.transform(materials)) for name, f in self.featurizers_]
        first_name, first = parts[0]
        for name, part in parts[1:]:
            _check_same_sets(first_name, first, name, part)
        values = np.concatenate([p.values for _, p in parts], axis=1)
        names = [f"{name}__{f}" for name, p in parts for f in p.feature_names]
        out = RaggedSets._trusted(
            np.ascontiguousarray(values),
            first.offsets,
            first.weights,
            np.asarray(names, dtype=object),
        )
        if extras is not None:
            out = out.with_extras(extras, extra_names)
        return out

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> RaggedSets:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``"<source>__<feature>"`` for every member column."""
        check_is_fitted(self)
        return np.asarray(
            [f"{name}__{n}" for name, f in self.featurizers_ for n in f.get_feature_names_out()],
            dtype=object,
        )

    #: the output is always a RaggedSets; accepting the setting lets a Pipeline configure the
    #: steps after this one (as every set featurizer does)
    set_output = BaseSetFeaturizer.set_output

    def __sklearn_tags__(self):
        tags = material_input_tags(super().__sklearn_tags__())
        tags.requires_fit = True
        return tags


def _check_same_sets(name_a: str, a: RaggedSets, name_b: str, b: RaggedSets) -> None:
    if len(a) != len(b):
        raise InvalidSetError(f"source {name_b!r} gave {len(b)} sets, {name_a!r} gave {len(a)}")
    if not np.array_equal(a.offsets, b.offsets):
        row = int(np.flatnonzero(np.diff(a.offsets) != np.diff(b.offsets))[0])
        raise InvalidSetError(
            f"sources {name_a!r} and {name_b!r} give sets of different sizes "
            f"({int(np.diff(a.offsets)[row])} vs {int(np.diff(b.offsets)[row])} members): an "
            "element featurizer (one member per element) cannot be joined with a site "
            "featurizer (one member per site)",
            row=row,
        )
    diff = np.abs(a.weights - b.weights) > 1e-5
    if diff.any():
        row = int(np.searchsorted(a.offsets, np.flatnonzero(diff)[0], side="right") - 1)
        raise InvalidSetError(
            f"sources {name_a!r} and {name_b!r} weigh the members of a set differently "
            "(e.g. partial occupancies one parent keeps and another refuses)",
            row=row,
        )


def make_set_union(*featurizers: Any) -> SetFeatureUnion:
    """A :class:`SetFeatureUnion` whose sources are named after their featurizers.

    An element featurizer is named after its table (``"megnet16"``), a parent featurizer
    after its parent and level (``"megnet_V1"``), anything else after its class.

    Examples
    --------
    >>> from skatomsets.featurizers import ElementEmbeddingFeaturizer, make_set_union
    >>> u = make_set_union(
    ...     ElementEmbeddingFeaturizer("megnet16"), ElementEmbeddingFeaturizer("matscholar")
    ... )
    >>> [name for name, _ in u.featurizer_list]
    ['megnet16', 'matscholar']
    """
    names: list[str] = []
    for f in featurizers:
        params = f.get_params(deep=False)
        if isinstance(params.get("embedding"), str):
            name = params["embedding"]
        elif "level" in params:
            parent = params.get("parent") or getattr(f, "_default_parent", None)
            parent = parent if isinstance(parent, str) else type(f).__name__.lower()
            name = f"{parent}_V{params['level']}"
        else:
            name = type(f).__name__.lower()
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return SetFeatureUnion(list(zip(names, featurizers, strict=True)))
