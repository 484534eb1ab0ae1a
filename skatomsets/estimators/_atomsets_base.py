"""The part of AtomSetsRegressor / AtomSetsClassifier that is about the set model."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..exceptions import InvalidExtraInputError, InvalidSetError
from ..io.materials import MAX_Z
from ..nn.modules import AtomSetsModule, MLPModule
from ..sets import RaggedSets
from ._auto import AUTO_PARAMS
from ._base import NeuralEstimatorBase
from ._params import AUTO_TRAINING, MLP_ARCHITECTURE, SET_ARCHITECTURE


class _ModuleFromParams:
    """``_make_module_params`` from the architecture declaration of ``_params.py``."""

    #: parameter name -> constraints; the torch module takes each under the same name
    _architecture: dict[str, list[Any]]

    def _make_module_params(self, n_features: int, n_outputs: int) -> dict[str, Any]:
        params = {"n_features": n_features, "n_outputs": n_outputs}
        for name in self._architecture:
            # "auto" parameters (n_neurons) as resolved in fit (n_neurons_)
            params[name] = getattr(self, f"{name}_" if name in AUTO_PARAMS else name)
        return params


class AtomSetsBase(_ModuleFromParams, NeuralEstimatorBase):
    """Builds :class:`~skatomsets.nn.AtomSetsModule` from the estimator's parameters."""

    _set_input = True
    _auto_family = "set"
    #: ``n_neurons="auto"`` below 50,000 training rows (see ``_auto.SIZE_RULES``)
    _auto_n_neurons = 64
    _architecture = SET_ARCHITECTURE
    _parameter_constraints: dict[str, list[Any]] = {**SET_ARCHITECTURE, **AUTO_TRAINING}

    def _module_class(self) -> type:
        return AtomSetsModule

    def _make_module_params(self, n_features: int, n_outputs: int) -> dict[str, Any]:
        params = super()._make_module_params(n_features, n_outputs)
        params["n_extras"] = getattr(self, "n_extras_in_", 0)
        return params

    def _check_X(self, X: Any, reset: bool) -> RaggedSets:
        """Sets as the base class checks them, with their extra inputs standardised.

        In ``fit`` (``reset``) the extra columns' names, mean and scale are recorded
        (``extra_names_in_``, ``extras_mean_``, ``extras_scale_``); afterwards X must carry
        the same extra columns.
        """
        sets = super()._check_X(X, reset=reset)
        if reset:
            self.n_extras_in_ = sets.n_extras
            self.extra_names_in_ = None if sets.extras is None else sets.extra_names.copy()
            if sets.extras is None:
                self.extras_mean_ = self.extras_scale_ = None
                return sets
            ex = sets.extras.astype(np.float64)
            self.extras_mean_ = ex.mean(axis=0)
            scale = ex.std(axis=0)
            self.extras_scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self._check_extra_columns(sets)
            if sets.extras is None:
                return sets
        scaled = (sets.extras - self.extras_mean_) / self.extras_scale_
        return sets.with_extras(scaled.astype(np.float32), sets.extra_names)

    def _check_extra_columns(self, sets: RaggedSets) -> None:
        expected = getattr(self, "extra_names_in_", None)
        got = sets.extra_names if sets.extras is not None else None
        name = type(self).__name__
        if expected is None and got is None:
            return
        if expected is None:
            raise InvalidExtraInputError(
                f"{name} was fitted without extra inputs, but X has extra columns "
                f"{list(got)}: give only the materials (or refit with these columns)"
            )
        if got is None:
            raise InvalidExtraInputError(
                f"{name} was fitted with extra inputs {list(expected)}: give X as a DataFrame "
                "with the materials column and these numeric columns"
            )
        if len(got) != len(expected) or (np.asarray(got) != np.asarray(expected)).any():
            raise InvalidExtraInputError(
                f"X has extra columns {list(got)}, but {name} was fitted with "
                f"{list(expected)} (same names, same order)"
            )

    def _check_param_combinations(self) -> None:
        """Batch normalisation needs at least 2 samples per batch."""
        bs = self.batch_size
        if self.batch_norm and isinstance(bs, numbers.Integral) and bs == 1:
            raise ValueError(
                "batch_size=1 cannot train with batch normalisation (it needs at least 2 "
                "samples per batch): use batch_size >= 2 or batch_norm=False"
            )

    def _check_inputs(self, X: Any, reset: bool):
        sets = self._check_X(X, reset=reset)
        if self.embedding_dim is not None:
            z = sets.values[:, 0]
            if (
                sets.n_features != 1
                or not np.array_equal(z, np.round(z))
                or (len(z) and (z.min() < 1 or z.max() > MAX_Z))
            ):
                raise InvalidSetError(
                    "embedding_dim is set, so members must be atomic numbers (one integer "
                    f"column in 1..{MAX_Z}): use ElementEmbeddingFeaturizer('atomic_number')"
                )
        return sets


class MLPBase(_ModuleFromParams, NeuralEstimatorBase):
    """Builds :class:`~skatomsets.nn.MLPModule` for fixed-length features."""

    _set_input = False
    _auto_family = "mlp"
    #: ``n_neurons="auto"`` below 50,000 training rows (chosen by inner validation on 9 of
    #: the 10 MatBench tasks up to 19k rows against 64)
    _auto_n_neurons = 128
    _architecture = MLP_ARCHITECTURE
    _parameter_constraints: dict[str, list[Any]] = {**MLP_ARCHITECTURE, **AUTO_TRAINING}

    def _module_class(self) -> type:
        return MLPModule

    def _check_inputs(self, X: Any, reset: bool):
        return self._check_X(X, reset=reset)
