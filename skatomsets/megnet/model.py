"""MEGNet (Chen et al., Chem. Mater. 2019) in plain PyTorch, batched over many graphs.

The module reproduces the Keras ``megnet`` implementation of the pretrained crystal models
exactly (same layer order, activations and Set2Set quirks), so the converted weights give
the same numbers:

* every dense layer uses the shifted softplus ``softplus(x) - ln 2`` except the last layer
  of each update MLP (φe, φv, φu) and the last layer of the output head, which are linear;
* bond distances are expanded on Gaussians ``exp(-(d - c)^2 / w^2)``;
* before each MEGNet block, atoms, bonds and state each pass through a two-layer encoder
  (64 -> 32 units); the block output is added to the block's *un-encoded* input (residual);
* bond messages are averaged onto their source atom (``src``), bonds and atoms are averaged
  per graph for the state update;
* Set2Set readouts use an LSTM with the Keras-2 hard sigmoid ``clip(0.2x + 0.5, 0, 1)`` whose
  cell state restarts from zero at every step (megnet's implementation never carries it).

Everything works on a flat batch of graphs (:class:`~skatomsets.megnet.graph.TorchGraphBatch`)
with segment reductions (``index_add_`` / ``scatter_reduce``); there is no Python loop over
graphs.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..nn.segment import segment_mean, segment_softmax, segment_sum
from .graph import TorchGraphBatch

__all__ = ["FEATURE_KEYS", "MEGNet", "MEGNetConfig", "shifted_softplus"]

_LN2 = math.log(2.0)

#: Keys of :meth:`MEGNet.features` (``V*`` are per site, the rest per graph).
FEATURE_KEYS = ("V0", "V1", "V2", "V3", "u1", "u2", "u3", "v_r", "e_r", "f", "prediction")


def shifted_softplus(x: torch.Tensor) -> torch.Tensor:
    """``softplus(x) - ln 2`` (megnet's ``softplus2``), zero at the origin."""
    return F.softplus(x) - _LN2


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras-2 hard sigmoid ``clip(0.2 x + 0.5, 0, 1)``."""
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


@dataclass
class MEGNetConfig:
    """Architecture and graph-conversion hyper-parameters of a MEGNet model.

    The defaults are those of the pretrained mp-2019.4.1 crystal models.
    """

    n_elements: int = 95
    embedding_dim: int = 16
    n_state_features: int = 2
    encoder_units: tuple[int, ...] = (64, 32)
    block_units: tuple[int, ...] = (64, 64, 32)
    n_blocks: int = 3
    set2set_steps: int = 2
    set2set_hidden: int = 16
    head_units: tuple[int, ...] = (32, 16)
    n_targets: int = 1
    final_activation: str | None = None
    cutoff: float = 5.0
    gaussian_centers: tuple[float, ...] = field(
        default_factory=lambda: tuple(np.linspace(0.0, 6.0, 100).tolist())
    )
    gaussian_width: float = 0.5
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.encoder_units = tuple(int(u) for u in self.encoder_units)
        self.block_units = tuple(int(u) for u in self.block_units)
        self.head_units = tuple(int(u) for u in self.head_units)
        self.gaussian_centers = tuple(float(c) for c in self.gaussian_centers)
        if self.final_activation not in (None, "sigmoid"):
            raise ValueError(
                f"final_activation must be None or 'sigmoid', got {self.final_activation!r}"
            )
        if self.n_blocks < 1:
            raise ValueError("n_blocks must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (tuples become lists)."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MEGNetConfig:
        """Inverse of :meth:`to_dict` (unknown keys are rejected)."""
        return cls(**d)

    @property
    def n_bond_features(self) -> int:
        """Number of Gaussian basis functions."""
        return len(self.gaussian_centers)


def _mlp(n_in: int, units: tuple[int, ...]) -> nn.ModuleList:
    layers = []
    for u in units:
        layers.append(nn.Linear(n_in, u))
        n_in = u
    return nn.ModuleList(layers)


def _run(layers: nn.ModuleList, x: torch.Tensor, linear_last: bool) -> torch.Tensor:
    last = len(layers) - 1
    for j, layer in enumerate(layers):
        x = layer(x)
        if not (linear_last and j == last):
            x = _ssp_(x)
    return x


def _ssp_(x: torch.Tensor) -> torch.Tensor:
    """Shifted softplus, in place on the fresh result of ``softplus`` when autograd allows."""
    y = F.softplus(x)
    return y.sub_(_LN2) if not torch.is_grad_enabled() or not y.requires_grad else y - _LN2


class MEGNetBlock(nn.Module):
    """One MEGNet graph-network update (φe, then φv, then φu) with mean pooling."""

    def __init__(self, v_dim: int, e_dim: int, u_dim: int, units: tuple[int, ...]) -> None:
        super().__init__()
        out = units[-1]
        self.phi_e = _mlp(2 * v_dim + e_dim + u_dim, units)
        self.phi_v = _mlp(out + v_dim + u_dim, units)
        self.phi_u = _mlp(out + out + u_dim, units)

    def forward(
        self, v: torch.Tensor, e: torch.Tensor, u: torch.Tensor, g: TorchGraphBatch
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Updated (atoms, bonds, state), before any residual addition."""
        # first φe layer on [v_src, v_dst, e, u] without building the concatenation:
        # project atoms and states first, then gather (same result, far less memory traffic)
        first = self.phi_e[0]
        nv, ne = v.shape[1], e.shape[1]
        w = first.weight
        proj_v = torch.cat([v @ w[:, :nv].T, v @ w[:, nv : 2 * nv].T], dim=1)
        h = F.linear(e, w[:, 2 * nv : 2 * nv + ne], first.bias)
        h += proj_v[g.src, : w.shape[0]]
        h += proj_v[g.dst, w.shape[0] :]
        h += (u @ w[:, 2 * nv + ne :].T)[g.bond_graph]
        e_new = _run(self.phi_e[1:], _ssp_(h), linear_last=True)
        v_agg = segment_mean(e_new, g.src, g.n_sites)
        v_new = _run(self.phi_v, torch.cat([v_agg, v, u[g.site_graph]], dim=1), linear_last=True)
        u_in = torch.cat(
            [
                segment_mean(e_new, g.bond_graph, g.n_graphs),
                segment_mean(v_new, g.site_graph, g.n_graphs),
                u,
            ],
            dim=1,
        )
        u_new = _run(self.phi_u, u_in, linear_last=True)
        return v_new, e_new, u_new


class Set2Set(nn.Module):
    """megnet's Set2Set readout.

    ``m = W x + b``; for ``T`` steps: ``z = q* K + b_r`` gives LSTM gates (hard sigmoid) with
    the cell state restarted at zero (``c = i * tanh(z_c)``, ``h = o * tanh(c)``), attention
    ``a = softmax_graph(m . h)``, ``r = sum a m`` and ``q* = [h, r]``. Output ``2 n_hidden``.
    """

    def __init__(self, in_dim: int, n_hidden: int, steps: int) -> None:
        super().__init__()
        self.n_hidden = n_hidden
        self.steps = steps
        self.x_to_m = nn.Linear(in_dim, n_hidden)
        self.recurrent = nn.Linear(2 * n_hidden, 4 * n_hidden)

    def forward(self, x: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
        """Readout of the rows ``x`` grouped by ``index`` into ``n`` graphs."""
        m = self.x_to_m(x)
        nh = self.n_hidden
        q_star = m.new_zeros((n, 2 * nh))
        for _ in range(self.steps):
            z = self.recurrent(q_star)
            i_gate = hard_sigmoid(z[:, :nh])
            # the forget gate z[:, nh:2nh] multiplies a zero cell state in megnet
            c = i_gate * torch.tanh(z[:, 2 * nh : 3 * nh])
            h = hard_sigmoid(z[:, 3 * nh :]) * torch.tanh(c)
            score = (m * h[index]).sum(dim=1)
            a = segment_softmax(score, index, n)
            r = segment_sum(m * a.unsqueeze(1), index, n)
            q_star = torch.cat([h, r], dim=1)
        return q_star


class MEGNet(nn.Module):
    """MEGNet crystal model on a flat batch of graphs.

    Parameters
    ----------
    config : MEGNetConfig, optional
        Architecture; defaults to that of the pretrained mp-2019.4.1 models.

    Notes
    -----
    Feature conventions of :meth:`features` (those of megnet's ``MEGNetDescriptor`` used by
    the AtomSets authors through maml's ``MEGNetSite``/``MEGNetStructure``):

    ``V0``
        Embedded atoms, (n_sites, embedding_dim). For a disordered site, the
        fraction-weighted mean of its species' embeddings.
    ``V1``..``Vn``
        Atom output of MEGNet block k *before* the residual addition, (n_sites, 32).
    ``u1``..``un``
        State output of block k before the residual addition, (n_graphs, 32).
    ``v_r``, ``e_r``
        Set2Set readout of the atoms / bonds after the last block, (n_graphs, 32).
    ``f``
        ``[v_r, e_r, u]`` entering the output MLP, with ``u`` the state after the last
        residual addition, (n_graphs, 96).
    ``prediction``
        Model output, (n_graphs,) for one target else (n_graphs, n_targets); eV/atom for the
        formation-energy model.
    """

    def __init__(self, config: MEGNetConfig | None = None) -> None:
        super().__init__()
        cfg = config or MEGNetConfig()
        self.config = cfg
        self.embedding = nn.Embedding(cfg.n_elements, cfg.embedding_dim)
        # kept in float64 outside the state dict (``.float()`` must not round it): the
        # expansion is computed in float64 and then cast, as megnet did in numpy
        self._centers = torch.tensor(cfg.gaussian_centers, dtype=torch.float64)
        width = cfg.block_units[-1]
        if cfg.encoder_units[-1] != width:
            raise ValueError("the last encoder width must equal the last block width")
        self.atom_encoders = nn.ModuleList()
        self.bond_encoders = nn.ModuleList()
        self.state_encoders = nn.ModuleList()
        self.blocks = nn.ModuleList()
        for k in range(cfg.n_blocks):
            dims = (
                (cfg.embedding_dim, cfg.n_bond_features, cfg.n_state_features)
                if k == 0
                else (width, width, width)
            )
            self.atom_encoders.append(_mlp(dims[0], cfg.encoder_units))
            self.bond_encoders.append(_mlp(dims[1], cfg.encoder_units))
            self.state_encoders.append(_mlp(dims[2], cfg.encoder_units))
            self.blocks.append(MEGNetBlock(width, width, width, cfg.block_units))
        self.atom_set2set = Set2Set(width, cfg.set2set_hidden, cfg.set2set_steps)
        self.bond_set2set = Set2Set(width, cfg.set2set_hidden, cfg.set2set_steps)
        self.head = _mlp(4 * cfg.set2set_hidden + width, (*cfg.head_units, cfg.n_targets))

    # ------------------------------------------------------------------ helpers
    def expand_distances(self, distance: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Gaussian expansion of bond lengths, (n_bonds, n_bond_features), in ``dtype``.

        Computed in ``dtype`` with in-place operations (this is the largest tensor of the
        forward pass); float32 rounding of the distances changes the result by < 1e-5.
        """
        c = self._centers.to(device=distance.device, dtype=dtype)
        x = distance.to(dtype).unsqueeze(1) - c
        x.mul_(1.0 / self.config.gaussian_width)
        return x.square_().neg_().exp_()

    def embed(self, g: TorchGraphBatch) -> torch.Tensor:
        """Site embeddings ``V0`` (fraction-weighted mean over species entries)."""
        rows = self.embedding(g.species_z)
        if g.species_z.shape[0] == g.n_sites:  # ordered: one entry per site, in order
            return rows
        return segment_sum(
            rows * g.species_frac.unsqueeze(1).to(rows.dtype), g.species_site, g.n_sites
        )

    def checksum(self) -> str:
        """SHA-256 of the configuration and all parameters (used as cache key)."""
        h = hashlib.sha256(json.dumps(self.config.to_dict(), sort_keys=True).encode())
        for name, tensor in sorted(self.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().to(torch.float64).numpy().tobytes())
        return h.hexdigest()

    # ------------------------------------------------------------------ forward
    def features(
        self, g: TorchGraphBatch, keys: tuple[str, ...] | list[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """Intermediate features of a batch of graphs.

        Parameters
        ----------
        g : TorchGraphBatch
            The graphs (``GraphBatch.to_torch()``), in the dtype of the model.
        keys : sequence of str, optional
            Keys to return (see the class notes); all by default. Computation stops after
            the last block needed, so ``keys=("V1",)`` runs one block only.

        Returns
        -------
        dict of str to torch.Tensor
        """
        n_blocks = self.config.n_blocks
        valid = {"V0", "v_r", "e_r", "f", "prediction"}
        valid |= {f"V{k}" for k in range(1, n_blocks + 1)} | {
            f"u{k}" for k in range(1, n_blocks + 1)
        }
        wanted = set(valid if keys is None else keys)
        unknown = wanted - valid
        if unknown:
            raise KeyError(
                f"unknown MEGNet feature(s) {sorted(unknown)}; choose from {sorted(valid)}"
            )
        readout = bool(wanted & {"v_r", "e_r", "f", "prediction"})
        last = n_blocks if readout else max([int(k[1:]) for k in wanted if k[0] in "Vu"] + [0])
        out: dict[str, torch.Tensor] = {}
        v = self.embed(g)
        if "V0" in wanted:
            out["V0"] = v
        if last == 0:
            return out
        e = self.expand_distances(g.distance, v.dtype)
        u = g.state.to(v.dtype)
        for k in range(last):
            v_enc = _run(self.atom_encoders[k], v, linear_last=False)
            e_enc = _run(self.bond_encoders[k], e, linear_last=False)
            u_enc = _run(self.state_encoders[k], u, linear_last=False)
            v_new, e_new, u_new = self.blocks[k](v_enc, e_enc, u_enc, g)
            if f"V{k + 1}" in wanted:
                out[f"V{k + 1}"] = v_new
            if f"u{k + 1}" in wanted:
                out[f"u{k + 1}"] = u_new
            # residual: block 1 adds to the encoded input, later blocks to the running sum
            if k == 0:
                v, e, u = v_enc + v_new, e_enc + e_new, u_enc + u_new
            else:
                v, e, u = v + v_new, e + e_new, u + u_new
        if not readout:
            return out
        v_r = self.atom_set2set(v, g.site_graph, g.n_graphs)
        e_r = self.bond_set2set(e, g.bond_graph, g.n_graphs)
        f = torch.cat([v_r, e_r, u], dim=1)
        for key, value in (("v_r", v_r), ("e_r", e_r), ("f", f)):
            if key in wanted:
                out[key] = value
        if "prediction" in wanted:
            out["prediction"] = self.head_forward(f)
        return out

    def head_forward(self, f: torch.Tensor) -> torch.Tensor:
        """Output MLP applied to the readout vector ``f``."""
        y = _run(self.head, f, linear_last=True)
        if self.config.final_activation == "sigmoid":
            y = torch.sigmoid(y)
        return y.squeeze(1) if self.config.n_targets == 1 else y

    def forward(self, g: TorchGraphBatch) -> torch.Tensor:
        """Prediction for each graph, (n_graphs,) or (n_graphs, n_targets)."""
        return self.features(g, keys=("prediction",))["prediction"]
