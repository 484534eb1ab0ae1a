"""The part of MEGNetRegressor / MEGNetClassifier that is about MEGNet itself.

The estimators train the package's pure-PyTorch :class:`~skatomsets.megnet.MEGNet` on
crystal structures, with the training machinery of :mod:`._base` (skorch nets, hold-out
validation, early stopping, ensembles). Graphs are built once per ``fit`` into one flat
:class:`~skatomsets.megnet.graph.GraphBatch` and batched by :class:`._graph_data.GraphData`.
"""

from __future__ import annotations

import copy
import numbers
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..io.materials import as_sequence
from ..io.materials import parse_structures as _as_structures
from ..megnet.graph import GraphBatch, build_graphs, check_full_occupancy
from ..megnet.model import MEGNet, MEGNetConfig
from ..megnet.weights import PRETRAINED, resolve_model
from ..megnet.weights import save_parent as _save_parent
from ._base import NeuralEstimatorBase, fit_checked
from ._graph_data import GraphData, GraphInput
from ._params import MEGNET_ARCHITECTURE, MEGNET_START, TRAINING

__all__ = ["MEGNetBase", "MEGNetModule"]


class MEGNetModule(nn.Module):
    """A :class:`~skatomsets.megnet.MEGNet` with a fresh head, optionally from a parent.

    Parameters
    ----------
    config : dict
        ``MEGNetConfig.to_dict()`` of the network (``n_targets`` = number of outputs).
    parent_state : dict of str to Tensor, optional
        Weights to start from (a parent's ``state_dict``); the ``head.*`` entries are
        ignored, so the output MLP keeps its fresh initialisation.
    freeze : int, default=0
        Leading blocks (with the embedding and their encoders) whose weights stay fixed.
    """

    def __init__(
        self,
        config: dict[str, Any],
        parent_state: dict[str, torch.Tensor] | None = None,
        freeze: int = 0,
    ) -> None:
        super().__init__()
        self.megnet = MEGNet(MEGNetConfig.from_dict(config))
        if parent_state is not None:
            body = {k: v for k, v in parent_state.items() if not k.startswith("head.")}
            missing, unexpected = self.megnet.load_state_dict(body, strict=False)
            if unexpected or any(not k.startswith("head.") for k in missing):
                raise ValueError(
                    f"parent weights do not fit the architecture (missing {missing}, "
                    f"unexpected {unexpected})"
                )
        m = self.megnet
        if freeze:
            m.embedding.requires_grad_(False)
        for k in range(freeze):
            for part in (m.atom_encoders[k], m.bond_encoders[k], m.state_encoders[k], m.blocks[k]):
                part.requires_grad_(False)

    @property
    def out(self) -> nn.Linear:
        """The last (linear) layer of the output MLP."""
        return self.megnet.head[-1]

    def forward(self, g: GraphInput) -> torch.Tensor:
        """Outputs of each graph, shape (n_graphs, n_targets)."""
        y = self.megnet(g)
        return y.unsqueeze(1) if y.ndim == 1 else y


def _plain(value: Any) -> Any:
    """Python ints / floats / tuples of ints for the config (numpy scalars allowed as input)."""
    if isinstance(value, (tuple, list)):
        return tuple(int(u) for u in value)
    return int(value) if isinstance(value, numbers.Integral) else float(value)


