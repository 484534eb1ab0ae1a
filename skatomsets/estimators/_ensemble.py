"""Train every member of an ensemble at once, as one vectorised network.

The defaults fit ``n_ensemble_`` networks (5 below 2,000 rows). Their cost is not
arithmetic but eager PyTorch's fixed price per operation on 64-wide matrices, paid per
member, per batch. Here the members' weights are stacked along a leading ``member`` axis
(``(E, out, in)`` for a dense layer) and one training step runs every member's step with
batched products (``torch.baddbmm`` / ``torch.bmm``): the same number of kernel launches
as one network, each E times larger.

Each member keeps everything it had when the networks were trained one after another:

* its own initialisation (the module built under its own seed, the same weights as the
  sequential path gave member ``k``), its own hold-out validation split (the same rows as
  ``_split._HoldOut`` with its seed) and its own shuffling of its training rows (the same
  order as before: ``np.random.default_rng(seed).permutation`` each epoch), so every member
  sees the same batches as when it was trained alone;
* its own early stopping (skorch's ``EarlyStopping`` rule: a strictly better validation
  score resets the count, ``patience`` misses stop the member) and its own best weights
  (batch-norm running statistics included). A member that stopped is dropped from the
  stacked tensors (with its Adam state) at the end of that epoch, so the others go on at
  the cost of fewer members; training ends when every member stopped or ``max_epochs``;
* its own history (a skorch ``History`` with ``train_loss``, ``valid_loss``, the
  validation score and per-batch rows), its batch-norm statistics (per member and
  channel), its dropout masks (independent draws) and its sample weights.

The loss is the sum of the members' losses, so each member's gradient is its own loss's
gradient; Adam is elementwise, so one fused Adam over the stacked tensors is every
member's Adam (all members take the same number of steps).

When it is done the members are unstacked into ordinary skorch nets
(:class:`~skatomsets.estimators._net._SetNet`, initialised, with the member's weights and
history), so prediction (float64 on the CPU), the domain of applicability, ``history_``,
``best_epochs_``, pickling and everything downstream see exactly what they saw before.

Applies to :class:`~skatomsets.nn.AtomSetsModule` and :class:`~skatomsets.nn.MLPModule` on
:class:`~skatomsets.estimators._data.TensorData` (the set and MLP estimators); the MEGNet
estimators train their members one after another. ``VECTORISED = False`` (module attribute)
switches every estimator back to the sequential path.

Ctrl-C keeps, for every member, what an interrupt kept before: the best weights so far
(with early stopping) or those of the last completed epoch; the unfinished epoch is dropped
from the histories. An interrupt before any epoch completed propagates.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from skorch.history import History
from torch import nn

from .. import _csr
from ..nn.modules import AtomSetsModule, MLPModule
from ..nn.readout import WeightedMean, WeightedSet2Set, set2set_steps
from ..nn.segment import segment_softmax, segment_sum
from ..sets import RaggedSets
from ._data import TensorData, _bounds
from ._fastloop import FusedAdamStep
from ._targets import ScaledMAE

__all__ = [
    "VECTORISED",
    "EnsembleResult",
    "EnsembleTrainer",
    "StackedNetwork",
    "can_vectorise",
]

#: Train the members of set and MLP ensembles together (False: one after another).
VECTORISED = True
#: Stacked training reads sets from their distinct member rows (``SetBatch.table`` /
#: ``mix``) whenever there are at most this many (element embeddings: ~80), even when a
#: single network would gather the members: per-operation cost, not arithmetic, dominates.
STACKED_MIX_ROWS = 256


def can_vectorise(module_class: type, data: Any) -> bool:
    """Whether :func:`train_ensemble` can train networks of ``module_class`` on ``data``."""
    return (
        VECTORISED
        and module_class in (AtomSetsModule, MLPModule)
        and type(data) is TensorData
        and (isinstance(data.X, RaggedSets) or module_class is MLPModule)
    )


# ------------------------------------------------------------------------ the stacked network
@dataclass
class _Layer:
    """One step of an :func:`~skatomsets.nn.modules.mlp` ``Sequential``."""

    kind: str  # "linear", "softplus", "relu", "dropout"
    name: str = ""  # parameter prefix of a linear layer
    p: float = 0.0  # dropout rate
    beta: float = 1.0
    threshold: float = 20.0


def _layers(seq: nn.Module, prefix: str) -> list[_Layer]:
    out = []
    for key, layer in seq.named_children():
        if type(layer) is nn.Linear:
            out.append(_Layer("linear", f"{prefix}.{key}"))
        elif type(layer) is nn.Softplus:
            out.append(_Layer("softplus", beta=layer.beta, threshold=layer.threshold))
        elif type(layer) is nn.ReLU:
            out.append(_Layer("relu"))
        elif type(layer) is nn.Dropout:
            if layer.p > 0:
                out.append(_Layer("dropout", p=layer.p))
        else:  # pragma: no cover - mlp() builds only these
            raise TypeError(f"cannot stack a {type(layer).__name__}")
    return out


def _linear(x: torch.Tensor, p: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """Member-wise ``x @ W.T + b`` for ``x`` (E, r, in).

    The stacked layout keeps ``W.T`` as ``(E, in, out)`` and ``b`` as ``(E, 1, out)``
    (:meth:`StackedNetwork.stack`), so that neither the product nor its gradients need a
    transpose or a copy.
    """
    return torch.baddbmm(p[name + ".bias"], x, p[name + ".weight"])


class StackedNetwork:
    """The forward pass of E networks of one architecture whose tensors are stacked.

    Parameters
    ----------
    template : AtomSetsModule or MLPModule
        A module of the architecture (its layers are read, not its weights).
    """

    def __init__(self, template: nn.Module) -> None:
        self.is_set = isinstance(template, AtomSetsModule)
        if self.is_set:
            self.embedding = template.embedding is not None
            self.phi = _layers(template.phi, "phi")
            self.rho = _layers(template.rho, "rho")
            readout = template.readout
            if type(readout) is WeightedMean:
                self.readout = "mean"
            elif type(readout) is WeightedSet2Set:
                self.readout = "set2set"
                self.steps = readout.steps
                self.width = readout.in_features
            else:  # pragma: no cover
                raise TypeError(f"cannot stack the readout {type(readout).__name__}")
            norm = template.norm
            self.norm = type(norm) is nn.BatchNorm1d
            if self.norm:
                self.eps, self.momentum = norm.eps, norm.momentum
            self.n_extras = template.n_extras
            self.on_mix = template.trains_on_mix()
        else:
            self.body = _layers(template.body, "body")
            self.on_mix = False
        self.linear = {name for name, m in template.named_modules() if type(m) is nn.Linear}

    def stack(self, states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """The members' ``state_dict``s as stacked tensors in this class's layout."""
        out = {}
        for key in states[0]:
            t = torch.stack([s[key] for s in states])
            layer, _, kind = key.rpartition(".")
            if layer in self.linear:
                t = t.transpose(1, 2).contiguous() if kind == "weight" else t.unsqueeze(1)
            out[key] = t
        return out

    def unstack(self, stacked: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s ``state_dict`` (CPU tensors) from the stacked layout."""
        out = {}
        for key, t in stacked.items():
            t = t[k].detach()
            layer, _, kind = key.rpartition(".")
            if layer in self.linear:
                t = t.t() if kind == "weight" else t[0]
            out[key] = t.cpu().contiguous().clone()
        return out

    @staticmethod
    def _mlp(x: torch.Tensor, p: dict, layers: list[_Layer], training: bool) -> torch.Tensor:
        for layer in layers:
            if layer.kind == "linear":
                x = _linear(x, p, layer.name)
            elif layer.kind == "softplus":
                x = F.softplus(x, layer.beta, layer.threshold)
            elif layer.kind == "relu":
                x = F.relu(x)
            else:
                x = F.dropout(x, layer.p, training)
        return x

    def forward(
        self, p: dict[str, torch.Tensor], batch: _StackedBatch, training: bool
    ) -> torch.Tensor:
        """Outputs ``(E, b, n_outputs)`` of the E members on their own batches."""
        if not self.is_set:
            x = self._mlp(batch.rows, p, self.body, training)
            return _linear(x, p, "out")
        n_members, n_sets = batch.n_members, batch.n_sets
        if batch.mix is not None:
            table = batch.table
            if self.embedding:  # the distinct atomic numbers, looked up per member
                x = p["embedding.weight"][:, table[:, 0].long()]
            else:
                x = table.unsqueeze(0).expand(n_members, *table.shape)
            h = self._mlp(x, p, self.phi, training)  # (E, u, h)
            mix = batch.mix
            if self.readout == "mean":
                x = torch.bmm(mix, h)
            else:
                absent = mix <= 0

                def attend(q: torch.Tensor) -> torch.Tensor:
                    e = torch.bmm(q, h.transpose(1, 2)).masked_fill(absent, float("-inf"))
                    z = mix * torch.exp(e - e.amax(dim=2, keepdim=True))
                    a = z / z.sum(dim=2, keepdim=True).clamp_min(torch.finfo(z.dtype).tiny)
                    return torch.bmm(a, h)

                x = self._set2set(p, attend, n_members, n_sets)
        else:
            # members padded per network: (E, m_max, d), then back to the flat rows
            values = batch.values
            if self.embedding:
                z = values[:, 0].long()
                x = p["embedding.weight"][batch.member, z]
            else:
                x = values
            padded = x.new_zeros((n_members * batch.m_max, x.shape[1]))
            padded = padded.index_copy(0, batch.pad_index, x)
            h = self._mlp(padded.view(n_members, batch.m_max, -1), p, self.phi, training)
            h = h.reshape(n_members * batch.m_max, -1).index_select(0, batch.pad_index)
            seg, w, n_flat = batch.segment, batch.weights, n_members * n_sets
            if self.readout == "mean":
                total = segment_sum(w[:, None] * h, seg, n_flat)
                norm = segment_sum(w, seg, n_flat)
                x = (total / norm[:, None]).view(n_members, n_sets, -1)
            else:

                def attend(q: torch.Tensor) -> torch.Tensor:
                    qf = q.reshape(n_flat, -1)
                    e = (h * qf[seg]).sum(dim=-1)
                    a = segment_softmax(e, seg, n_flat, w)
                    return segment_sum(a[:, None] * h, seg, n_flat).view(n_members, n_sets, -1)

                x = self._set2set(p, attend, n_members, n_sets)
        if self.norm:
            x = self._batch_norm(x, p, training)
        if self.n_extras:
            x = torch.cat([x, batch.extras.to(x.dtype)], dim=2)
        x = self._mlp(x, p, self.rho, training)
        return _linear(x, p, "out")

    def _set2set(self, p: dict, attend: Any, n_members: int, n_sets: int) -> torch.Tensor:
        """``WeightedSet2Set._attend_steps`` with each member's LSTM cell (same shortcuts)."""
        d = self.width
        w_ih, w_hh = p["readout.lstm.weight_ih"], p["readout.lstm.weight_hh"]
        bias = (p["readout.lstm.bias_ih"] + p["readout.lstm.bias_hh"]).unsqueeze(1)
        w_q = (w_ih[:, :, :d] + w_hh).transpose(1, 2)
        w_r = w_ih[:, :, d:].transpose(1, 2)
        first = bias.expand(n_members, n_sets, 4 * d)
        return set2set_steps(bias, w_q, w_r, first, self.steps, attend, torch.baddbmm)

    def _batch_norm(self, x: torch.Tensor, p: dict, training: bool) -> torch.Tensor:
        """Batch norm per member and channel: one ``F.batch_norm`` over ``(b, E * c)``."""
        n_members, n_sets, width = x.shape
        flat = x.transpose(0, 1).reshape(n_sets, n_members * width)
        out = F.batch_norm(
            flat,
            p["norm.running_mean"].view(-1),
            p["norm.running_var"].view(-1),
            p["norm.weight"].reshape(-1),
            p["norm.bias"].reshape(-1),
            training,
            self.momentum,
            self.eps,
        )
        return out.view(n_sets, n_members, width).transpose(0, 1)


