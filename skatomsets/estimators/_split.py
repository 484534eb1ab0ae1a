"""The hold-out validation split that picks the best epoch (skorch's ``train_split``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit

from ._data import TensorData

__all__ = ["_HoldOut"]


class _HoldOut:
    """Random (stratified for classifiers) hold-out validation split for skorch."""

    def __init__(self, fraction: float, stratify: bool, seed: int) -> None:
        self.fraction = fraction
        self.stratify = stratify
        self.seed = seed

    def __call__(self, dataset: TensorData, y: Any = None, **kwargs: Any):
        train, valid = self.indices(dataset)
        return dataset.subset(train), dataset.subset(valid)

    def indices(self, dataset: TensorData) -> tuple[np.ndarray, np.ndarray]:
        """Sorted training and validation row indices of ``dataset`` (what ``__call__`` cuts)."""
        n = len(dataset)
        n_valid = max(1, round(self.fraction * n))
        rng = np.random.default_rng(self.seed)
        if self.stratify:
            n_classes = len(np.unique(dataset.y))
            n_valid = max(n_valid, n_classes)
            if n - n_valid >= n_classes and np.bincount(dataset.y).min() >= 2:
                self._check_train_size(n, n_valid)
                split = StratifiedShuffleSplit(1, test_size=n_valid, random_state=self.seed)
                train, valid = next(split.split(np.zeros(n), dataset.y))
                return np.sort(train), np.sort(valid)
        self._check_train_size(n, n_valid)
        perm = rng.permutation(n)
        return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])

    def _check_train_size(self, n: int, n_valid: int) -> None:
        """At least 2 training samples (batch normalisation, and any learning at all)."""
        if n - n_valid < 2:
            per_class = ", at least one per class" if self.stratify else ""
            raise ValueError(
                f"only {n - n_valid} of {n} samples left for training after holding out "
                f"{n_valid} for validation (validation_fraction={self.fraction!r}{per_class}); "
                "training needs at least 2: use more data, a smaller validation_fraction, or "
                "validation_fraction=None"
            )
