"""Every estimator parameter, declared once with its constraints.

The public estimators compose their ``_parameter_constraints`` (scikit-learn's
declarative validation, :mod:`sklearn.utils._param_validation`, run once at the start of
``fit``) from these dictionaries. The architecture dictionaries are also the list of
parameters handed, under the same names, to the torch module
(:meth:`~skatomsets.estimators._atomsets_base.AtomSetsBase._make_module_params`) or to
:class:`~skatomsets.megnet.MEGNetConfig`. Checks that involve the data or several
parameters at once (``"auto"`` resolution, ``batch_size=1`` with batch normalisation,
``freeze`` against the parent) stay in ``fit``.
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._sklearn_compat import Interval, Options, StrOptions
from ..megnet.model import MEGNet
from ..nn.modules import ACTIVATIONS, READOUTS
from ._auto import AUTO, LR_SCHEDULES

__all__ = [
    "AUTO_TRAINING",
    "LOSSES",
    "MEGNET_ARCHITECTURE",
    "MLP_ARCHITECTURE",
    "SET_ARCHITECTURE",
    "TRAINING",
]

LOSSES = {"mse": torch.nn.MSELoss, "mae": torch.nn.L1Loss, "huber": torch.nn.HuberLoss}


class _Count(Interval):
    """An integer interval that refuses ``True`` / ``False`` (``max_epochs=True`` is a typo)."""

    def is_satisfied_by(self, val: Any) -> bool:
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


class _PositiveInts(Options):
    """A non-empty tuple (or list) of positive integers: the layer widths of MEGNet.

    An ``Options`` subclass only because scikit-learn accepts its own constraint classes.
    """

    def __init__(self) -> None:
        super().__init__(object, set())

    def is_satisfied_by(self, val: Any) -> bool:
        return (
            isinstance(val, (tuple, list))
            and len(val) > 0
            and all(POSITIVE_INT.is_satisfied_by(u) for u in val)
        )

    def __str__(self) -> str:
        return "a non-empty tuple of positive ints"


POSITIVE_INT = _Count(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = _Count(Integral, 0, None, closed="left")
_AUTO = StrOptions({AUTO})

# ------------------------------------------------------------------------- architectures
#: AtomSets architecture: the keywords of :class:`~skatomsets.nn.AtomSetsModule` that are
#: estimator parameters of the same name (``n_neurons`` after ``"auto"`` resolution).
SET_ARCHITECTURE: dict[str, list[Any]] = {
    "n_layer_before_readout": [NON_NEGATIVE_INT],
    "n_layer_after_readout": [NON_NEGATIVE_INT],
    "n_neurons": [POSITIVE_INT, _AUTO],
    "readout": [StrOptions(set(READOUTS)), _AUTO],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "embedding_dim": [POSITIVE_INT, None],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
}

#: MLP architecture: the keywords of :class:`~skatomsets.nn.MLPModule`, likewise.
MLP_ARCHITECTURE: dict[str, list[Any]] = {
    "n_layers": [NON_NEGATIVE_INT],
    "n_neurons": [POSITIVE_INT, _AUTO],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}

#: MEGNet from scratch: the fields of :class:`~skatomsets.megnet.MEGNetConfig` that are
#: estimator parameters of the same name (ignored when fine-tuning a parent).
MEGNET_ARCHITECTURE: dict[str, list[Any]] = {
    "n_blocks": [POSITIVE_INT],
    "embedding_dim": [POSITIVE_INT],
    "encoder_units": [_PositiveInts()],
    "block_units": [_PositiveInts()],
    "set2set_hidden": [POSITIVE_INT],
    "head_units": [_PositiveInts()],
    "cutoff": [Interval(Real, 0, None, closed="neither")],
}

#: Where MEGNet starts, and what it accepts.
MEGNET_START: dict[str, list[Any]] = {
    # None, "pretrained" / a shipped model's name / a file path, or a MEGNet module
    "init": [None, str, Path, MEGNet],
    "freeze": [NON_NEGATIVE_INT],
    "allow_isolated": ["boolean"],
}

# ------------------------------------------------------------------------- training
#: Training parameters of every neural estimator; the budget ones accept "auto" (resolved
#: in ``fit`` by :mod:`._auto`; the MEGNet estimators default to fixed values).
TRAINING: dict[str, list[Any]] = {
    "max_epochs": [POSITIVE_INT, _AUTO],
    "batch_size": [POSITIVE_INT, _AUTO],
    "lr": [Interval(Real, 0, None, closed="neither"), _AUTO],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "lr_schedule": [StrOptions({*LR_SCHEDULES, AUTO})],
    "validation_fraction": [Interval(Real, 0, 1, closed="left"), None, _AUTO],
    "patience": [POSITIVE_INT, None, _AUTO],
    "n_ensemble": [POSITIVE_INT, _AUTO],
    "random_state": ["random_state"],
    "device": [str],
    "verbose": ["verbose"],
}

#: The set and MLP estimators also choose their torch threads.
AUTO_TRAINING: dict[str, list[Any]] = {**TRAINING, "n_threads": [POSITIVE_INT, _AUTO]}

#: ``loss`` of the set and MLP regressors ("auto" = "mae").
AUTO_LOSS: dict[str, list[Any]] = {"loss": [StrOptions({*LOSSES, AUTO})]}

#: ``loss`` of the MEGNet regressor (no "auto").
LOSS: dict[str, list[Any]] = {"loss": [StrOptions(set(LOSSES))]}
