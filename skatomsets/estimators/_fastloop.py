"""A lean training epoch for the skorch nets: same math, same bits, less Python per batch.

skorch's ``run_single_epoch`` spends, per mini-batch, a few hundred microseconds of Python
around the few tiny kernels of a set model: two ``notify`` rounds over every callback, the
``train_step`` closure and step accumulator, ``module.train()`` over every submodule, and
``Optimizer.step`` (profiler records, hook checks, state regrouping) around one fused Adam
kernel. At batch 16 (the small-data default) that overhead was a quarter of a step.

:class:`LeanLoopMixin` replaces the *training* epoch only (validation keeps skorch's loop)
with a loop that runs the same operations in the same order, so results are bitwise
identical to skorch's loop (``tests/test_training_loop.py`` checks history and predictions
against ``NeuralNet.run_single_epoch``):

* per batch: a new batch row in the history (``history.new_batch()``), zero the gradients
  (set to ``None``, as ``Optimizer.zero_grad()``), ``infer``, ``get_loss``, ``backward``,
  optimizer step, record ``train_loss`` and ``train_batch_size`` in the row;
* callbacks' ``on_batch_begin`` / ``on_grad_computed`` / ``on_batch_end`` are called only for
  the callbacks that override them (in the same order, with the same arguments);
* the modules are put in training mode once per epoch (and again if a callback switched
  the module to evaluation mode);
* a plain fused ``torch.optim.Adam`` (what the estimators use) is stepped by calling its
  kernel directly (:class:`FusedAdamStep`: one step counter ``+= 1``, then
  ``torch._fused_adam_`` with the group's current ``lr``), after the first step went
  through ``Optimizer.step`` to create the state. Every parameter's step counter holds the
  same value, so one counter tensor stands for all of them during the epoch (``torch``
  increments each of them, ~65 us per step for 14 tensors); the optimizer's own counters
  are brought up to date before any callback or fallback could read them and at the end
  of the epoch. Anything else (another optimizer, hooks, amsgrad, several groups, a missing
  gradient, counters that differ) goes through ``optimizer.step()``.

``LEAN_LOOP = False`` (module attribute) or ``net.lean_loop_ = False`` switches back to
skorch's loop.
"""

from __future__ import annotations

from typing import Any

import torch
from skorch.callbacks import Callback
from skorch.dataset import get_len, unpack_data
from skorch.net import NeuralNet
from skorch.utils import TeeGenerator

__all__ = ["LEAN_LOOP", "FusedAdamStep", "LeanLoopMixin"]

#: Use the lean training epoch (set False to run skorch's own loop everywhere).
LEAN_LOOP = True


def _blind_to_step_counters(cb: Any) -> bool:
    """Whether a callback's per-batch hooks never read the optimizer's step counters.

    skorch's scoring, scheduling, timing and printing callbacks (their exact classes) and the
    package's own callbacks: for them :class:`FusedAdamStep` need not write its shared
    counter back every batch.
    """
    from skorch import callbacks as cbs

    safe = (
        cbs.EpochScoring,
        cbs.BatchScoring,
        cbs.PassthroughScoring,
        cbs.LRScheduler,
        cbs.ProgressBar,
        cbs.EpochTimer,
        cbs.PrintLog,
    )
    return type(cb) in safe or type(cb).__module__.startswith("skatomsets.")


def _overrides(obj: Any, name: str, base: type) -> bool:
    """Whether ``obj``'s class overrides the method ``name`` of ``base``."""
    return getattr(type(obj), name, None) is not getattr(base, name)


class FusedAdamStep:
    """``optimizer.step()`` of a plain fused ``torch.optim.Adam``, without the Python around it.

    Bitwise the same update: the same two kernels (step counters ``+= 1``, then
    ``torch._fused_adam_``) with the same arguments as ``torch.optim.adam._fused_adam``.
    Built from an optimizer whose state exists (after its first step); :meth:`usable` says
    whether it applies.
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.ok = self._check(optimizer)
        if self.ok:
            group = optimizer.param_groups[0]
            self.group = group
            self.params = list(group["params"])
            state = [optimizer.state[p] for p in self.params]
            self.steps = [s["step"] for s in state]
            self.exp_avgs = [s["exp_avg"] for s in state]
            self.exp_avg_sqs = [s["exp_avg_sq"] for s in state]
            # one counter for all parameters (their counters are equal: checked)
            self.count = self.steps[0].detach().clone()
            self.counts = [self.count] * len(self.params)
            self.dirty = False

    @staticmethod
    def _check(opt: torch.optim.Optimizer) -> bool:
        from torch.optim import optimizer as _opt

        if type(opt) is not torch.optim.Adam or len(opt.param_groups) != 1:
            return False
        group = opt.param_groups[0]
        if not group.get("fused") or any(
            group.get(k)
            for k in (
                "amsgrad",
                "maximize",
                "capturable",
                "differentiable",
                "decoupled_weight_decay",
            )
        ):
            return False
        if isinstance(group["lr"], torch.Tensor) or any(
            isinstance(b, torch.Tensor) for b in group["betas"]
        ):
            return False
        if getattr(opt, "grad_scale", None) is not None or getattr(opt, "found_inf", None):
            return False
        if (
            opt._optimizer_step_pre_hooks
            or opt._optimizer_step_post_hooks
            or _opt._global_optimizer_pre_hooks
            or _opt._global_optimizer_post_hooks
        ):
            return False
        params = group["params"]
        if not params:
            return False
        p0 = params[0]
        for p in params:
            s = opt.state.get(p)
            if (
                not s
                or not {"step", "exp_avg", "exp_avg_sq"} <= s.keys()
                or not isinstance(s["step"], torch.Tensor)
                or p.device != p0.device
                or p.dtype != p0.dtype
                or p.is_complex()
                or not p.requires_grad
            ):
                return False
        first = opt.state[p0]["step"]
        return all(torch.equal(opt.state[p]["step"], first) for p in params)

    def zero_grad(self) -> None:
        """``optimizer.zero_grad()`` (``set_to_none=True``, the default)."""
        for p in self.params:
            p.grad = None

    def sync(self) -> None:
        """Write the shared counter into every parameter's own step counter."""
        if self.dirty:
            with torch.no_grad():
                for step in self.steps:
                    step.copy_(self.count)
            self.dirty = False

    def __call__(self) -> bool:
        """One Adam step; False (after letting ``optimizer.step()`` do it) when it cannot."""
        params = self.params
        grads = [p.grad for p in params]
        if any(g is None for g in grads):  # Adam skips such parameters: let it
            self.sync()
            self.optimizer.step()
            return False
        group = self.group
        beta1, beta2 = group["betas"]
        with torch.no_grad():
            self.count.add_(1)
            self.dirty = True
            torch._fused_adam_(
                params,
                grads,
                self.exp_avgs,
                self.exp_avg_sqs,
                [],
                self.counts,
                amsgrad=False,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )
        return True


