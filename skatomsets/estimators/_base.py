"""What all neural estimators share: checks, target handling, skorch training, ensembles.

The public estimators are plain scikit-learn estimators (``__init__`` only stores
parameters). ``fit`` validates the data, encodes the targets and trains ``n_ensemble``
skorch networks (:class:`_SetNet`, a tiny ``NeuralNet`` subclass fed by
:class:`~skatomsets.estimators._data.TensorData`) with a held-out validation split and early
stopping that restores the best epoch.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from skorch.utils import noop

from .._version import __version__
from ..exceptions import InvalidTargetError
from ..sets import RaggedSets, sets_from_column, to_sets
from ._auto import LR_SCHEDULES, check_training_params, resolve_training_params, torch_threads
from ._data import BatchIterator, TensorData
from ._domain import DomainMixin
from ._fastloop import LeanLoopMixin
from ._progress import progress_callbacks
from ._weights import check_sample_weight, weighted_loss

__all__ = ["LR_SCHEDULES", "ClassifierMixinNN", "NeuralEstimatorBase", "RegressorMixinNN"]


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


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
            return BatchIterator(dataset, self.batch_size, self.shuffle_rng_, dev, True)
        return BatchIterator(dataset, max(self.batch_size, 2048), None, dev)

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


class _HoldOut:
    """Random (stratified for classifiers) hold-out validation split for skorch."""

    def __init__(self, fraction: float, stratify: bool, seed: int) -> None:
        self.fraction = fraction
        self.stratify = stratify
        self.seed = seed

    def __call__(self, dataset: TensorData, y: Any = None, **kwargs: Any):
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
                return dataset.subset(np.sort(train)), dataset.subset(np.sort(valid))
        self._check_train_size(n, n_valid)
        perm = rng.permutation(n)
        return dataset.subset(np.sort(perm[n_valid:])), dataset.subset(np.sort(perm[:n_valid]))

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


class ScaledMAE:
    """Validation MAE in target units from standardised targets and predictions."""

    def __init__(self, scale: np.ndarray) -> None:
        self.scale = scale

    def __call__(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        err = np.abs(y_true - y_pred) * self.scale
        if sample_weight is None or not sample_weight.sum() > 0:
            return float(np.mean(err))
        return float(np.average(err.reshape(len(err), -1).mean(axis=1), weights=sample_weight))


class ValidationAUC:
    """Validation ROC-AUC from logits (one-vs-rest for multiclass).

    When the validation split lacks a class (tiny datasets) the AUC is undefined; the mean
    probability of the true class is used instead, so that higher is still better.
    Ties in AUC (e.g. a perfectly ranked validation set for many epochs) are broken by the
    validation cross-entropy, through a term below 1e-10: the AUC is ranking-only, and the
    first epoch to reach the best AUC may still be poorly calibrated.
    """

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes

    def __call__(
        self, y_true: np.ndarray, logits: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        w = sample_weight
        if w is not None and not w.sum() > 0:
            w = None
        logits_t = torch.from_numpy(logits).double()
        proba = torch.softmax(logits_t, dim=1).numpy()
        per = torch.nn.functional.cross_entropy(
            logits_t, torch.from_numpy(y_true), reduction="none"
        ).numpy()
        xent = float(per.mean() if w is None else np.average(per, weights=w))
        tie_break = 1e-10 / (1.0 + xent)
        if len(np.unique(y_true[w > 0] if w is not None else y_true)) < self.n_classes:
            p_true = proba[np.arange(len(y_true)), y_true]
            return float(np.average(p_true, weights=w)) + tie_break
        if self.n_classes == 2:
            return float(roc_auc_score(y_true, proba[:, 1], sample_weight=w)) + tie_break
        return float(roc_auc_score(y_true, proba, multi_class="ovr", sample_weight=w)) + tie_break


class NeuralEstimatorBase(DomainMixin, BaseEstimator):
    """Shared ``fit``/``predict`` machinery; see the public estimators for parameters."""

    # set by subclasses
    _set_input: bool = True
    #: dataset class holding checked inputs (and encoded targets) for the networks
    _data_class: type = TensorData

    # --------------------------------------------------------------- hooks for subclasses
    def _make_module_params(self, n_features: int, n_outputs: int) -> dict[str, Any]:
        raise NotImplementedError

    def _module_class(self) -> type:
        raise NotImplementedError

    def _n_features(self, X: Any) -> int:
        """Input width handed to :meth:`_make_module_params` (X as ``_check_inputs`` gave it)."""
        return X.n_features if isinstance(X, RaggedSets) else X.shape[1]

    # --------------------------------------------------------------- input checks
    def _check_params(self) -> None:
        check_training_params(self)

    def _check_X(self, X: Any, reset: bool) -> RaggedSets | np.ndarray:
        if self._set_input:
            X = sets_from_column(X)  # a featurize_dataframe column of per-material sets
            if isinstance(X, RaggedSets):
                if reset:
                    self.n_features_in_ = X.n_features
                elif X.n_features != self.n_features_in_:
                    raise ValueError(
                        f"X has {X.n_features} features, but {type(self).__name__} is "
                        f"expecting {self.n_features_in_} features as input"
                    )
                _check_set_feature_names(self, X, reset)
                return X
            arr = validate_data(self, X, reset=reset, dtype=np.float32)
            return to_sets(arr)
        return validate_data(self, X, reset=reset, dtype=np.float32)

    def _check_targets_numeric(self, y: Any, n: int) -> np.ndarray:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        y_arr = np.asarray(y)
        if y_arr.ndim == 0 or len(y_arr) != n:
            raise InvalidTargetError(
                f"X has {n} samples but y has {0 if y_arr.ndim == 0 else len(y_arr)}"
            )
        return y_arr

    # --------------------------------------------------------------- training
    def _device(self) -> str:
        return check_device(self.device)

    def _fit_nets(
        self, data: TensorData, n_features: int, n_outputs: int, criterion: Any, score: Any
    ) -> None:
        """Train ``n_ensemble`` networks on ``data``; ``score`` = (name, fn, lower_is_better)."""
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_ensemble_)
        self.nets_ = []
        for seed in seeds:
            net = self._fit_one(int(seed), data, n_features, n_outputs, criterion, score)
            if getattr(net, "interrupted_", False):
                _warn_interrupted(self, net)
                if net.completed_epochs_ > 0:
                    self.nets_.append(net)
                if not self.nets_:
                    del self.nets_
                    raise KeyboardInterrupt("training interrupted before any epoch completed")
                break
            self.nets_.append(net)
        _check_trained(self)
        self.skatomsets_version_ = __version__

    def _fit_one(self, seed, data, n_features, n_outputs, criterion, score) -> _SetNet:
        device = self._device()
        callbacks: list[Any] = []
        train_split = None
        use_valid = bool(self.validation_fraction_) and len(data) >= 2
        name, fn, lower_is_better = score
        if self.lr_schedule_ == "cosine":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                        T_max=self.max_epochs_,
                    ),
                )
            )
        if use_valid:
            train_split = _HoldOut(self.validation_fraction_, self._is_classifier(), seed)
            callbacks.append(("valid_score", _ValidationScore(name, fn)))
            if self.patience_ is not None:
                callbacks.append(
                    (
                        "early_stopping",
                        EarlyStopping(
                            monitor=name,
                            patience=self.patience_,
                            lower_is_better=lower_is_better,
                            threshold=0.0,
                            threshold_mode="abs",
                            load_best=True,
                            sink=print if self.verbose else noop,
                        ),
                    )
                )
        callbacks.extend(progress_callbacks())  # epoch bars inside training_progress()
        net = _SetNet(
            module=self._module_class(),
            criterion=criterion,
            optimizer=torch.optim.Adam,
            lr=self.lr_,
            optimizer__weight_decay=self.weight_decay,
            # fused Adam: one kernel for all parameters (~20% faster epochs on CPU)
            optimizer__fused=torch.device(device).type in ("cpu", "cuda"),
            max_epochs=self.max_epochs_,
            batch_size=self.batch_size_,
            train_split=train_split,
            callbacks=callbacks,
            device=device,
            verbose=self.verbose,
            **{
                f"module__{k}": v
                for k, v in self._make_module_params(n_features, n_outputs).items()
            },
        )
        net.shuffle_rng_ = np.random.default_rng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net.initialize()
            net.partial_fit(data)
        return net

    def _forward_all(self, X: Any) -> np.ndarray:
        """Raw outputs of every ensemble member: array (n_ensemble, n_samples, n_outputs)."""
        check_is_fitted(self)
        data = self._data_class(self._check_X(X, reset=False))
        outs = []
        with torch_threads(getattr(self, "n_threads_", None)):
            for net in self.nets_:
                if len(data) == 0:
                    outs.append(np.zeros((0, net.module_.out.out_features)))
                    continue
                out = net.forward(data, training=False, device="cpu")
                outs.append(out.numpy().astype(np.float64))
        stacked = np.stack(outs)
        _check_finite_outputs(stacked)
        return stacked

    # --------------------------------------------------------------- sklearn plumbing
    def _is_classifier(self) -> bool:
        return False

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "nets_")

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.get("skatomsets_version_")
        if saved is not None and saved != __version__:
            warnings.warn(
                f"this {type(self).__name__} was saved with skatomsets {saved} and is loaded "
                f"with {__version__}; predictions may differ",
                UserWarning,
                stacklevel=2,
            )
        self.__dict__.update(state)

    @property
    def history_(self) -> list[Any]:
        """Training history (skorch ``History``) of each ensemble member."""
        check_is_fitted(self)
        return [net.history for net in self.nets_]

    @property
    def best_epochs_(self) -> list[int]:
        """Epoch (1-based) whose weights were kept, for each ensemble member."""
        check_is_fitted(self)
        out = []
        for net, hist in zip(self.nets_, self.history_, strict=True):
            name = next((cb.monitor for n, cb in net.callbacks_ if n == "early_stopping"), None)
            if name is None or not hist or name not in hist[0]:
                out.append(len(hist))
                continue
            vals = np.asarray(hist[:, name], dtype=float)
            lower = dict(net.callbacks_)["early_stopping"].lower_is_better
            out.append(int(np.argmin(vals) if lower else np.argmax(vals)) + 1)
        return out


class RegressorMixinNN:
    """Target scaling and prediction for the neural regressors."""

    def _encode_y(self, y: Any, n: int, sample_weight: np.ndarray | None = None) -> np.ndarray:
        y_arr = self._check_targets_numeric(y, n)
        if y_arr.dtype == object or y_arr.dtype.kind in "USb":
            try:
                y_arr = y_arr.astype(np.float64)
            except (TypeError, ValueError):
                rows = [i for i, v in enumerate(y_arr.ravel()) if not _is_number(v)]
                raise InvalidTargetError(
                    f"non-numeric target {_plain(y_arr.ravel()[rows[0]])!r}", row=rows[0]
                ) from None
        y_arr = y_arr.astype(np.float64)
        if y_arr.ndim > 2:
            raise InvalidTargetError(f"y must be 1-D or 2-D, got {y_arr.ndim}-D")
        bad = ~np.isfinite(y_arr.reshape(n, -1)).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidTargetError(f"target {y_arr[i].tolist()} is NaN or infinite", row=i)
        self._y_ndim = y_arr.ndim
        y2 = y_arr.reshape(n, -1)
        # weighted when sample weights are given (then a weight-w row counts as w copies)
        self.y_mean_ = np.average(y2, axis=0, weights=sample_weight)
        scale = np.sqrt(np.average((y2 - self.y_mean_) ** 2, axis=0, weights=sample_weight))
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        return ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _criterion(self) -> type:
        from ._params import LOSSES

        return LOSSES[self.loss_]

    def _score(self):
        return ("valid_mae", ScaledMAE(self.y_scale_), True)

    def predict(self, X: Any, return_std: bool = False):
        """Predict targets (mean over the ensemble).

        Parameters
        ----------
        X : RaggedSets or array-like
            Featurized inputs, as in ``fit``.
        return_std : bool, default=False
            Also return the standard deviation over the ensemble members (needs
            ``n_ensemble >= 2``): a deep-ensemble uncertainty estimate.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        y_std : ndarray, same shape, only if ``return_std``
        """
        outs = self._forward_all(X) * self.y_scale_ + self.y_mean_
        mean = outs.mean(axis=0)
        std = outs.std(axis=0)
        if self._y_ndim == 1:
            mean, std = mean[:, 0], std[:, 0]
        if return_std:
            if len(self.nets_) < 2:
                raise ValueError("return_std=True needs an ensemble: set n_ensemble >= 2")
            return mean, std
        return mean

    def _more_tags_regressor(self, tags):
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class ClassifierMixinNN:
    """Label encoding, ROC-AUC early stopping and probabilities for the neural classifiers."""

    def _encode_y(self, y: Any, n: int, sample_weight: np.ndarray | None = None) -> np.ndarray:
        from sklearn.utils.multiclass import check_classification_targets

        y_arr = self._check_targets_numeric(y, n)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is raveled.",
                _data_conversion_warning(),
                stacklevel=3,
            )
            y_arr = y_arr.ravel()
        if y_arr.dtype.kind == "f":
            bad = ~np.isfinite(y_arr)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InvalidTargetError(
                    f"class label {y_arr[i].tolist()} is NaN or infinite", row=i
                )
        _check_label_types(y_arr)
        check_classification_targets(y_arr)
        self.classes_, codes = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) < 2:
            raise InvalidTargetError(
                f"only one class ({_plain(self.classes_[0])!r}) is present in y; a classifier "
                "needs at "
                "least 2 classes"
            )
        return codes.astype(np.int64)

    def _criterion(self) -> type:
        return torch.nn.CrossEntropyLoss

    def _score(self):
        return ("valid_auc", ValidationAUC(len(self.classes_)), False)

    def predict_proba(self, X: Any, return_std: bool = False):
        """Class probabilities (mean over the ensemble), columns ordered as ``classes_``.

        Parameters
        ----------
        X : RaggedSets or array-like
            Featurized inputs, as in ``fit``.
        return_std : bool, default=False
            Also return the standard deviation of each class probability over the ensemble
            members (needs ``n_ensemble >= 2``): a deep-ensemble uncertainty estimate.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        proba_std : ndarray of shape (n_samples, n_classes), only if ``return_std``
        """
        logits = self._forward_all(X)
        proba = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
        if return_std:
            if len(self.nets_) < 2:
                raise ValueError("return_std=True needs an ensemble: set n_ensemble >= 2")
            return proba.mean(axis=0), proba.std(axis=0)
        return proba.mean(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each sample."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _is_classifier(self) -> bool:
        return True


def _check_set_feature_names(est: Any, X: RaggedSets, reset: bool) -> None:
    """``feature_names_in_`` for sets, as scikit-learn does for DataFrames.

    Featurizers name their columns (``megnet16_0``, ``megnet_V2_5``...); a table of the same
    width from another featurizer (or another MEGNet level) would otherwise be accepted
    silently at predict time. Generic names (``x0``, ``x1``... of hand-built sets) are not
    checked.
    """
    names = None if X.feature_names is None else [str(n) for n in X.feature_names]
    if names == [f"x{j}" for j in range(X.n_features)]:
        names = None
    if reset:
        if names is None:
            est.__dict__.pop("feature_names_in_", None)
        else:
            est.feature_names_in_ = np.asarray(names, dtype=object)
        return
    fitted = getattr(est, "feature_names_in_", None)
    if fitted is None or names is None or list(fitted) == names:
        return
    j = next(k for k, (a, b) in enumerate(zip(fitted, names, strict=True)) if a != b)
    raise ValueError(
        f"The feature names should match those that were passed during fit: column {j} is "
        f"{names[j]!r} but {type(est).__name__} was fitted with {fitted[j]!r} (sets from a "
        "different featurizer, element table or MEGNet level?)"
    )


def _check_label_types(y: np.ndarray) -> None:
    """Class labels that numpy can sort: 1-D, no None, not strings mixed with numbers."""
    if y.ndim != 1:
        raise InvalidTargetError(
            f"classifier targets must be 1-D class labels, got an array of shape {y.shape} "
            "(multi-output classification is not supported)"
        )
    if y.dtype != object:
        return
    kinds: dict[str, int] = {}
    for i, v in enumerate(y.tolist()):
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            raise InvalidTargetError(f"class label {v!r} is missing (None or NaN)", row=i)
        kind = "string" if isinstance(v, (str, bytes)) else "number"
        if not isinstance(v, (str, bytes, numbers.Number)):
            raise InvalidTargetError(
                f"class label {v!r} of type {type(v).__name__} is neither a string nor a number",
                row=i,
            )
        kinds.setdefault(kind, i)
    if len(kinds) > 1:
        raise InvalidTargetError(
            f"class labels mix strings and numbers (row {kinds['string']} is "
            f"{y[kinds['string']]!r}, row {kinds['number']} is {_plain(y[kinds['number']])!r}): "
            "use one type for all labels"
        )


def _plain(v: Any) -> Any:
    """A numpy scalar as the Python value (messages show ``'high'``, not ``np.str_('high')``)."""
    return v.item() if isinstance(v, np.generic) else v


def _check_finite_outputs(outs: np.ndarray) -> None:
    """Never hand back NaN / inf predictions silently: name the first row that has one."""
    bad = ~np.isfinite(outs).all(axis=(0, 2)) if outs.size else np.zeros(0, bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row}: the network output is NaN or infinite for {int(bad.sum())} sample(s) "
            "(input features far outside the training range, or values overflowing float32)"
        )


def check_device(device: str) -> str:
    """``device`` resolved (``"auto"``), or a ValueError saying which devices exist."""
    resolved = resolve_device(device)
    try:
        dev = torch.device(resolved)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device {device!r} is not a torch device: {exc}") from None
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    available = ["cpu"]
    if cuda:
        available += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if mps:
        available.append("mps")
    ok = dev.type == "cpu" or (dev.type == "mps" and mps)
    if dev.type == "cuda" and cuda:
        ok = dev.index is None or dev.index < torch.cuda.device_count()
    if not ok:
        raise ValueError(
            f"device={device!r} is not available with this torch build ({torch.__version__}); "
            f"available: {', '.join(repr(a) for a in available)} (or 'auto')"
        )
    return resolved


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _data_conversion_warning() -> type[Warning]:
    from sklearn.exceptions import DataConversionWarning

    return DataConversionWarning


def fit_checked(est: NeuralEstimatorBase, X: Any, y: Any, sample_weight: Any = None):
    """The body of every ``fit``: check inputs, encode targets, train the networks.

    With ``sample_weight``, rows of weight zero are dropped before anything is fitted (so a
    zero weight is exactly the same as leaving the row out), uniform weights are the same as
    none, and otherwise the loss, the validation metric and the target scaling are weighted.
    """
    data = est._check_inputs(X, reset=True)
    n = len(data)
    y_enc = est._encode_y(y, n)  # checks every row (errors name the user's rows)
    sw = check_sample_weight(sample_weight, n)
    if sw is not None:
        keep = np.flatnonzero(sw > 0)
        if len(keep) < n:
            data = est._data_class(data).subset(keep).X
            y = y.iloc[keep] if hasattr(y, "iloc") else np.asarray(y)[keep]
        sw = sw[keep]
        if np.all(sw == sw[0]):  # the loss is normalised by the weights: uniform == none
            sw = None
        y_enc = est._encode_y(y, len(keep), sample_weight=sw)
        n = len(keep)
    if n < 2:
        raise ValueError(f"{type(est).__name__} needs at least 2 samples to fit, got {n} sample")
    n_features = est._n_features(data)
    n_outputs = len(est.classes_) if est._is_classifier() else y_enc.shape[1]
    # "auto" parameters -> fitted attributes (batch_size_, max_epochs_, ...); see _auto.py
    for name, value in resolve_training_params(est, n).items():
        setattr(est, f"{name}_", value)
    extra = {} if sw is None else {"sample_weight": sw.astype(np.float32)}
    dataset = est._data_class(data, y_enc, **extra)
    with torch_threads(getattr(est, "n_threads_", None)):
        est._fit_nets(dataset, n_features, n_outputs, est._criterion(), est._score())
        est._fit_domain(dataset)
    return est
