"""Shared machinery of all featurizers: chunking, joblib parallelism, progress, matminer API.

A featurizer turns a sequence of materials (formulas, Compositions, Structures) into either a
:class:`~skatomsets.sets.RaggedSets` (per-atom feature sets, :class:`BaseSetFeaturizer`) or a
fixed-length 2-D array (:class:`BaseVectorFeaturizer`). Subclasses implement
``_load(self)`` (called by ``fit``; loads tables/models and sets fitted attributes) and
``_featurize_chunk(self, items)`` (featurizes a list of materials). Everything else - input
checking, chunking, ``n_jobs`` through joblib, progress bars, error rows, feature names and
the matminer ``featurize_dataframe`` API - lives here.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..exceptions import SkatomsetsInputError
from ..extra_inputs import split_extra_columns
from ..inputs import as_sequence
from ..sets import RaggedSets

__all__ = ["BaseSetFeaturizer", "BaseVectorFeaturizer"]


def _featurize_range(featurizer: Any, items: list[Any], start: int) -> Any:
    """Featurize one chunk; shift the row of any input error to the global row index."""
    try:
        return featurizer._featurize_chunk(items)
    except SkatomsetsInputError as exc:
        if exc.row is None:
            raise
        msg = str(exc).removeprefix(f"row {exc.row}: ")
        raise type(exc)(msg, row=exc.row + start) from None


class _FeaturizerMixin:
    """Common parameters (``n_jobs``, ``chunk_size``, ``progress``) and the transform loop."""

    n_jobs: int | None
    chunk_size: int
    progress: bool

    def fit(self, X: Any = None, y: Any = None):
        """Load the feature tables or model; the data itself is not needed.

        Parameters
        ----------
        X : sequence of materials, optional
            Ignored (featurizers are stateless with respect to data); accepted for
            Pipeline compatibility.
        y : ignored

        Returns
        -------
        self
        """
        if not isinstance(self.chunk_size, (int, np.integer)) or self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")
        self._load()
        return self

    def _load(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _featurize_chunk(self, items: list[Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _chunks(self, X: Any) -> tuple[Any, int | None]:
        """``(start, items)`` chunks of the input, and their number (None if unknown).

        A list, array or Series is sliced; any other iterable (e.g. a generator reading
        structures from disk) is consumed lazily, one chunk at a time, so that only a few
        chunks of input are ever held in memory.
        """
        size = self.chunk_size
        if isinstance(X, Iterator):

            def lazy():
                start = 0
                while chunk := list(islice(X, size)):
                    yield start, chunk
                    start += len(chunk)

            return lazy(), None
        items = as_sequence(X)
        starts = range(0, len(items), size)
        return ((s, items[s : s + size]) for s in starts), len(starts)

    def _run(self, X: Any) -> list[Any]:
        check_is_fitted(self)
        chunks, n_chunks = self._chunks(X)
        if self.n_jobs in (None, 1) or n_chunks in (0, 1):
            results = (_featurize_range(self, items, s) for s, items in chunks)
        else:
            jobs = (delayed(_featurize_range)(self, items, s) for s, items in chunks)
            results = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
        if self.progress:
            from tqdm.auto import tqdm

            results = tqdm(results, total=n_chunks, desc=type(self).__name__, unit="chunk")
        out = list(results)
        if not out:
            out = [self._featurize_chunk([])]
        return out

    # ----------------------------------------------------------------- matminer interop
    def feature_labels(self) -> list[str]:
        """Names of the features (matminer convention)."""
        return list(self.get_feature_names_out())

    def citations(self) -> list[str]:
        """BibTeX entries to cite when using this featurizer (matminer convention)."""
        return list(getattr(self, "_citations", []))

    def implementors(self) -> list[str]:
        """Who implemented this featurizer (matminer convention)."""
        return ["skatomsets developers"]

    def featurize(self, x: Any) -> list[Any]:
        """Featurize a single material (matminer convention).

        Returns
        -------
        list
            For vector featurizers, the feature values; for set featurizers,
            ``[features (n_members, n_features), weights (n_members,)]``.
        """
        if not hasattr(self, "n_features_out_"):
            self.fit()
        out = self.transform([x])
        if isinstance(out, RaggedSets):
            return [out.values, out.weights]
        return list(np.asarray(out)[0])

    def featurize_many(self, entries: Any, ignore_errors: bool = False) -> list[Any]:
        """Featurize many materials, one result per entry (matminer convention)."""
        if not ignore_errors:
            if not hasattr(self, "n_features_out_"):
                self.fit()
            out = self.transform(entries)
            if isinstance(out, RaggedSets):
                return [[v, w] for v, w in out]
            return [list(r) for r in np.asarray(out)]
        results = []
        for x in as_sequence(entries):
            try:
                results.append(self.featurize(x))
            except SkatomsetsInputError:
                results.append(None)
        return results

    def featurize_dataframe(
        self,
        df: Any,
        col_id: str,
        ignore_errors: bool = False,
        inplace: bool = False,
    ) -> Any:
        """Add the features of ``df[col_id]`` as new columns (matminer convention).

        Vector featurizers add one column per feature label; set featurizers add one column
        named after the featurizer holding ``[features, weights]`` per row. With
        ``ignore_errors=True`` a row that cannot be featurized gets NaN (vector) or None (set)
        instead of raising. The input frame is copied unless ``inplace=True``.
        """
        import pandas as pd

        out = df if inplace else df.copy()
        rows = self.featurize_many(out[col_id], ignore_errors=ignore_errors)
        if isinstance(self, BaseSetFeaturizer):
            out[self._set_column_name()] = rows
            return out
        labels = self.feature_labels()
        clash = set(labels) & set(out.columns)
        if clash:
            raise ValueError(f"columns {sorted(clash)} already exist in the DataFrame")
        nan_row = [np.nan] * len(labels)
        values = [r if r is not None else nan_row for r in rows]
        new = pd.DataFrame(values, columns=labels, index=out.index)
        if inplace:
            out[labels] = new
            return out
        return pd.concat([out, new], axis=1)
        return out


class BaseSetFeaturizer(
    _FeaturizerMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Base class of featurizers whose output is a :class:`~skatomsets.sets.RaggedSets`.

    ``_featurize_chunk`` returns a ``RaggedSets``; chunks are concatenated in order.
    """

    def transform(self, X: Any) -> RaggedSets:
        """Featurize materials into per-atom feature sets.

        Parameters
        ----------
        X : sequence or iterator of materials, or DataFrame
            List, array or Series of formulas / Compositions / Structures, or an iterator
            (e.g. a generator), which is consumed chunk by chunk. A DataFrame with one
            column of materials and further numeric columns gives the numbers as extra
            per-material inputs (``RaggedSets.extras``, see
            :mod:`skatomsets.extra_inputs`).

        Returns
        -------
        RaggedSets
            One set per material, carrying its weights (and the extra inputs, if any).
        """
        X, extras, extra_names = split_extra_columns(X)
        parts = self._run(X)
        out = RaggedSets.concat(parts) if len(parts) > 1 else parts[0]
        out.feature_names = np.asarray(self.get_feature_names_out(), dtype=object)
        if extras is not None:
            out = out.with_extras(extras, extra_names)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the per-member feature columns."""
        check_is_fitted(self)
        return np.asarray(self.feature_names_, dtype=object)

    def _set_column_name(self) -> str:
        return f"{type(self).__name__}_set"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags


class BaseVectorFeaturizer(_FeaturizerMixin, TransformerMixin, BaseEstimator):
    """Base class of featurizers whose output is a fixed-length 2-D array.

    ``_featurize_chunk`` returns an array of shape ``(len(items), n_features_out_)``.
    Supports ``set_output(transform="pandas")``.
    """

    def transform(self, X: Any) -> np.ndarray:
        """Featurize materials into a ``(n_samples, n_features_out_)`` array."""
        parts = self._run(X)
        return np.concatenate(parts, axis=0)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns."""
        check_is_fitted(self)
        return np.asarray(self.feature_names_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
