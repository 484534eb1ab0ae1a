"""The part of AtomSetsRegressor / AtomSetsClassifier that is about the set model."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InvalidSetError
from ..inputs import MAX_Z
from ..nn.modules import AtomSetsModule, MLPModule
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
        }

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
