"""Shared parameter documentation and validation of the architecture parameters."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from ..nn.modules import ACTIVATIONS, READOUTS
from ._auto import AUTO_RULES_DOC

LOSSES = {"mse": torch.nn.MSELoss, "mae": torch.nn.L1Loss, "huber": torch.nn.HuberLoss}

TRAINING_PARAMS_DOC = """\
    loss : {"mse", "mae", "huber"}, default="mse"
        Training loss on the standardised targets (regressors only).
    max_epochs : int, default=1000
        Maximum number of epochs.
    batch_size : int, default=128
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=0.0
        Adam weight decay.
    lr_schedule : {"constant", "cosine"}, default="constant"
        "cosine" anneals the learning rate from ``lr`` towards 0 over ``max_epochs``
        (per epoch): steadier validation scores late in training on large data sets.
    validation_fraction : float or None, default=0.1
        Fraction of the training data held out (stratified for classifiers) to pick the best
        epoch: validation MAE for regressors, ROC-AUC for classifiers. None or 0 trains on
        everything for ``max_epochs``.
    patience : int or None, default=200
        Stop after this many epochs without improvement of the validation metric and restore
        the best epoch's weights (the paper uses 200). None disables early stopping.
    n_ensemble : int, default=1
        Number of independently initialised networks (a deep ensemble); predictions are
        their mean, and ``predict(X, return_std=True)`` gives their spread.
    random_state : int, RandomState or None, default=None
        Seeds initialisation, shuffling and the validation split. Fixed seeds give identical
        results on CPU, run to run and process to process.
    device : str, default="auto"
        Torch device: "cpu", "cuda", "cuda:1", or "auto" (CUDA when available).
    verbose : int, default=0
        1 prints a line per epoch.

    The budget parameters (``loss``, ``max_epochs``, ``batch_size``, ``lr``,
    ``lr_schedule``, ``validation_fraction``, ``patience``, ``n_ensemble``) also accept
    "auto": the size rules of :class:`~skatomsets.AtomSetsRegressor`; resolved values are
    stored as fitted attributes (``batch_size_``, ...).

"""

#: The training parameters of the set and MLP estimators, whose budget defaults to "auto".
AUTO_TRAINING_PARAMS_DOC = """\
    loss : {"auto", "mae", "mse", "huber"}, default="auto"
        Training loss on the standardised targets (regressors only). "auto" = "mae", the
        metric that picks the best epoch.
    max_epochs : int or "auto", default="auto"
        Maximum number of epochs.
    batch_size : int or "auto", default="auto"
    lr : float or "auto", default="auto"
        Adam learning rate.
    weight_decay : float, default=0.0
        Adam weight decay.
    lr_schedule : {"auto", "constant", "cosine"}, default="auto"
        "cosine" anneals the learning rate from ``lr`` towards 0 over ``max_epochs``
        (per epoch): steadier validation scores late in training on large data sets.
    validation_fraction : float, None or "auto", default="auto"
        Fraction of the training data held out (stratified for classifiers) to pick the best
        epoch: validation MAE for regressors, ROC-AUC for classifiers. None or 0 trains on
        everything for ``max_epochs``.
    patience : int, None or "auto", default="auto"
        Stop after this many epochs without improvement of the validation metric and restore
        the best epoch's weights (the paper uses 200). None disables early stopping.
    n_ensemble : int or "auto", default="auto"
        Number of independently initialised networks (a deep ensemble); predictions are
        their mean, and ``predict(X, return_std=True)`` gives their spread.
    n_threads : int or "auto", default="auto"
        Torch CPU threads used during ``fit`` and ``predict`` (torch's own setting is
        restored afterwards).
    random_state : int, RandomState or None, default=None
        Seeds initialisation, shuffling and the validation split. Fixed seeds give identical
        results on CPU, run to run and process to process.
    device : str, default="auto"
        Torch device: "cpu", "cuda", "cuda:1", or "auto" (CUDA when available).
    verbose : int, default=0
        1 prints a line per epoch.
        The "auto" parameters are resolved in ``fit``: see Notes.

"""

#: The Notes section of those estimators: the "auto" rules.
AUTO_NOTES_DOC = (
    """\
    Notes
    -----
"""
    + AUTO_RULES_DOC
    + """
    Parameters set explicitly are used as given (for example ``batch_size=128`` with
    everything else "auto").

"""
)


def check_architecture(est) -> None:
    """Validate the AtomSets architecture parameters of ``est`` (called in ``fit``)."""
    for name in ("n_layer_before_readout", "n_layer_after_readout"):
        v = getattr(est, name, 1)
        if not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    for name in ("n_neurons", "n_layers"):
        v = getattr(est, name, 1)
        if name == "n_neurons" and isinstance(v, str) and v == "auto":
            continue
        if not isinstance(v, numbers.Integral) or (v < 1 and name == "n_neurons") or v < 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if getattr(est, "readout", "mean") not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {est.readout!r}")
    if est.activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {est.activation!r}")
    if not (isinstance(est.dropout, numbers.Real) and 0 <= est.dropout < 1):
        raise ValueError(f"dropout must be in [0, 1), got {est.dropout!r}")
    if hasattr(est, "loss") and est.loss not in (*LOSSES, "auto"):
        raise ValueError(f"loss must be one of {(*LOSSES, 'auto')}, got {est.loss!r}")
    _check_batch_norm(est)
    emb = getattr(est, "embedding_dim", None)
    if emb is not None and (not isinstance(emb, numbers.Integral) or emb < 1):
        raise ValueError(f"embedding_dim must be None or a positive integer, got {emb!r}")


def _check_batch_norm(est) -> None:
    """``batch_norm`` is a real bool, and batch normalisation gets >= 2 samples per batch."""
    bn = getattr(est, "batch_norm", None)
    if bn is None:
        return
    if not isinstance(bn, (bool, np.bool_)):
        shown = bn.item() if isinstance(bn, np.generic) else bn
        raise ValueError(f"batch_norm must be True or False, got {shown!r}")
    if bn and isinstance(est.batch_size, numbers.Integral) and est.batch_size == 1:
        raise ValueError(
            "batch_size=1 cannot train with batch normalisation (it needs at least 2 samples "
            "per batch): use batch_size >= 2 or batch_norm=False"
        )
