"""Torch modules of the AtomSets models: ``MLP -> weighted readout -> MLP``, and plain MLPs."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as _module

from ..io.materials import MAX_Z
from .readout import WeightedMean, WeightedSet2Set

__all__ = ["ACTIVATIONS", "READOUTS", "AtomSetsModule", "MLPModule", "make_activation", "mlp"]

READOUTS = ("mean", "set2set")
ACTIVATIONS = ("softplus", "relu")


def make_activation(name: str) -> nn.Module:
    """The activation module for ``"softplus"`` or ``"relu"``."""
    if name == "softplus":
        return nn.Softplus()
    if name == "relu":
        return nn.ReLU()
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def mlp(in_features: int, n_layers: int, n_neurons: int, activation: str, dropout: float = 0.0):
    """``n_layers`` dense layers of ``n_neurons`` with activations (and optional dropout)."""
    layers: list[nn.Module] = []
    width = in_features
    for _ in range(n_layers):
        layers += [nn.Linear(width, n_neurons), make_activation(activation)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = n_neurons
    return nn.Sequential(*layers)


def _hooked(m: nn.Module) -> bool:
    return bool(
        m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks
    )


def _global_hooks() -> bool:
    return bool(
        _module._global_forward_hooks
        or _module._global_forward_pre_hooks
        or _module._global_backward_hooks
        or _module._global_backward_pre_hooks
        or torch._C._get_tracing_state()
    )


def _call(layer: nn.Module, x: torch.Tensor, plain: bool) -> torch.Tensor:
    """``layer(x)``; for the layers of :func:`mlp` without hooks, its functional call directly.

    The same operation with the same arguments as the layer's ``forward`` (so bitwise the
    same result), without ``nn.Module.__call__`` around it: tiny batches spend a noticeable
    part of a step there.
    """
    if plain and not _hooked(layer):
        kind = type(layer)
        if kind is nn.Linear:
            params = layer._parameters  # the dict itself: no Module.__getattr__ per step
            return F.linear(x, params["weight"], params["bias"])
        if kind is nn.Softplus:
            return F.softplus(x, layer.beta, layer.threshold)
        if kind is nn.ReLU:
            return F.relu(x, inplace=layer.inplace)
        if kind is nn.Dropout:
            return F.dropout(x, layer.p, layer.training, layer.inplace)
    return layer(x)


def _run(seq: nn.Module, x: torch.Tensor, plain: bool) -> torch.Tensor:
    """``seq(x)`` for an :func:`mlp` ``Sequential``, layer by layer through :func:`_call`."""
    if not plain or type(seq) is not nn.Sequential or _hooked(seq):
        return seq(x)
    for layer in seq._modules.values():
        x = _call(layer, x, plain)
    return x


class AtomSetsModule(nn.Module):
    """The AtomSets network on a flat batch of weighted sets.

    ``phi`` (an MLP on every member) -> weighted readout -> ``rho`` (an MLP) -> linear output.

    Parameters
    ----------
    n_features : int
        Member feature width (ignored when ``embedding_dim`` is set).
    n_outputs : int
        Number of targets (regression) or classes (classification).
    n_layer_before_readout, n_layer_after_readout : int
        Depth of ``phi`` and ``rho``.
    n_neurons : int
        Width of every hidden layer.
    readout : {"mean", "set2set"}
    activation : {"softplus", "relu"}
    embedding_dim : int or None
        If set, member features are atomic numbers (one column) and go through a trainable
        ``nn.Embedding(MAX_Z + 1, embedding_dim)``: the paper's non-transfer AtomSets.
    dropout : float
        Dropout after each hidden layer.
    batch_norm : bool
        Batch-normalise the readout vector before ``rho``. Weighted means of sets that
        differ only in minor constituents (e.g. steels, ~70 % Fe) vary very little from
        material to material; normalising them per feature makes those differences
        learnable (on matbench_steels: ~215 -> ~110 MPa MAE on two folds).
    n_extras : int, default=0
        Width of the extra per-set inputs (``SetBatch.extras``, already standardised),
        concatenated to the (normalised) readout vector before ``rho``, like MEGNet's
        state vector.
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        n_layer_before_readout: int = 2,
        n_layer_after_readout: int = 2,
        n_neurons: int = 64,
        readout: str = "mean",
        activation: str = "softplus",
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        batch_norm: bool = True,
        n_extras: int = 0,
    ) -> None:
        super().__init__()
        self.n_extras = int(n_extras)
        self.embedding = None
        if embedding_dim:
            self.embedding = nn.Embedding(MAX_Z + 1, embedding_dim)
            n_features = embedding_dim
        self.phi = mlp(n_features, n_layer_before_readout, n_neurons, activation, dropout)
        width = n_neurons if n_layer_before_readout else n_features
        if readout == "mean":
            self.readout: nn.Module = WeightedMean(width)
        elif readout == "set2set":
            self.readout = WeightedSet2Set(width, steps=3)
        else:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.norm = nn.BatchNorm1d(self.readout.out_features) if batch_norm else nn.Identity()
        rho_in = self.readout.out_features + self.n_extras
        self.rho = mlp(rho_in, n_layer_after_readout, n_neurons, activation, dropout)
        width = n_neurons if n_layer_after_readout else rho_in
        self.out = nn.Linear(width, n_outputs)

    def forward(self, batch) -> torch.Tensor:
        """Predict from a flat batch of sets.

        Parameters
        ----------
        batch : SetBatch
            ``values`` (m, d), ``weights`` (m,), ``segment`` (m,), ``offsets`` (b + 1,),
            and ``extras`` (b, n_extras) when ``n_extras`` > 0.

        Returns
        -------
        Tensor of shape (b, n_outputs)
        """
        plain = not _global_hooks()
        if getattr(batch, "mix", None) is not None and self.trains_on_mix():
            # few distinct member rows (``SetBatch.table``): phi once per distinct row, and
            # the readout from each set's weight on each distinct row (the same function,
            # summed in another order)
            h = self._members(batch.table, plain)
            x = self.readout.from_mix(h, batch.mix.to(h.dtype))
        else:
            if batch.values is None:
                raise ValueError("this module needs the members of the sets (SetBatch.values)")
            x = self._members(batch.values, plain)
            x = self.readout(x, batch.weights, batch.segment, batch.offsets.shape[0] - 1)
        x = self.norm(x)
        if self.n_extras:
            if batch.extras is None or batch.extras.shape[1] != self.n_extras:
                raise ValueError(f"this module needs {self.n_extras} extra inputs per set")
            x = torch.cat([x, batch.extras.to(x.dtype)], dim=1)
        return _call(self.out, _run(self.rho, x, plain), plain)

    def _members(self, values: torch.Tensor, plain: bool) -> torch.Tensor:
        """``phi`` of member rows (after the embedding lookup of atomic numbers, if any)."""
        x = self.embedding(values[:, 0].long()) if self.embedding is not None else values
        return _run(self.phi, x, plain)

    def trains_on_mix(self) -> bool:
        """Whether the ``table`` and ``mix`` of a training batch are all this module needs.

        True when ``phi`` maps every member on its own (no dropout): members with equal
        rows then have equal outputs, ``phi`` may run once per distinct row (see
        ``estimators._data``) and the readout reads the sets from their weights on those
        rows (``from_mix``, both readouts). Does not depend on the module's mode.
        """
        return callable(getattr(self.readout, "from_mix", None)) and not any(
            isinstance(m, nn.Dropout) and m.p > 0 for m in self.phi
        )


class MLPModule(nn.Module):
    """A plain MLP for fixed-length features (MLP-V0-stats, MLP-f, ...).

    Parameters
    ----------
    n_features, n_outputs : int
    n_layers : int
        Number of hidden layers.
    n_neurons : int
    activation : {"softplus", "relu"}
    dropout : float
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        n_layers: int = 3,
        n_neurons: int = 64,
        activation: str = "softplus",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.body = mlp(n_features, n_layers, n_neurons, activation, dropout)
        self.out = nn.Linear(n_neurons if n_layers else n_features, n_outputs)

    def forward(self, batch) -> torch.Tensor:
        """Predict from a :class:`SetBatch` whose ``values`` are ``(b, n_features)`` rows."""
        plain = not _global_hooks()
        return _call(self.out, _run(self.body, batch.values, plain), plain)