@dataclass
class _StackedBatch:
    """The E members' own mini-batches (same size), as the stacked network reads them."""

    n_members: int
    n_sets: int
    rows: torch.Tensor | None = None  # MLP: (E, b, d)
    table: torch.Tensor | None = None  # (u, d) distinct member rows
    mix: torch.Tensor | None = None  # (E, b, u)
    values: torch.Tensor | None = None  # (M, d) every member's sets' rows, member by member
    weights: torch.Tensor | None = None  # (M,)
    segment: torch.Tensor | None = None  # (M,) set index in 0..E*b-1
    member: torch.Tensor | None = None  # (M,) owning network
    pad_index: torch.Tensor | None = None  # (M,) row in the (E * m_max) padded layout
    m_max: int = 0
    extras: torch.Tensor | None = None  # (E, b, k)


class _Batcher:
    """Cuts the stacked batches out of a :class:`TensorData` for index arrays ``(E, b)``."""

    def __init__(self, data: TensorData, batch_size: int, on_mix: bool, device: torch.device):
        self.device = device
        X = data.X
        self.is_set = isinstance(X, RaggedSets)
        cpu = device.type == "cpu"

        def put(a: np.ndarray | None) -> torch.Tensor | None:
            if a is None:
                return None
            t = torch.from_numpy(np.ascontiguousarray(a))
            return t if cpu else t.to(device)

        self.mix = self.table = None
        if self.is_set:
            mixed = data._table_and_mix(batch_size, STACKED_MIX_ROWS) if on_mix else None
            if mixed is not None:
                self.table, self.mix = mixed[0].to(device), mixed[1].to(device)
            self.offsets = X.offsets
            self.values_np, self.weights_np = X.values, X.weights
            self.extras = put(X.extras)
        else:
            self.rows = put(np.asarray(X, dtype=np.float32))
            self.extras = None

    def batch(self, flat: torch.Tensor, idx_np: np.ndarray) -> _StackedBatch:
        """The batch of sets ``idx_np`` (E, b), also given flat (member by member) as
        ``flat`` (a tensor on the device): gathers are ``index_select`` on it."""
        n_members, n_sets = idx_np.shape
        out = _StackedBatch(n_members, n_sets)
        if not self.is_set:
            out.rows = self.rows.index_select(0, flat).view(n_members, n_sets, -1)
            return out
        if self.extras is not None:
            out.extras = self.extras.index_select(0, flat).view(n_members, n_sets, -1)
        if self.mix is not None:
            out.table = self.table
            out.mix = self.mix.index_select(0, flat).view(n_members, n_sets, -1)
            return out
        rows, offsets = _csr.gather(self.offsets, idx_np.reshape(-1))
        counts = np.diff(offsets)
        per_member = counts.reshape(n_members, n_sets).sum(axis=1)
        m_max = int(per_member.max()) if len(per_member) else 0
        segment = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        member = segment // n_sets
        first = np.concatenate([[0], np.cumsum(per_member)[:-1]])
        pad_index = member * m_max + (np.arange(len(rows), dtype=np.int64) - first[member])
        dev = self.device
        out.values = torch.from_numpy(self.values_np[rows]).to(dev)
        out.weights = torch.from_numpy(self.weights_np[rows]).to(dev)
        out.segment = torch.from_numpy(segment).to(dev)
        out.member = torch.from_numpy(member).to(dev)
        out.pad_index = torch.from_numpy(pad_index).to(dev)
        out.m_max = m_max
        return out


