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
from numbers import Integral
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from matminer.featurizers.base import BaseFeaturizer
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval
from ..exceptions import SkatomsetsInputError
from ..io.extras import split_extra_columns
from ..io.materials import as_sequence
from ..sets import RaggedSets

__all__ = ["ATOMSETS_CITATION", "BaseSetFeaturizer", "BaseVectorFeaturizer"]

#: BibTeX of the AtomSets paper (Chen & Ong 2021), cited by the featurizers of its levels.
ATOMSETS_CITATION = (
    "@article{chen2021atomsets, title={AtomSets as a hierarchical transfer learning framework "
    "for small and large materials datasets}, author={Chen, Chi and Ong, Shyue Ping}, "
    "journal={npj Comput. Mater.}, volume={7}, pages={173}, year={2021}}"
)


def _featurize_range(featurizer: Any, items: list[Any], start: int) -> Any:
    """Featurize one chunk; shift the row of any input error to the global row index."""
    try:
        return featurizer._featurize_chunk(items)
    except SkatomsetsInputError as exc:
        if exc.row is None:
            raise
        msg = str(exc).removeprefix(f"row {exc.row}: ")
        raise type(exc)(msg, row=exc.row + start) from None


def material_input_tags(tags: Any) -> Any:
    """``tags`` of an estimator whose X is a sequence of materials (formulas, Compositions,
    Structures, as strings or objects), not a 2-D numeric array."""
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    return tags


class _FeaturizerMixin:
    """Common parameters (``n_jobs``, ``chunk_size``, ``progress``) and the transform loop."""

    # a plain class attribute shadows matminer's read-only ``n_jobs`` property, so that
    # ``n_jobs`` is an ordinary scikit-learn parameter
    n_jobs: int | None = None
    chunk_size: int
    progress: bool

    #: scikit-learn parameter constraints shared by every featurizer; subclasses extend them
    #: with ``{**_FeaturizerMixin._parameter_constraints, ...}``. Checked in ``fit``; what
    #: depends on the loaded tables or parent (a level's range, a feature's name) is checked
    #: when they are loaded.
    _parameter_constraints: dict = {
        "n_jobs": [Integral, None],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "progress": ["boolean"],
    }

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
        self._validate_params()
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
    # The featurizers subclass matminer's ``BaseFeaturizer``: ``featurize``,
    # ``feature_labels``, ``citations`` and ``implementors`` are ours; ``featurize_wrapper``,
    # ``featurize_dataframe``, ``fit_featurize_dataframe``, ``_generate_column_labels`` and the
    # prechecks are matminer's own, so ``MultipleFeaturizer`` composes ours with matminer's.
    # ``transform`` keeps scikit-learn's meaning (a RaggedSets / an array, errors raise).

    def set_n_jobs(self, n_jobs: int | None) -> None:
        """Set ``n_jobs`` (matminer convention; ``MultipleFeaturizer.set_n_jobs`` calls it)."""
        self.n_jobs = n_jobs

    def citations(self) -> list[str]:
        """BibTeX entries to cite when using this featurizer (matminer convention)."""
        return list(getattr(self, "_citations", []))

    def implementors(self) -> list[str]:
        """Who implemented this featurizer (matminer convention)."""
        return ["skatomsets developers"]

    def _ensure_fitted(self) -> None:
        if not hasattr(self, "n_features_out_"):
            self.fit()

    def featurize(self, x: Any) -> list[Any]:
        """Featurize a single material (matminer convention).

        Returns
        -------
        list
            One value per entry of :meth:`feature_labels`: the feature values for vector
            featurizers; for set featurizers a single entry, the material's set (a
            :class:`~skatomsets.sets.RaggedSets` holding one set).
        """
        self._ensure_fitted()
        return self._rows(self.transform([x]))[0]

    def featurize_many(
        self,
        entries: Any,
        ignore_errors: bool = False,
        return_errors: bool = False,
        pbar: bool = True,
    ) -> list[list[Any]]:
        """Featurize many materials, one list of features per entry (matminer convention).

        Parameters
        ----------
        entries : list-like of materials
            A list, array, Series or one-column DataFrame.
        ignore_errors : bool, default=False
            Give a row of NaN (matminer's convention) for a material that cannot be
            featurized instead of raising.
        return_errors : bool, default=False
            Append the error text (NaN where none) to each row; needs ``ignore_errors``.
        pbar : bool, default=True
            Accepted for matminer compatibility; progress bars follow ``progress``.

        Returns
        -------
        list of list
            ``len(feature_labels())`` values per entry (plus the error column).
        """
        if return_errors and not ignore_errors:
            raise ValueError("return_errors=True needs ignore_errors=True")
        items = as_sequence(entries)
        self._ensure_fitted()
        try:
            rows = self._rows(self.transform(items))
        except SkatomsetsInputError:
            if not ignore_errors:
                raise
            # entry by entry: a NaN row (and the error text) where a material fails
            wrap = self.featurize_wrapper
            return [wrap((x,), return_errors=return_errors, ignore_errors=True) for x in items]
        if return_errors:
            return [[*r, np.nan] for r in rows]
        return rows

    def _rows(self, out: Any) -> list[list[Any]]:
        """Per-material feature lists of a ``transform`` output (matminer layout)."""
        if isinstance(out, RaggedSets):
            return [[out[i : i + 1]] for i in range(len(out))]
        return np.asarray(out).tolist()