class LeanLoopMixin:
    """Mixin for a skorch ``NeuralNet``: the lean training epoch (see the module docstring)."""

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not (
            training
            and iterator is not None
            and LEAN_LOOP
            and getattr(self, "lean_loop_", True)
            and getattr(step_fn, "__func__", None) is NeuralNet.train_step
            and not _overrides(self, "train_step_single", NeuralNet)
            and not _overrides(self, "_zero_grad_optimizer", NeuralNet)
            and not _overrides(self, "_step_optimizer", NeuralNet)
            and not _overrides(self, "get_train_step_accumulator", NeuralNet)
            and not _overrides(self, "on_batch_begin", NeuralNet)
        ):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        return self._lean_train_epoch(iterator, prefix, **fit_params)

    def _lean_train_epoch(self, iterator, prefix, **fit_params) -> None:
        callbacks = [cb for _, cb in self.callbacks_]
        begin = [cb for cb in callbacks if _overrides(cb, "on_batch_begin", Callback)]
        end = [cb for cb in callbacks if _overrides(cb, "on_batch_end", Callback)]
        if _overrides(self, "on_batch_end", NeuralNet):
            end.insert(0, self)
        grad = [cb for cb in callbacks if _overrides(cb, "on_grad_computed", Callback)]
        if _overrides(self, "on_grad_computed", NeuralNet):
            grad.insert(0, self)
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        self._set_training(True)
        # callbacks that might read the optimizer's state mid-epoch see it up to date
        sync_end = not all(_blind_to_step_counters(cb) for cb in end)
        history = self.history
        module = self.module_
        loss_key, size_key = prefix + "_loss", prefix + "_batch_size"
        fast_step: FusedAdamStep | None = None
        batch_count = 0
        # the epoch's list of batch rows: what History.new_batch / record_batch index with
        # History[-1] (skorch's slicing __getitem__, ~10 us a call), taken once
        rows = list.__getitem__(history, -1)["batches"]
        try:
            with torch.enable_grad():
                for batch in iterator:
                    rows.append({})  # history.new_batch()
                    if begin and fast_step is not None:
                        fast_step.sync()
                    for cb in begin:
                        cb.on_batch_begin(self, batch=batch, training=True)
                    if begin and not module.training:
                        self._set_training(True)
                    # skorch's train_step: zero_grad, train_step_single, on_grad_computed, step
                    if fast_step is not None:
                        fast_step.zero_grad()
                    else:
                        for opt in optimizers:
                            opt.zero_grad()
                    Xi, yi = unpack_data(batch)
                    y_pred = self.infer(Xi, **fit_params)
                    loss = self.get_loss(y_pred, yi, X=Xi, training=True)
                    loss.backward()
                    if grad:
                        if fast_step is not None:
                            fast_step.sync()
                        for cb in grad:
                            cb.on_grad_computed(
                                self,
                                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                                batch=batch,
                                training=True,
                            )
                    if fast_step is not None:
                        if not fast_step():
                            fast_step = None
                    else:
                        for opt in optimizers:
                            opt.step()
                        if len(optimizers) == 1:
                            candidate = FusedAdamStep(optimizers[0])
                            fast_step = candidate if candidate.ok else None
                    row = rows[-1]  # history.record_batch(...)
                    row[loss_key] = loss.item()
                    row[size_key] = (
                        get_len(batch[0]) if isinstance(batch, (tuple, list)) else get_len(batch)
                    )
                    if sync_end and fast_step is not None:
                        fast_step.sync()
                    for cb in end:
                        cb.on_batch_end(self, batch=batch, training=True, loss=loss, y_pred=y_pred)
                    if end and not module.training:
                        self._set_training(True)
                    batch_count += 1
        finally:
            if fast_step is not None:  # the optimizer's own step counters, up to date
                fast_step.sync()
        history.record(prefix + "_batch_count", batch_count)