# ------------------------------------------------------------------------ training
@dataclass
class EnsembleResult:
    """What :func:`train_ensemble` hands back for each member."""

    states: list[dict[str, torch.Tensor]]  # weights and buffers kept, per member
    histories: list[History]
    interrupted_epoch: int | None  # the epoch Ctrl-C cut (1-based), None without interrupt
    completed_epochs: int
    shuffle_rngs: list[np.random.Generator]


def _per_member_loss(criterion: nn.Module, pred: torch.Tensor, y: torch.Tensor, w) -> torch.Tensor:
    """Each member's mean (or sample-weighted mean) loss: shape (E,)."""
    n_members, n_rows = pred.shape[:2]
    if isinstance(criterion, nn.CrossEntropyLoss):
        per = criterion(pred.reshape(n_members * n_rows, -1), y.reshape(-1))
        per = per.view(n_members, n_rows)
    else:
        per = criterion(pred, y)
        if w is None:
            return per.mean(dim=(1, 2))
        per = per.mean(dim=2)
    if w is None:
        return per.mean(dim=1)
    w = w.to(per.dtype)
    return (per * w).sum(dim=1) / w.sum(dim=1).clamp_min(torch.finfo(w.dtype).tiny)


class EnsembleTrainer:
    """The training loop of the stacked members (see the module docstring).

    Parameters
    ----------
    modules : list of nn.Module
        The members, freshly initialised (each under its own seed).
    data : TensorData
        All training rows (targets encoded); each member's rows are ``splits[k][0]``.
    splits : list of (train_idx, valid_idx or None)
    rngs : list of numpy Generator
        Each member's shuffling.
    criterion : type
        The loss class (``reduction="none"`` is used).
    score : (name, fn, lower_is_better)
    """

    def __init__(
        self,
        modules: list[nn.Module],
        data: TensorData,
        splits: list[tuple[np.ndarray, np.ndarray | None]],
        rngs: list[np.random.Generator],
        criterion: type,
        score: tuple[str, Any, bool],
        *,
        lr: float,
        weight_decay: float,
        batch_size: int,
        max_epochs: int,
        patience: int | None,
        cosine: bool,
        device: str,
        verbose: int = 0,
        progress: Any = None,
    ) -> None:
        self.device = torch.device(device)
        self.template = modules[0]
        self.net = StackedNetwork(self.template)
        self.n = len(modules)
        self.data = data
        self.splits = splits
        self.rngs = rngs
        self.criterion = criterion(reduction="none")
        self.score_name, self.score_fn, self.lower = score
        self.lr, self.weight_decay = lr, weight_decay
        self.batch_size, self.max_epochs, self.patience = batch_size, max_epochs, patience
        self.cosine = cosine
        self.verbose = verbose
        self.progress = progress
        states = [m.state_dict() for m in modules]
        self.names = list(states[0])
        self.param_names = {n for n, _ in self.template.named_parameters()}
        self.tensors = {k: v.to(self.device) for k, v in self.net.stack(states).items()}
        self.kept = {k: v.clone() for k, v in self.tensors.items()}
        self.batcher = _Batcher(data, batch_size, self.net.on_mix, self.device)
        y = data.y
        self.y = torch.from_numpy(np.ascontiguousarray(y)).to(self.device)
        sw = data.sample_weight
        self.w = None if sw is None else torch.from_numpy(sw.astype(np.float32)).to(self.device)
        self.histories = [History() for _ in range(self.n)]

    # -- the member axis -----------------------------------------------------------------
    def _params(self, active: list[int]) -> dict[str, torch.Tensor]:
        """Leaf tensors of the active members (parameters require grad), buffers too."""
        idx = torch.tensor(active, device=self.device)
        out = {}
        for k, v in self.tensors.items():
            t = v if len(active) == self.n else v.index_select(0, idx)
            t = t.detach().clone() if len(active) != self.n else t
            if k in self.param_names:
                t.requires_grad_(True)
            out[k] = t
        return out

    def _optimizer(self, params: dict[str, torch.Tensor], old=None, keep=None):
        plist = [params[k] for k in self.names if k in self.param_names]
        fused = self.device.type in ("cpu", "cuda")
        opt = torch.optim.Adam(plist, lr=self.lr, weight_decay=self.weight_decay, fused=fused)
        if old is not None:  # carry the kept members' Adam state over
            sel = torch.tensor(keep, device=self.device)
            for p_new, p_old in zip(plist, old.param_groups[0]["params"], strict=True):
                s = old.state.get(p_old)
                if s:
                    opt.state[p_new] = {
                        "step": s["step"].clone(),
                        "exp_avg": s["exp_avg"].index_select(0, sel).clone(),
                        "exp_avg_sq": s["exp_avg_sq"].index_select(0, sel).clone(),
                    }
        return opt

    # -- one epoch -------------------------------------------------------------------------
    def _targets(self, flat: torch.Tensor, n_members: int) -> tuple[torch.Tensor, Any]:
        y = self.y.index_select(0, flat)
        y = y.view(n_members, -1, *self.y.shape[1:])
        w = None if self.w is None else self.w.index_select(0, flat).view(n_members, -1)
        return y, w

    def train_step(
        self, params: dict, opt: Any, fast: Any, flat: torch.Tensor, idx_np: np.ndarray
    ) -> tuple[torch.Tensor, Any]:
        """One optimizer step of every active member on its batch ``idx_np`` (A, b)
        (``flat``: the same indices, member by member, on the device); their losses (A,)
        and the fused-Adam shortcut to use next."""
        batch = self.batcher.batch(flat, idx_np)
        pred = self.net.forward(params, batch, training=True)
        y, w = self._targets(flat, batch.n_members)
        losses = _per_member_loss(self.criterion, pred, y, w)
        if fast is not None:
            fast.zero_grad()
        else:
            for p in opt.param_groups[0]["params"]:
                p.grad = None
        losses.backward(torch.ones_like(losses))
        if fast is not None:
            if not fast():
                fast = None
        else:
            opt.step()
            candidate = FusedAdamStep(opt)
            fast = candidate if candidate.ok else None
        return losses.detach(), fast

    def evaluate(self, params: dict, idx_np: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """Validation losses (A,) and outputs (A, n_valid, k) float32 on the CPU."""
        outs = []
        step = max(1, TensorData.eval_batch_size)
        with torch.no_grad():
            for a in range(0, idx_np.shape[1], step):
                part = np.ascontiguousarray(idx_np[:, a : a + step])
                flat = torch.from_numpy(part.reshape(-1)).to(self.device)
                outs.append(self.net.forward(params, self.batcher.batch(flat, part), False))
            pred = torch.cat(outs, dim=1)
            flat = torch.from_numpy(np.ascontiguousarray(idx_np).reshape(-1)).to(self.device)
            y, w = self._targets(flat, len(idx_np))
            losses = _per_member_loss(self.criterion, pred, y, w)
        return losses, pred.float().cpu().numpy()

    def _scores(self, pred: np.ndarray, valid_np: np.ndarray) -> list[float]:
        y = self.data.y[valid_np]
        sw = None if self.data.sample_weight is None else self.data.sample_weight[valid_np]
        fn = self.score_fn
        if isinstance(fn, ScaledMAE):  # vectorised over members, same formula
            err = np.abs(y - pred) * fn.scale
            per = err.reshape(*err.shape[:2], -1)
            out = []
            for k in range(len(per)):
                wk = None if sw is None else sw[k]
                if wk is None or not wk.sum() > 0:
                    out.append(float(np.mean(per[k])))
                else:
                    out.append(float(np.average(per[k].mean(axis=1), weights=wk)))
            return out
        return [
            float(fn(y[k], pred[k]) if sw is None else fn(y[k], pred[k], sample_weight=sw[k]))
            for k in range(len(pred))
        ]

    def run(self) -> EnsembleResult:
        n = self.n
        train_idx = [s[0] for s in self.splits]
        valid_idx = [s[1] for s in self.splits]
        use_valid = valid_idx[0] is not None
        early = use_valid and self.patience is not None
        n_train = len(train_idx[0])
        bounds = _bounds(n_train, self.batch_size, merge_single=True)
        active = list(range(n))
        params = self._params(active)
        opt = self._optimizer(params)
        fast: Any = None
        best = [math.inf if self.lower else -math.inf] * n
        misses = [0] * n
        steps = [0] * n
        completed = 0
        interrupted = None
        name = self.score_name
        valid_np = np.stack(valid_idx) if use_valid else None
        if self.progress is not None:
            self.progress.begin(self.max_epochs, members=n)
        try:
            for epoch in range(1, self.max_epochs + 1):
                t0 = time.perf_counter()
                lr = self.lr
                if self.cosine:  # CosineAnnealingLR(T_max=max_epochs), stepped per epoch
                    lr = self.lr * (1 + math.cos(math.pi * (epoch - 1) / self.max_epochs)) / 2
                opt.param_groups[0]["lr"] = lr
                order = np.stack([train_idx[k][self.rngs[k].permutation(n_train)] for k in active])
                # each batch's indices member by member, contiguous: one copy per epoch
                flat = np.concatenate([order[:, a:b].reshape(-1) for a, b in bounds])
                flat_t = torch.from_numpy(flat).to(self.device)
                losses = []
                for a, b in bounds:
                    width = len(active) * (b - a)
                    start = len(active) * a
                    loss, fast = self.train_step(
                        params, opt, fast, flat_t[start : start + width], order[:, a:b]
                    )
                    losses.append(loss)
                batch_losses = torch.stack(losses, dim=1).cpu().numpy()  # (A, n_batches)
                if fast is not None:
                    fast.sync()
                sizes = np.array([b - a for a, b in bounds], dtype=float)
                train_loss = (batch_losses * sizes).sum(axis=1) / sizes.sum()
                if use_valid:
                    vloss, vpred = self.evaluate(params, valid_np[active])
                    vloss = vloss.cpu().numpy()
                    scores = self._scores(vpred, valid_np[active])
                dur = time.perf_counter() - t0
                improved, stopped = [], []
                for pos, k in enumerate(active):
                    steps[k] += len(bounds)
                    row: dict[str, Any] = {
                        "epoch": epoch,
                        "batches": [
                            {"train_loss": float(v), "train_batch_size": int(s)}
                            for v, s in zip(batch_losses[pos], sizes, strict=True)
                        ],
                        "train_batch_count": len(bounds),
                        "train_loss": float(train_loss[pos]),
                    }
                    if use_valid:
                        row["valid_batch_count"] = 1
                        row["valid_loss"] = float(vloss[pos])
                        row[name] = scores[pos]
                    if self.cosine:
                        row["event_lr"] = lr
                    row["dur"] = dur
                    self.histories[k].append(row)
                    if not early:
                        improved.append(pos)
                        continue
                    s = scores[pos]
                    better = s < best[k] if self.lower else s > best[k]
                    if better:
                        best[k] = s
                        misses[k] = 0
                        improved.append(pos)
                    else:
                        misses[k] += 1
                        if misses[k] == self.patience:
                            stopped.append(pos)
                        if best[k] in (math.inf, -math.inf):
                            # never improved (NaN scores): like skorch, nothing to restore,
                            # so the member ends with its current weights
                            improved.append(pos)
                completed = epoch
                self._keep(params, active, improved)
                if self.verbose:
                    self._print_epoch(epoch, active, train_loss, scores if use_valid else None)
                if self.progress is not None:
                    shown = [best[k] for k in range(n)] if early else None
                    self.progress.step(epoch, len(active), name, shown, self.lower)
                if stopped:
                    if self.verbose:
                        for pos in stopped:
                            print(
                                f"Stopping network {active[pos] + 1} since {name} has not "
                                f"improved in the last {self.patience} epochs."
                            )
                    keep = [pos for pos in range(len(active)) if pos not in stopped]
                    if not keep:
                        break
                    self._sync_back(params, active)
                    active = [active[pos] for pos in keep]
                    old = opt
                    params = self._params(active)
                    opt = self._optimizer(params, old, keep)
                    fast = None
        except KeyboardInterrupt:
            interrupted = completed + 1
            if completed == 0:
                raise
        finally:
            if self.progress is not None:
                self.progress.end()
        states = []
        for k in range(n):
            state = self.net.unstack(self.kept, k)
            if "norm.num_batches_tracked" in state:
                state["norm.num_batches_tracked"] = torch.tensor(steps[k], dtype=torch.long)
            states.append(state)
        return EnsembleResult(states, self.histories, interrupted, completed, self.rngs)

    def _keep(self, params: dict, active: list[int], positions: list[int]) -> None:
        """Copy the weights of the members at ``positions`` of ``active`` into ``kept``."""
        if not positions:
            return
        src = torch.tensor(positions, device=self.device)
        dst = torch.tensor([active[p] for p in positions], device=self.device)
        with torch.no_grad():
            for k, v in params.items():
                self.kept[k].index_copy_(0, dst, v.detach().index_select(0, src))

    def _sync_back(self, params: dict, active: list[int]) -> None:
        """Write the active members' current tensors back into the full stacks."""
        dst = torch.tensor(active, device=self.device)
        with torch.no_grad():
            for k, v in params.items():
                if self.tensors[k] is not v:
                    self.tensors[k].index_copy_(0, dst, v.detach())

    def _print_epoch(self, epoch, active, train_loss, scores) -> None:
        parts = [f"epoch {epoch:4d}", f"networks {len(active)}/{self.n}"]
        parts.append("train_loss " + " ".join(f"{v:.4f}" for v in train_loss))
        if scores is not None:
            parts.append(f"{self.score_name} " + " ".join(f"{v:.4f}" for v in scores))
        print("  ".join(parts))
