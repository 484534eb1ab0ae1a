"""The training loop: the skorch network (:class:`_SetNet`), its callbacks and interrupts.

:class:`_SetNet` is a tiny ``NeuralNet`` subclass fed by
:class:`~skatomsets.estimators._data.TensorData` (or ``_graph_data.GraphData``): batches are
slices, not a DataLoader. Ctrl-C keeps the last completed epoch (or skorch's best one);
:func:`_check_trained` refuses fits that did not train or diverged.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from ._data import BatchIterator, TensorData
from ._fastloop import LeanLoopMixin
from ._weights import weighted_loss

__all__ = [
    "_SetNet",
    "_ValidationScore",
    "_check_trained",
    "_warn_interrupted",
    "_warn_interrupted_together",
]


class _SetNet(LeanLoopMixin, NeuralNet):
    """skorch ``NeuralNet`` that batches :class:`TensorData` by slicing (no DataLoader).

    Training epochs run :class:`~skatomsets.estimators._fastloop.LeanLoopMixin`'s loop (the
    same operations as skorch's, less Python per batch).
    """

    def get_dataset(self, X: Any, y: Any = None) -> TensorData:
        # TensorData, or a counterpart with the same interface (e.g. _graph_data.GraphData)
        if isinstance(X, TensorData) or (hasattr(X, "batches") and hasattr(X, "subset")):
            return X
        raise TypeError(f"expected TensorData, got {type(X).__name__}")

    def get_iterator(self, dataset: TensorData, training: bool = False) -> BatchIterator:
        # on a GPU, TensorData copies each epoch's inputs there once (batches are views)
        dev = self.device if isinstance(dataset, TensorData) else None
        if training:
            # a set module that trains on the distinct member rows alone gets batches
            # without the members (no per-epoch gather of them)
            trains_on_mix = getattr(getattr(self, "module_", None), "trains_on_mix", None)
            members = not (callable(trains_on_mix) and trains_on_mix())
            return BatchIterator(
                dataset, self.batch_size, self.shuffle_rng_, dev, True, members=members
            )
        return BatchIterator(dataset, dataset.eval_batch_size, None, dev)

    def fit_loop(self, X: Any, y: Any = None, epochs: Any = None, **kwargs: Any):
        # skorch swallows KeyboardInterrupt (then restores the best weights in
        # on_train_end); remember it so that an ensemble stops training further members.
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **kwargs)
        except KeyboardInterrupt:
            # skorch's EarlyStopping stops training by raising KeyboardInterrupt too
            stopper = dict(self.callbacks_).get("early_stopping")
            self.interrupted_ = stopper is None or stopper.misses_ < stopper.patience
            raise

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        # without early stopping nothing else keeps a completed epoch's weights: keep them
        # so that an interrupt never leaves a half-trained epoch's weights (small copy)
        super().on_epoch_end(net, **kwargs)
        if "early_stopping" not in dict(self.callbacks_):
            self.last_epoch_state_ = {
                k: v.detach().clone() for k, v in self.module_.state_dict().items()
            }

    def partial_fit(self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any):
        self.last_epoch_state_ = None
        super().partial_fit(X, y, classes=classes, **fit_params)
        if getattr(self, "interrupted_", False):
            _settle_interrupt(self)
        self.last_epoch_state_ = None
        return self

    def infer(self, x: Any, **fit_params: Any) -> torch.Tensor:
        return self.module_(x.to(self.device))

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, (tuple, list)):  # (targets, sample weights)
            return weighted_loss(self.criterion_, y_pred, *y_true)
        return self.criterion_(y_pred, y_true.to(y_pred.device))


def _settle_interrupt(net: _SetNet) -> None:
    """After Ctrl-C: drop the unfinished epoch from the history, keep completed weights.

    With early stopping, skorch has already restored the best epoch's weights; without it,
    the weights at the end of the last completed epoch are restored. ``completed_epochs_``
    is 0 when the interrupt came before any epoch ended (the weights are then unusable).
    """
    net.interrupted_epoch_ = len(net.history)
    if net.history and "train_loss" not in net.history[-1]:
        del net.history[-1]
    net.completed_epochs_ = len(net.history)
    state = getattr(net, "last_epoch_state_", None)
    if state is not None:
        net.module_.load_state_dict(state)


def _warn_interrupted(est: Any, net: _SetNet) -> None:
    member = f"ensemble member {len(est.nets_) + 1}/{est.n_ensemble_}"
    if net.completed_epochs_ == 0:
        kept = "no epoch completed, so this member is dropped"
    elif "early_stopping" in dict(net.callbacks_):
        kept = "keeping the best weights so far"
    else:
        kept = f"keeping the weights of the last completed epoch ({net.completed_epochs_})"
    warnings.warn(
        f"training interrupted in epoch {net.interrupted_epoch_} of {member}; {kept}",
        UserWarning,
        stacklevel=4,
    )


def _warn_interrupted_together(est: Any, epoch: int, net: _SetNet | None) -> None:
    """Ctrl-C while the members trained together: what each of them keeps."""
    members = f"the ensemble of {est.n_ensemble_} networks trained together"
    if net is None or net.completed_epochs_ == 0:
        kept = "no epoch completed, so no network is kept"
    elif "early_stopping" in dict(net.callbacks_):
        kept = "each network keeps its best weights so far"
    else:
        kept = (
            f"each network keeps the weights of the last completed epoch ({net.completed_epochs_})"
        )
    warnings.warn(
        f"training interrupted in epoch {epoch} of {members}; {kept}",
        UserWarning,
        stacklevel=4,
    )


def _check_trained(est: Any) -> None:
    """Refuse a fit that did not train or diverged, instead of predicting NaN or p = 0.5.

    Called once after all ensemble members are trained.
    """
    n = len(est.nets_)
    for i, net in enumerate(est.nets_, start=1):
        hist = net.history
        losses = np.asarray([h.get("train_loss", np.nan) for h in hist], dtype=float)
        finite_weights = all(
            torch.isfinite(t).all()
            for t in net.module_.state_dict().values()
            if t.is_floating_point()
        )
        if not finite_weights or not np.isfinite(losses).any():
            shown = ", ".join(f"{v:.4g}" for v in losses[:5]) + (", ..." if len(losses) > 5 else "")
            raise ValueError(
                f"training of {type(est).__name__} diverged: ensemble member {i}/{n} ended with "
                f"non-finite weights (training loss per epoch: {shown}); lower lr (now "
                f"{est.lr!r}) or standardise the input features"
            )


class _ValidationScore(Callback):
    """Records a metric of the validation predictions each epoch (no extra forward pass)."""

    def __init__(self, name: str, score: Any) -> None:
        self.name = name
        self.score = score

    def on_epoch_begin(self, net: NeuralNet, **kwargs: Any) -> None:
        self.preds_: list[torch.Tensor] = []
        self.trues_: list[torch.Tensor] = []
        self.weights_: list[torch.Tensor] = []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs) -> None:
        if not training:
            self.preds_.append(y_pred.detach().float().cpu())
            target = batch[1]
            if isinstance(target, (tuple, list)):  # (targets, sample weights)
                target, w = target
                self.weights_.append(w)
            self.trues_.append(target)

    def on_epoch_end(self, net: NeuralNet, **kwargs: Any) -> None:
        if self.preds_:
            y_true, y_pred = torch.cat(self.trues_).numpy(), torch.cat(self.preds_).numpy()
            if self.weights_:
                value = self.score(y_true, y_pred, sample_weight=torch.cat(self.weights_).numpy())
            else:
                value = self.score(y_true, y_pred)
            net.history.record(self.name, float(value))
