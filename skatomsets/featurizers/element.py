"""Element-level feature sets: one member per element, weighted by atomic fraction."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..elements import element_table_citations, element_tables, load_element_table
from ..exceptions import MissingFeaturesError
from ..io.materials import MAX_Z, parse_compositions
from ..sets import RaggedSets
from ._base import ATOMSETS_CITATION, BaseSetFeaturizer, _FeaturizerMixin

__all__ = ["ElementEmbeddingFeaturizer"]


class ElementEmbeddingFeaturizer(BaseSetFeaturizer):
    """Per-element feature sets of materials, weighted by atomic fraction.

    Each material becomes a set with one member per element, whose feature row is the
    element's row in a feature table and whose weight is its atomic fraction. With the
    default ``"megnet16"`` table this is **V0** of AtomSets. A ``Structure`` is reduced to its
    composition (site occupancies summed per element): for element-only features this gives
    exactly the same weighted readouts as one member per site, at a fraction of the cost.

    Parameters
    ----------
    embedding : str or dict, default="megnet16"
        A table name from :func:`~skatomsets.elements.element_tables` (``"megnet16"``,
        ``"magpie"``, ``"matscholar"``, ``"onehot"``, ``"atomic_number"``, and the parents'
        tables, e.g. ``"chgnet64"``, ``"sevennet0"``), or a dict mapping
        element symbols to equal-length feature vectors (elements absent from the dict have
        no features).
    n_jobs : int, default=None
        Parallel jobs (joblib) over chunks of materials; None means 1.
    chunk_size : int, default=20000
        Materials per chunk.
    progress : bool, default=False
        Show a tqdm progress bar over chunks.

    Attributes
    ----------
    table_ : ndarray of shape (119, n_features)
        Feature row of each atomic number (NaN where the element has no features).
    feature_names_ : list of str
    n_features_out_ : int

    Examples
    --------
    >>> from skatomsets import ElementEmbeddingFeaturizer
    >>> sets = ElementEmbeddingFeaturizer().fit_transform(["Fe2O3", "NaCl"])
    >>> sets.lengths, sets.n_features
    (array([2, 2]), 16)
    """

    _parameter_constraints: dict = {
        **_FeaturizerMixin._parameter_constraints,
        "embedding": [str, dict],
    }

    def __init__(
        self,
        embedding: str | dict[str, Any] = "megnet16",
        *,
        n_jobs: int | None = None,
        chunk_size: int = 20000,
        progress: bool = False,
    ) -> None:
        self.embedding = embedding
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.progress = progress

    def _load(self) -> None:
        if isinstance(self.embedding, dict):
            self.table_, self.feature_names_ = _table_from_dict(self.embedding)
        elif isinstance(self.embedding, str):
            if self.embedding not in element_tables():
                raise ValueError(
                    f"embedding must be one of {element_tables()} or a dict, got {self.embedding!r}"
                )
            self.table_, self.feature_names_ = load_element_table(self.embedding)
        else:
            raise ValueError(
                f"embedding must be a table name or a dict, got {type(self.embedding).__name__}"
            )
        self.n_features_out_ = self.table_.shape[1]
        self._covered = ~np.isnan(self.table_).any(axis=1)

    @property
    def _citations(self) -> list[str]:
        name = self.embedding if isinstance(self.embedding, str) else ""
        return [ATOMSETS_CITATION, *element_table_citations(name)]

    def _featurize_chunk(self, items: list[Any]) -> RaggedSets:
        parsed = parse_compositions(items)
        covered = getattr(self, "_covered", None)
        if covered is None:
            covered = ~np.isnan(self.table_).any(axis=1)
        missing = ~covered[parsed.z]
        if missing.any():
            from pymatgen.core import Element

            k = int(np.flatnonzero(missing)[0])
            row = int(np.searchsorted(parsed.offsets, k, side="right") - 1)
            sym = Element.from_Z(int(parsed.z[k])).symbol
            name = self.embedding if isinstance(self.embedding, str) else "the given"
            raise MissingFeaturesError(
                f"element {sym} has no features in the {name!r} element table", row
            )
        return RaggedSets._trusted(
            self.table_[parsed.z],
            parsed.offsets,
            parsed.fractions.astype(np.float32),
            np.asarray(self.feature_names_, dtype=object),
        )


def _table_from_dict(mapping: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    from pymatgen.core import Element

    if not mapping:
        raise ValueError("the embedding dict is empty")
    rows = {}
    for sym, vec in mapping.items():
        try:
            z = Element(sym).Z
        except ValueError:
            raise ValueError(f"embedding dict key {sym!r} is not an element symbol") from None
        rows[z] = np.asarray(vec, dtype=np.float64).ravel()
    widths = {len(v) for v in rows.values()}
    if len(widths) != 1:
        raise ValueError(f"embedding dict vectors have different lengths {sorted(widths)}")
    table = np.full((MAX_Z + 1, widths.pop()), np.nan, dtype=np.float32)
    for z, v in rows.items():
        if not np.isfinite(v).all():
            raise ValueError(f"embedding dict vector of Z={z} has NaN or inf")
        table[z] = v
    return table, [f"embedding_{j}" for j in range(table.shape[1])]
