"""What all neural estimators share: checks, target handling, skorch training, ensembles.

The public estimators are plain scikit-learn estimators (``__init__`` only stores
parameters). ``fit`` validates the data, encodes the targets and trains ``n_ensemble``
skorch networks (:class:`_SetNet`, a tiny ``NeuralNet`` subclass fed by
:class:`~skatomsets.estimators._data.TensorData`) with a held-out validation split and early
stopping that restores the best epoch.
"""

from __future__ import annotations

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
from ..sets import RaggedSets, to_sets
from ._auto import LR_SCHEDULES, check_training_params, resolve_training_params, torch_threads
from ._data import BatchIterator, TensorData

__all__ = ["LR_SCHEDULES", "ClassifierMixinNN", "NeuralEstimatorBase", "RegressorMixinNN"]


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class _SetNet(NeuralNet):
    """skorch ``NeuralNet`` that batches :class:`TensorData` by slicing (no DataLoader)."""

    def get_dataset(self, X: Any, y: Any = None) -> TensorData:
        # TensorData, or a counterpart with the same interface (e.g. _graph_data.GraphData)
        if isinstance(X, TensorData) or (hasattr(X, "batches") and hasattr(X, "subset")):
            return X
        raise TypeError(f"expected TensorData, got {type(X).__name__}")

    def get_iterator(self, dataset: TensorData, training: bool = False) -> BatchIterator:
        if training:
            return BatchIterator(dataset, self.batch_size, self.shuffle_rng_)
        return BatchIterator(dataset, max(self.batch_size, 2048))

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

    def infer(self, x: Any, **fit_params: Any) -> torch.Tensor:
        return self.module_(x.to(self.device))

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, y_true.to(y_pred.device))


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
                split = StratifiedShuffleSplit(1, test_size=n_valid, random_state=self.seed)
                train, valid = next(split.split(np.zeros(n), dataset.y))
                return dataset.subset(np.sort(train)), dataset.subset(np.sort(valid))
        perm = rng.permutation(n)
        return dataset.subset(np.sort(perm[n_valid:])), dataset.subset(np.sort(perm[:n_valid]))


class _ValidationScore(Callback):
    """Records a metric of the validation predictions each epoch (no extra forward pass)."""

    def __init__(self, name: str, score: Any) -> None:
        self.name = name
        self.score = score

    def on_epoch_begin(self, net: NeuralNet, **kwargs: Any) -> None:
        self.preds_: list[torch.Tensor] = []
        self.trues_: list[torch.Tensor] = []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs) -> None:
        if not training:
            self.preds_.append(y_pred.detach().float().cpu())
            self.trues_.append(batch[1])

    def on_epoch_end(self, net: NeuralNet, **kwargs: Any) -> None:
        if self.preds_:
            value = self.score(torch.cat(self.trues_).numpy(), torch.cat(self.preds_).numpy())
            net.history.record(self.name, float(value))


class ScaledMAE:
    """Validation MAE in target units from standardised targets and predictions."""

    def __init__(self, scale: np.ndarray) -> None:
        self.scale = scale

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(np.abs(y_true - y_pred) * self.scale))


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

    def __call__(self, y_true: np.ndarray, logits: np.ndarray) -> float:
        logits_t = torch.from_numpy(logits).double()
        proba = torch.softmax(logits_t, dim=1).numpy()
        xent = float(torch.nn.functional.cross_entropy(logits_t, torch.from_numpy(y_true)))
        tie_break = 1e-10 / (1.0 + xent)
        if len(np.unique(y_true)) < self.n_classes:
            return float(np.mean(proba[np.arange(len(y_true)), y_true])) + tie_break
        if self.n_classes == 2:
            return float(roc_auc_score(y_true, proba[:, 1])) + tie_break
        return float(roc_auc_score(y_true, proba, multi_class="ovr")) + tie_break


class NeuralEstimatorBase(BaseEstimator):
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
            if isinstance(X, RaggedSets):
                if reset:
                    self.n_features_in_ = X.n_features
                elif X.n_features != self.n_features_in_:
                    raise ValueError(
                        f"X has {X.n_features} features, but {type(self).__name__} is "
                        f"expecting {self.n_features_in_} features as input"
                    )
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
        return resolve_device(self.device)

    def _fit_nets(
        self, data: TensorData, n_features: int, n_outputs: int, criterion: Any, score: Any
    ) -> None:
        """Train ``n_ensemble`` networks on ``data``; ``score`` = (name, fn, lower_is_better)."""
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_ensemble_)
        self.nets_ = []
        for seed in seeds:
            net = self._fit_one(int(seed), data, n_features, n_outputs, criterion, score)
            self.nets_.append(net)
            if getattr(net, "interrupted_", False):
                warnings.warn(
                    f"training interrupted in epoch {len(net.history)} of ensemble member "
                    f"{len(self.nets_)}/{self.n_ensemble_}; keeping the best weights so far",
                    UserWarning,
                    stacklevel=3,
                )
                break
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
        return np.stack(outs)

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

    def _encode_y(self, y: Any, n: int) -> np.ndarray:
        y_arr = self._check_targets_numeric(y, n)
        if y_arr.dtype == object or y_arr.dtype.kind in "USb":
            try:
                y_arr = y_arr.astype(np.float64)
            except (TypeError, ValueError):
                rows = [i for i, v in enumerate(y_arr.ravel()) if not _is_number(v)]
                raise InvalidTargetError(
                    f"non-numeric target {y_arr.ravel()[rows[0]]!r}", row=rows[0]
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
        self.y_mean_ = y2.mean(axis=0)
        scale = y2.std(axis=0)
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

    def _encode_y(self, y: Any, n: int) -> np.ndarray:
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
        check_classification_targets(y_arr)
        self.classes_, codes = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) < 2:
            raise InvalidTargetError(
                f"only one class ({self.classes_[0]!r}) is present in y; a classifier needs at "
                "least 2 classes"
            )
        return codes.astype(np.int64)

    def _criterion(self) -> type:
        return torch.nn.CrossEntropyLoss

    def _score(self):
        return ("valid_auc", ValidationAUC(len(self.classes_)), False)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (mean over the ensemble), columns ordered as ``classes_``."""
        logits = self._forward_all(X)
        proba = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
        return proba.mean(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each sample."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _is_classifier(self) -> bool:
        return True


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _data_conversion_warning() -> type[Warning]:
    from sklearn.exceptions import DataConversionWarning

    return DataConversionWarning


def fit_checked(est: NeuralEstimatorBase, X: Any, y: Any):
    """The body of every ``fit``: check inputs, encode targets, train the networks."""
    data = est._check_inputs(X, reset=True)
    n = len(data)
    y_enc = est._encode_y(y, n)
    if n < 2:
        raise ValueError(f"{type(est).__name__} needs at least 2 samples to fit, got {n} sample")
    n_features = est._n_features(data)
    n_outputs = len(est.classes_) if est._is_classifier() else y_enc.shape[1]
    # "auto" parameters -> fitted attributes (batch_size_, max_epochs_, ...); see _auto.py
    for name, value in resolve_training_params(est, n).items():
        setattr(est, f"{name}_", value)
    with torch_threads(getattr(est, "n_threads_", None)):
        est._fit_nets(
            est._data_class(data, y_enc), n_features, n_outputs, est._criterion(), est._score()
        )
    return est
