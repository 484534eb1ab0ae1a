"""The part of AtomSetsRegressor / AtomSetsClassifier that is about the set model."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InvalidExtraInputError, InvalidSetError
from ..inputs import MAX_Z
from ..nn.modules import AtomSetsModule, MLPModule
from ..sets import RaggedSets
from ._base import NeuralEstimatorBase
from ._params import check_architecture


class AtomSetsBase(NeuralEstimatorBase):
    """Builds :class:`~skatomsets.nn.AtomSetsModule` from the estimator's parameters."""

    _set_input = True
    _auto_family = "set"
    #: ``n_neurons="auto"`` below 50,000 training rows (see ``_auto.SIZE_RULES``)
    _auto_n_neurons = 64

    def _module_class(self) -> type:
        return AtomSetsModule

    def _make_module_params(self, n_features: int, n_outputs: int) -> dict[str, Any]:
        return {
            "n_features": n_features,
            "n_outputs": n_outputs,
            "n_layer_before_readout": self.n_layer_before_readout,
            "n_layer_after_readout": self.n_layer_after_readout,
            "n_neurons": self.n_neurons_,
            "readout": self.readout,
            "activation": self.activation,
            "embedding_dim": self.embedding_dim,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "n_extras": getattr(self, "n_extras_in_", 0),
        }

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

    def _check_inputs(self, X: Any, reset: bool):
        check_architecture(self)
        self._check_params()
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


class MLPBase(NeuralEstimatorBase):
    """Builds :class:`~skatomsets.nn.MLPModule` for fixed-length features."""

    _set_input = False
    _auto_family = "mlp"
    #: ``n_neurons="auto"`` below 50,000 training rows (chosen by inner validation on 9 of
    #: the 10 MatBench tasks up to 19k rows against 64)
    _auto_n_neurons = 128

    def _module_class(self) -> type:
        return MLPModule

    def _make_module_params(self, n_features: int, n_outputs: int) -> dict[str, Any]:
        return {
            "n_features": n_features,
            "n_outputs": n_outputs,
            "n_layers": self.n_layers,
            "n_neurons": self.n_neurons_,
            "activation": self.activation,
            "dropout": self.dropout,
        }

    def _check_inputs(self, X: Any, reset: bool):
        check_architecture(self)
        self._check_params()
        return self._check_X(X, reset=reset)