class BaseSetFeaturizer(_FeaturizerMixin, BaseFeaturizer, auto_wrap_output_keys=None):
    """Base class of featurizers whose output is a :class:`~skatomsets.sets.RaggedSets`.

    ``_featurize_chunk`` returns a ``RaggedSets``; chunks are concatenated in order.

    A set is not a table, so these featurizers opt out of scikit-learn's output wrapping
    (``set_output`` and ``sklearn.set_config(transform_output=...)``): ``transform`` always
    returns a ``RaggedSets``, and the steps after it in a Pipeline honour the setting.
    For matminer, the whole set is *one* feature: ``feature_labels()`` is
    ``["<ClassName>_set"]`` and ``featurize`` returns ``[set]``.
    """

    def __init_subclass__(cls, auto_wrap_output_keys: Any = None, **kwargs: Any) -> None:
        # subclasses opt out too (scikit-learn would wrap the inherited fit_transform)
        super().__init_subclass__(auto_wrap_output_keys=auto_wrap_output_keys, **kwargs)

    def set_output(self, *, transform: str | None = None):
        """Accept any output setting and change nothing: the output is always a RaggedSets.

        Present so that ``Pipeline.set_output(transform="pandas")`` configures the steps
        after this one (whose vector outputs become named DataFrame columns).

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None
            Ignored.

        Returns
        -------
        self
        """
        return self

    def feature_labels(self) -> list[str]:
        """The one matminer feature of a set featurizer: ``["<ClassName>_set"]``.

        The names of the member features are :meth:`get_feature_names_out`.
        """
        return [self._set_column_name()]

    def transform(self, X: Any) -> RaggedSets:
        """Featurize materials into per-atom feature sets.

        Parameters
        ----------
        X : sequence or iterator of materials, or DataFrame
            List, array or Series of formulas / Compositions / Structures, or an iterator
            (e.g. a generator), which is consumed chunk by chunk. A DataFrame with one
            column of materials and further numeric columns gives the numbers as extra
            per-material inputs (``RaggedSets.extras``, see
            :mod:`skatomsets.io.extras`).

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
        tags = material_input_tags(super().__sklearn_tags__())
        tags.requires_fit = True
        return tags


class BaseVectorFeaturizer(_FeaturizerMixin, BaseFeaturizer):
    """Base class of featurizers whose output is a fixed-length 2-D array.

    ``_featurize_chunk`` returns an array of shape ``(len(items), n_features_out_)``.
    Supports ``set_output(transform="pandas")``: a DataFrame with one named column per
    feature.
    """

    def feature_labels(self) -> list[str]:
        """Names of the features (matminer convention)."""
        return list(self.get_feature_names_out())

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
