"""The estimator base: what all neural estimators share between ``fit`` and ``predict``.

The public estimators are plain scikit-learn estimators (``__init__`` only stores
parameters, declared once with their constraints in ``_parameter_constraints``; ``fit``
validates them). Every ``fit`` is made by :func:`fit_method`, and :func:`fit_checked` is
its body: it checks the data,
encodes the targets (:mod:`._targets`), resolves the ``"auto"`` budget (:mod:`._auto`) and
trains ``n_ensemble`` networks with a held-out validation split (:mod:`._split`) and early
stopping that restores the best epoch: the set and MLP networks all at once as one stacked
network (:mod:`._ensemble`), then one skorch net each (:mod:`._net`); MEGNet networks one
after another.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.utils import noop
from torch.func import functional_call

from .._sklearn_compat import fit_context
from .._version import __version__
from ..exceptions import InvalidTargetError
from ..sets import RaggedSets, sets_from_column, to_sets
from ._auto import LR_SCHEDULES, denormals_flushed, resolve_training_params, torch_threads
from ._data import TensorData
from ._docstrings import fit_doc
from ._domain import DomainMixin
from ._ensemble import EnsembleTrainer, can_vectorise
from ._net import (
    _check_trained,
    _SetNet,
    _ValidationScore,
    _warn_interrupted,
    _warn_interrupted_together,
)
from ._progress import ensemble_progress, progress_callbacks
from ._split import _HoldOut
from ._targets import ClassifierMixinNN, RegressorMixinNN

# models pickled before _base.py was split refer to these by their old module
from ._targets import ScaledMAE as ScaledMAE
from ._targets import ValidationAUC as ValidationAUC
from ._weights import check_sample_weight

__all__ = [
    "LR_SCHEDULES",
    "ClassifierMixinNN",
    "NeuralEstimatorBase",
    "RegressorMixinNN",
    "check_device",
    "fit_checked",
    "fit_method",
]


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class NeuralEstimatorBase(DomainMixin, BaseEstimator):
    """Shared ``fit``/``predict`` machinery; see the public estimators for parameters."""

    # set by subclasses
    _set_input: bool = True
    #: dataset class holding checked inputs (and encoded targets) for the networks
    _data_class: type = TensorData

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if getattr(fit, "__qualname__", "").startswith("fit_method."):
            fit.__module__, fit.__qualname__ = cls.__module__, f"{cls.__qualname__}.fit"

    # --------------------------------------------------------------- hooks for subclasses
    def _make_module_params(self, n_features: int, n_outputs: int) -> dict[str, Any]:
        raise NotImplementedError

    def _module_class(self) -> type:
        raise NotImplementedError

    def _n_features(self, X: Any) -> int:
        """Input width handed to :meth:`_make_module_params` (X as ``_check_inputs`` gave it)."""
        return X.n_features if isinstance(X, RaggedSets) else X.shape[1]

    # --------------------------------------------------------------- input checks
    def _check_param_combinations(self) -> None:
        """Rules that tie parameters together (each one alone is in ``_parameter_constraints``)."""

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
    def _fit(self, X: Any, y: Any, sample_weight: Any = None):
        """The body of ``fit`` (see :func:`fit_method`)."""
        return fit_checked(self, X, y, sample_weight)

    def _device(self) -> str:
        return check_device(self.device)

    def _fit_nets(
        self, data: TensorData, n_features: int, n_outputs: int, criterion: Any, score: Any
    ) -> None:
        """Train ``n_ensemble`` networks on ``data``; ``score`` = (name, fn, lower_is_better).

        Set and MLP networks are trained together as one stacked network
        (:mod:`._ensemble`); other networks (MEGNet) one after another.
        """
        rng = check_random_state(self.random_state)
        seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=self.n_ensemble_)]
        # each member's (training, held-out validation) rows, as its _HoldOut cuts them; the
        # held-out ones are kept: the auto model scores candidates on them (skatomsets.auto)
        splits = self._member_splits(seeds, data)
        self.validation_indices_ = [valid for _, valid in splits]
        if can_vectorise(self._module_class(), data):
            self._fit_nets_together(seeds, splits, data, n_features, n_outputs, criterion, score)
            _check_trained(self)
            self.skatomsets_version_ = __version__
            return
        self.nets_ = []
        for seed in seeds:
            net = self._fit_one(seed, data, n_features, n_outputs, criterion, score)
            if getattr(net, "interrupted_", False):
                _warn_interrupted(self, net)
                if net.completed_epochs_ > 0:
                    self.nets_.append(net)
                if not self.nets_:
                    del self.nets_
                    raise KeyboardInterrupt(
                        "training interrupted before any epoch completed"
                    ) from None
                break
            self.nets_.append(net)
        _check_trained(self)
        self.skatomsets_version_ = __version__

    def _uses_validation(self, data: Any) -> bool:
        return bool(self.validation_fraction_) and len(data) >= 2

    def _member_splits(self, seeds: list[int], data: Any) -> list[tuple[Any, Any]]:
        """Each member's (training, validation) row indices (validation None: no split)."""
        if not self._uses_validation(data):
            return [(np.arange(len(data)), None) for _ in seeds]
        stratify = self._is_classifier()
        return [_HoldOut(self.validation_fraction_, stratify, s).indices(data) for s in seeds]

    def _fit_nets_together(
        self, seeds, splits, data, n_features, n_outputs, criterion, score
    ) -> None:
        """Every member at once (:class:`._ensemble.EnsembleTrainer`), then one net each."""
        module_params = self._make_module_params(n_features, n_outputs)
        module_class = self._module_class()
        modules = []
        for seed in seeds:  # each member's initial weights, as the sequential path makes them
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                modules.append(module_class(**module_params))
        use_valid = self._uses_validation(data)
        trainer = EnsembleTrainer(
            modules,
            data,
            splits,
            [np.random.default_rng(seed) for seed in seeds],
            criterion,
            score,
            lr=self.lr_,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size_,
            max_epochs=self.max_epochs_,
            patience=self.patience_ if use_valid else None,
            cosine=self.lr_schedule_ == "cosine",
            device=self._device(),
            verbose=self.verbose,
            progress=ensemble_progress(),
        )
        self.__dict__.pop("nets_", None)
        with torch.random.fork_rng(devices=[]):  # dropout draws; the caller's RNG untouched
            torch.manual_seed(seeds[0])
            try:
                result = trainer.run()
            except KeyboardInterrupt:
                _warn_interrupted_together(self, 1, None)
                raise KeyboardInterrupt("training interrupted before any epoch completed") from None
        nets = []
        for k, seed in enumerate(seeds):
            net = self._make_net(
                seed, n_features, n_outputs, criterion, score, use_valid, progress=False
            )
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                net.initialize()
            net.module_.load_state_dict(result.states[k])
            net.history = result.histories[k]
            net.shuffle_rng_ = result.shuffle_rngs[k]
            net.interrupted_ = result.interrupted_epoch is not None
            net.completed_epochs_ = len(net.history)
            net.last_epoch_state_ = None
            if self.lr_schedule_ == "cosine":  # where skorch's scheduler would have left it
                done = len(net.history) / self.max_epochs_
                for group in net.optimizer_.param_groups:
                    group["lr"] = self.lr_ * (1 + math.cos(math.pi * done)) / 2
            nets.append(net)
        self.nets_ = nets
        if result.interrupted_epoch is not None:
            _warn_interrupted_together(self, result.interrupted_epoch, nets[0])

    def _make_net(
        self, seed, n_features, n_outputs, criterion, score, use_valid, progress: bool = True
    ) -> _SetNet:
        """The skorch net of one member (not initialised)."""
        device = self._device()
        callbacks: list[Any] = []
        train_split = None
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
        if progress:
            callbacks.extend(progress_callbacks())  # epoch bars inside training_progress()
        return _SetNet(
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

    def _fit_one(self, seed, data, n_features, n_outputs, criterion, score) -> _SetNet:
        use_valid = self._uses_validation(data)
        net = self._make_net(seed, n_features, n_outputs, criterion, score, use_valid)
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
                outs.append(self._forward_one(net, data))
        stacked = np.stack(outs)
        _check_finite_outputs(stacked)
        return stacked

    def _forward_one(self, net: Any, data: Any) -> np.ndarray:
        """One member's outputs, float64 ``(n_samples, n_outputs)``.

        On the CPU the trained network runs in float64 on float64 batches (its own module,
        called with float64 copies of its float32 weights and buffers through
        ``torch.func.functional_call``; forward hooks on it still fire), so that a row's
        prediction does not depend on what else is in ``X``: float32 BLAS picks its kernels
        by the number of rows, which moves float32 outputs at the 1e-7 level (e.g. one row
        alone against the same row in a batch). Predictions agree with the float32 network
        to float32 rounding, except for inputs so large that the float32 network overflows:
        those give large finite outputs here, which :func:`_check_finite_outputs` refuses
        once they leave float32's range. On a GPU the float32 network runs as trained.
        """
        if not isinstance(data, TensorData) or torch.device(net.device).type != "cpu":
            return net.forward(data, training=False, device="cpu").numpy().astype(np.float64)
        module = net.module_
        module.train(False)  # as skorch's forward(training=False)
        state = {
            name: t.to(torch.float64) if t.is_floating_point() else t
            for name, t in (*module.named_parameters(), *module.named_buffers())
        }
        with torch.no_grad():
            outs = [
                functional_call(module, state, (batch.to_float(torch.float64),))
                for batch, _ in net.get_iterator(data, training=False)
            ]
        return torch.cat(outs).numpy()

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


def _check_finite_outputs(outs: np.ndarray) -> None:
    """Never hand back NaN / inf predictions silently: name the first row that has one."""
    # outputs beyond float32's range come from inputs that overflow the float32 network
    ok = np.isfinite(outs) & (np.abs(outs) <= np.finfo(np.float32).max)
    bad = ~ok.all(axis=(0, 2)) if outs.size else np.zeros(0, bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row}: the network output is NaN, infinite or beyond float32's range for "
            f"{int(bad.sum())} sample(s) (input features far outside the training range)"
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


def fit_checked(est: NeuralEstimatorBase, X: Any, y: Any, sample_weight: Any = None):
    """The body of every ``fit``: check inputs, encode targets, train the networks.

    Each parameter has been validated against ``_parameter_constraints`` by then (the
    ``fit`` methods are wrapped in scikit-learn's ``_fit_context``).

    With ``sample_weight``, rows of weight zero are dropped before anything is fitted (so a
    zero weight is exactly the same as leaving the row out), uniform weights are the same as
    none, and otherwise the loss, the validation metric and the target scaling are weighted.
    """
    est._check_param_combinations()
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
    with torch_threads(getattr(est, "n_threads_", None)), denormals_flushed():
        est._fit_nets(dataset, n_features, n_outputs, est._criterion(), est._score())
        est._fit_domain(dataset)
    return est


def fit_method(inputs: str, task: str):
    """The public ``fit`` of an estimator family: parameters validated, then ``self._fit``.

    ``inputs`` ("sets", "features" or "structures") and ``task`` ("regressor" or
    "classifier") pick the docstring (:func:`~._docstrings.fit_doc`), so that
    ``help(Est.fit)`` describes that estimator's X and y.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        return self._fit(X, y, sample_weight)

    fit.__doc__ = fit_doc(inputs, task)
    return fit_context(prefer_skip_nested_validation=True)(fit)