class MEGNetBase(NeuralEstimatorBase):
    """Builds, trains and exports MEGNet networks from the estimator's parameters."""

    _set_input = False
    _data_class = GraphData
    _parameter_constraints: dict[str, list[Any]] = {
        **MEGNET_START,
        **MEGNET_ARCHITECTURE,
        **TRAINING,
    }

    # --------------------------------------------------------------- hooks of _base
    def _module_class(self) -> type:
        return MEGNetModule

    def _n_features(self, X: Any) -> int:
        return self.megnet_config_.embedding_dim

    def _make_module_params(self, n_features: int, n_outputs: int) -> dict[str, Any]:
        config = self.megnet_config_.to_dict()
        config["n_targets"] = n_outputs
        config["final_activation"] = None
        return {
            "config": config,
            "parent_state": self._parent_state,
            "freeze": int(self.freeze),
        }

    def _check_inputs(self, X: Any, reset: bool) -> GraphBatch:
        if reset:
            self._resolve_init()
        return self._check_X(X, reset=reset)

    def _check_X(self, X: Any, reset: bool) -> GraphBatch:
        """Structures (or ``Structure.as_dict()`` dicts) -> one flat GraphBatch."""
        structures = _as_structures(as_sequence(X))
        check_full_occupancy(
            structures,
            range(len(structures)),
            "MEGNet counts every site in full, so it would learn from (and predict for) the "
            "fully occupied structure; give ordered structures",
        )
        cfg = self.megnet_config_
        return build_graphs(
            structures,
            cutoff=cfg.cutoff,
            max_z=cfg.n_elements - 1,
            allow_isolated=bool(self.allow_isolated),
        )

    # --------------------------------------------------------------- parameters
    def _check_param_combinations(self) -> None:
        if self.encoder_units[-1] != self.block_units[-1]:
            raise ValueError(
                f"encoder_units[-1] ({self.encoder_units[-1]}) must equal block_units[-1] "
                f"({self.block_units[-1]}): the block output is added to its encoded input"
            )
        if self.freeze and self.init is None:
            raise ValueError(
                f"freeze={self.freeze} keeps parent weights fixed, but init=None trains from "
                "scratch: give init='pretrained' or your own parent, or set freeze=0"
            )

    def _resolve_init(self) -> None:
        """Set ``megnet_config_`` and the parent weights (kept until the end of ``fit``)."""
        init = self.init
        if init is None:
            # the architecture parameters are MEGNetConfig fields of the same name
            arch = {name: _plain(getattr(self, name)) for name in MEGNET_ARCHITECTURE}
            cutoff = float(arch["cutoff"])
            self.megnet_config_ = MEGNetConfig(
                **{**arch, "cutoff": cutoff},
                gaussian_centers=tuple(np.linspace(0.0, cutoff + 1.0, 100).tolist()),
            )
            self._parent_state = None
            return
        if isinstance(init, str) and init == "pretrained":
            init = PRETRAINED[0]
        parent = resolve_model(init)
        if self.freeze > parent.config.n_blocks:
            raise ValueError(
                f"freeze={self.freeze} but the parent has only {parent.config.n_blocks} blocks"
            )
        cfg = MEGNetConfig.from_dict(copy.deepcopy(parent.config.to_dict()))
        cfg.metadata = {"parent": dict(parent.config.metadata)}
        self.megnet_config_ = cfg
        self._parent_state = {
            k: v.detach().to("cpu", torch.float32, copy=True)
            for k, v in parent.state_dict().items()
        }

    def _fit(self, X: Any, y: Any, sample_weight: Any = None):
        try:
            return fit_checked(self, X, y, sample_weight)
        finally:
            self.__dict__.pop("_parent_state", None)

    # --------------------------------------------------------------- parent export
    def _best_member(self) -> int:
        """Ensemble member with the best validation score at its kept epoch (0 if unknown)."""
        name, _, lower = self._score()
        scores = []
        for hist in self.history_:
            if not hist or name not in hist[0]:
                return 0
            vals = np.asarray(hist[:, name], dtype=float)
            scores.append(vals.min() if lower else vals.max())
        return int(np.argmin(scores) if lower else np.argmax(scores))

    def get_parent(self, member: int | None = None) -> MEGNet:
        """A trained network as a standalone :class:`~skatomsets.megnet.MEGNet` (a copy).

        For regressors the target scaling is folded into the last head layer, so the
        network's ``prediction`` is in target units.

        Parameters
        ----------
        member : int, optional
            Ensemble member; by default the one with the best validation score.

        Returns
        -------
        MEGNet
            On CPU, float32, evaluation mode.
        """
        check_is_fitted(self)
        i = self._best_member() if member is None else int(member)
        if not 0 <= i < len(self.nets_):
            raise ValueError(f"member must be in 0..{len(self.nets_) - 1}, got {member!r}")
        model = copy.deepcopy(self.nets_[i].module_.megnet).to("cpu", torch.float32)
        model.requires_grad_(True)
        if not self._is_classifier():
            last = model.head[-1]
            scale = torch.as_tensor(self.y_scale_, dtype=torch.float32)
            mean = torch.as_tensor(self.y_mean_, dtype=torch.float32)
            with torch.no_grad():
                last.weight.mul_(scale.unsqueeze(1))
                last.bias.mul_(scale).add_(mean)
        model.config.metadata = {
            **model.config.metadata,
            "trained_by": type(self).__name__,
            "ensemble_member": i,
        }
        if self._is_classifier():
            model.config.metadata["classes"] = [str(c) for c in self.classes_]
        return model.eval()

    def save_parent(self, path: str | Path, member: int | None = None) -> Path:
        """Save a trained network as a parent for the MEGNet featurizers or ``init``.

        The file is written by :func:`skatomsets.megnet.save_parent` and is used exactly
        like the shipped parent: ``MEGNetSiteFeaturizer(model=path)``,
        ``MEGNetStructureFeaturizer(model=path)`` or ``MEGNetRegressor(init=path)``.

        Parameters
        ----------
        path : str or Path
            Destination (conventionally ``*.pt``).
        member : int, optional
            Ensemble member; by default the one with the best validation score.

        Returns
        -------
        Path
        """
        return _save_parent(self.get_parent(member), path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
