"""Pretrained MEGNet parent network in pure PyTorch (no TensorFlow needed).

:class:`MEGNet` reproduces the Keras ``megnet`` crystal models; :func:`load_pretrained`
loads the shipped mp-2019.4.1 formation-energy model; :func:`build_graphs` turns pymatgen
structures into one flat :class:`GraphBatch`.
"""

from .graph import (
    GraphBatch,
    GraphConstructionError,
    TorchGraphBatch,
    build_graphs,
    structure_to_graph,
)
from .model import FEATURE_KEYS, MEGNet, MEGNetConfig
from .weights import (
    PRETRAINED,
    WeightsChecksumError,
    from_npz,
    load_parent,
    load_pretrained,
    resolve_model,
    save_parent,
)

__all__ = [
    "FEATURE_KEYS",
    "PRETRAINED",
    "GraphBatch",
    "GraphConstructionError",
    "MEGNet",
    "MEGNetConfig",
    "TorchGraphBatch",
    "WeightsChecksumError",
    "build_graphs",
    "from_npz",
    "load_parent",
    "load_pretrained",
    "resolve_model",
    "save_parent",
    "structure_to_graph",
]
