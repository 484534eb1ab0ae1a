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

from ..inputs import as_sequence
from ..inputs import parse_structures as _as_structures
from ..megnet.graph import GraphBatch, build_graphs, check_full_occupancy
from ..megnet.model import MEGNet, MEGNetConfig
from ..megnet.weights import PRETRAINED, resolve_model
from ..megnet.weights import save_parent as _save_parent
from ._base import NeuralEstimatorBase, fit_checked
from ._graph_data import GraphData, GraphInput

__all__ = ["MEGNET_PARAMS_DOC", "MEGNetBase", "MEGNetModule"]

MEGNET_PARAMS_DOC = """\
    init : None, "pretrained", str, Path or MEGNet, default=None
        Where the network starts. None: from scratch, with the architecture given by
        ``n_blocks``, ``embedding_dim``, ``encoder_units``, ``block_units``,
        ``set2set_hidden``, ``head_units`` and ``cutoff``. "pretrained" (or the name of a
        shipped model, see :data:`skatomsets.megnet.PRETRAINED`): fine-tune the shipped
        mp-2019.4.1 formation-energy MEGNet. A path to a file written by
        :func:`skatomsets.megnet.save_parent` (e.g. by :meth:`save_parent` of another
        MEGNet estimator) or a :class:`~skatomsets.megnet.MEGNet` module: fine-tune your own
        parent. When fine-tuning, the architecture (and cutoff) is the parent's and the width
        parameters are ignored; the embedding, encoders, MEGNet blocks and Set2Set readouts
        start from the parent's weights, while the output MLP (``head``) is always
        re-initialised, since it has to learn a new target (with its own units and scale).
        The parent itself is never modified.
    freeze : int, default=0
        Number of leading MEGNet blocks kept fixed while fine-tuning, together with the
        element embedding and those blocks' atom/bond/state encoders; 0 trains everything.
        Must be 0 when ``init`` is None (there is nothing to keep).
    n_blocks : int, default=3
        MEGNet blocks (from scratch only).
    embedding_dim : int, default=16
        Width of the element embedding (from scratch only).
    encoder_units : tuple of int, default=(64, 32)
        Widths of the two-layer atom/bond/state encoders before each block (from scratch
        only); the last must equal ``block_units[-1]``.
    block_units : tuple of int, default=(64, 64, 32)
        Widths of the φe/φv/φu update MLPs of each block (from scratch only).
    set2set_hidden : int, default=16
        Width of the Set2Set readouts (from scratch only).
    head_units : tuple of int, default=(32, 16)
        Hidden widths of the output MLP (from scratch only).
    cutoff : float, default=5.0
        Neighbour cutoff in Å (from scratch only; the bond Gaussians span 0..cutoff + 1 Å).
    allow_isolated : bool, default=False
        Accept structures with a site that has no neighbour within the cutoff (its pooled
        bond message is zero); by default they raise an error naming the row and site.
"""

_ARCH_INTS = ("n_blocks", "embedding_dim", "set2set_hidden")
_ARCH_TUPLES = ("encoder_units", "block_units", "head_units")


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


def _is_pos_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1


class MEGNetBase(NeuralEstimatorBase):
    """Builds, trains and exports MEGNet networks from the estimator's parameters."""

    _set_input = False
    _data_class = GraphData

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
        self._check_params()
        self._check_megnet_params()
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
    def _check_megnet_params(self) -> None:
        for name in _ARCH_INTS:
            if not _is_pos_int(getattr(self, name)):
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name in _ARCH_TUPLES:
            v = getattr(self, name)
            if not (isinstance(v, (tuple, list)) and v and all(_is_pos_int(u) for u in v)):
                raise ValueError(f"{name} must be a non-empty tuple of positive ints, got {v!r}")
        if self.encoder_units[-1] != self.block_units[-1]:
            raise ValueError(
                f"encoder_units[-1] ({self.encoder_units[-1]}) must equal block_units[-1] "
                f"({self.block_units[-1]}): the block output is added to its encoded input"
            )
        if not (isinstance(self.cutoff, numbers.Real) and self.cutoff > 0):
            raise ValueError(f"cutoff must be a positive number, got {self.cutoff!r}")
        f = self.freeze
        if not isinstance(f, numbers.Integral) or isinstance(f, bool) or f < 0:
            raise ValueError(f"freeze must be a non-negative integer, got {f!r}")
        if f and self.init is None:
            raise ValueError(
                f"freeze={f} keeps parent weights fixed, but init=None trains from scratch: "
                "give init='pretrained' or your own parent, or set freeze=0"
            )

    def _resolve_init(self) -> None:
        """Set ``megnet_config_`` and the parent weights (kept until the end of ``fit``)."""
        init = self.init
        if init is None:
            cutoff = float(self.cutoff)
            self.megnet_config_ = MEGNetConfig(
                embedding_dim=int(self.embedding_dim),
                encoder_units=tuple(self.encoder_units),
                block_units=tuple(self.block_units),
                n_blocks=int(self.n_blocks),
                set2set_hidden=int(self.set2set_hidden),
                head_units=tuple(self.head_units),
                cutoff=cutoff,
                gaussian_centers=tuple(np.linspace(0.0, cutoff + 1.0, 100).tolist()),
            )
            self._parent_state = None
            return
        if isinstance(init, str) and init == "pretrained":
            init = PRETRAINED[0]
        if not isinstance(init, (str, Path, MEGNet)):
            raise ValueError(
                "init must be None, 'pretrained', a path to a saved parent or a MEGNet module, "
                f"got {type(init).__name__}"
            )
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

    def _fit_megnet(self, X: Any, y: Any, sample_weight: Any = None):
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
