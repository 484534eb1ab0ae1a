"""Loading MEGNet weights: the shipped pretrained model, converted Keras files, user parents.

* :func:`load_pretrained` loads a model shipped in ``skatomsets/data/megnet`` (an ``.npz`` of
  the Keras weight arrays plus a JSON sidecar with provenance, graph-converter config and the
  SHA-256 of the ``.npz``, which is verified).
* :func:`from_npz` loads any Keras MEGNet crystal model converted the same way
  (``scripts/convert_megnet_weights.py``).
* :func:`save_parent` / :func:`load_parent` store a MEGNet trained with skatomsets (torch state
  dict + config) so it can be used as a parent network exactly like the shipped one.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..exceptions import WeightsChecksumError
from .model import MEGNet, MEGNetConfig

__all__ = [
    "PRETRAINED",
    "WeightsChecksumError",
    "from_npz",
    "load_parent",
    "load_pretrained",
    "pretrained_embedding",
    "read_npz",
    "resolve_model",
    "save_parent",
]

#: Names of the pretrained models shipped with skatomsets.
PRETRAINED = ("formation_energy_mp-2019.4.1",)
_PARENT_FORMAT = "skatomsets-megnet-parent"
_CACHE: dict[str, MEGNet] = {}


def _data_dir() -> Path:
    return Path(str(resources.files("skatomsets") / "data" / "megnet"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _keras(arrays: dict[str, np.ndarray], layer: str, weight: str) -> np.ndarray:
    """Weight ``weight`` of Keras layer ``layer`` (names are nested ``layer/layer/...``)."""
    key = f"{layer}/{layer}/{weight}:0"
    if key in arrays:
        return arrays[key]
    pattern = re.compile(rf"^{re.escape(layer)}/(.*/)?{re.escape(weight)}:0$")
    hits = [k for k in arrays if pattern.match(k)]
    if len(hits) != 1:
        raise KeyError(f"weight {weight!r} of layer {layer!r} not found in the weight file")
    return arrays[hits[0]]


def _config_from_arrays(arrays: dict[str, np.ndarray], sidecar: dict[str, Any]) -> MEGNetConfig:
    emb = _keras(arrays, "embedding_1", "embeddings")
    n_blocks = len({k.split("/")[0] for k in arrays if k.startswith("meg_net_layer_")})
    if n_blocks == 0:
        raise KeyError("no meg_net_layer_* weights found: not a Keras MEGNet model")
    n_dense = len({k.split("/")[0] for k in arrays if re.match(r"^dense_\d+/", k)})
    n_enc = 2  # megnet's crystal models use two-layer encoders (n1, n2)
    encoder_units = tuple(_keras(arrays, f"dense_{j + 1}", "kernel").shape[1] for j in range(n_enc))
    n_phi = sum(1 for k in arrays if k.startswith("meg_net_layer_1/") and "/weight_v_" in k)
    block_units = tuple(
        _keras(arrays, "meg_net_layer_1", f"weight_v_{j}").shape[1] for j in range(n_phi)
    )
    first_head = 3 * n_enc * n_blocks + 1  # atom, bond and state encoders per block
    head = [_keras(arrays, f"dense_{j}", "kernel").shape[1] for j in range(first_head, n_dense + 1)]
    conv = sidecar.get("config", {}).get("graph_converter", {})
    bond = conv.get("bond_converter", {})
    centers = bond.get("centers", {}).get("data", np.linspace(0.0, 6.0, 100).tolist())
    meta = sidecar.get("config", {}).get("metadata", {})
    return MEGNetConfig(
        n_elements=emb.shape[0],
        embedding_dim=emb.shape[1],
        n_state_features=_keras(arrays, "dense_5", "kernel").shape[0],
        encoder_units=encoder_units,
        block_units=block_units,
        n_blocks=n_blocks,
        set2set_steps=int(sidecar.get("set2set_steps", 2)),
        set2set_hidden=_keras(arrays, "set2_set_1", "x_to_m_weight").shape[1],
        head_units=tuple(head[:-1]),
        n_targets=head[-1],
        final_activation=sidecar.get("final_activation"),
        cutoff=float(conv.get("cutoff", 5.0)),
        gaussian_centers=tuple(centers),
        gaussian_width=float(bond.get("width", 0.5)),
        metadata=dict(meta),
    )


def _copy(param: torch.Tensor, value: np.ndarray, what: str) -> None:
    value = np.asarray(value)
    if tuple(value.shape) != tuple(param.shape):
        raise ValueError(f"{what}: weight shape {value.shape} does not fit {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(value.astype(np.float32)))


def _load_dense(layer: torch.nn.Linear, arrays: dict[str, np.ndarray], name: str) -> None:
    _copy(layer.weight, _keras(arrays, name, "kernel").T, name)
    _copy(layer.bias, _keras(arrays, name, "bias"), name)


def read_npz(path: str | Path, verify: bool = True) -> tuple[dict[str, np.ndarray], dict]:
    """The Keras weight arrays of a converted ``.npz`` and its JSON sidecar, checksum verified.

    The one reader of weight files: :func:`from_npz` builds a model from it, and
    :mod:`skatomsets.elements` reads the ``megnet16`` element table through it.

    Parameters
    ----------
    path : str or Path
        The ``.npz``. A JSON sidecar with the same stem, when present, holds the expected
        ``npz_sha256`` (and the graph-converter config and metadata).
    verify : bool, default=True
        Check the file's SHA-256 against the sidecar.

    Returns
    -------
    arrays : dict of str to ndarray
        Keras weight name (without the ``model_weights/`` prefix) -> array.
    sidecar : dict
        The sidecar's content (empty without one).

    Raises
    ------
    WeightsChecksumError
        If the checksum does not match.
    """
    path = Path(path)
    sidecar_path = path.with_suffix(".json")
    sidecar: dict[str, Any] = {}
    if sidecar_path.exists():
        sidecar = json.loads(sidecar_path.read_text())
        expected = sidecar.get("npz_sha256")
        if verify and expected and _sha256(path) != expected:
            raise WeightsChecksumError(
                f"{path} does not match the SHA-256 recorded in {sidecar_path.name}; the "
                "weight file is corrupted or was replaced"
            )
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return arrays, sidecar


def _pretrained_path(name: str) -> Path:
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained MEGNet {name!r}; available: {list(PRETRAINED)}")
    return _data_dir() / f"{name}.npz"


def pretrained_embedding(name: str = "formation_energy_mp-2019.4.1") -> np.ndarray:
    """The ``(n_elements, embedding_dim)`` element embedding of the shipped model ``name``
    (one of :data:`PRETRAINED`), as stored, checksum verified; row Z is element Z."""
    arrays, _ = read_npz(_pretrained_path(name), verify=True)
    return _keras(arrays, "embedding_1", "embeddings")


def from_npz(path: str | Path, verify: bool = True) -> MEGNet:
    """Build a :class:`MEGNet` from Keras weight arrays stored in an ``.npz`` file.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` (keys are Keras weight names without the ``model_weights/`` prefix). A
        JSON sidecar with the same stem, when present, supplies the graph-converter config
        and metadata and, with ``verify``, the expected ``npz_sha256``.
    verify : bool, default=True
        Check the file's SHA-256 against the sidecar.

    Returns
    -------
    MEGNet
        In evaluation mode, float32.

    Raises
    ------
    WeightsChecksumError
        If the checksum does not match.
    """
    path = Path(path)
    arrays, sidecar = read_npz(path, verify=verify)
    config = _config_from_arrays(arrays, sidecar)
    model = MEGNet(config)
    _copy(model.embedding.weight, _keras(arrays, "embedding_1", "embeddings"), "embedding_1")
    dense = 1
    n_enc = len(config.encoder_units)
    for k in range(config.n_blocks):
        for encoders in (model.atom_encoders, model.bond_encoders, model.state_encoders):
            for j in range(n_enc):
                _load_dense(encoders[k][j], arrays, f"dense_{dense}")
                dense += 1
        block = model.blocks[k]
        layer = f"meg_net_layer_{k + 1}"
        for which, mlp in (("e", block.phi_e), ("v", block.phi_v), ("u", block.phi_u)):
            for j, lin in enumerate(mlp):
                _copy(lin.weight, _keras(arrays, layer, f"weight_{which}_{j}").T, layer)
                _copy(lin.bias, _keras(arrays, layer, f"bias_{which}_{j}"), layer)
    for s2s, name in ((model.atom_set2set, "set2_set_1"), (model.bond_set2set, "set2_set_2")):
        _copy(s2s.x_to_m.weight, _keras(arrays, name, "x_to_m_weight").T, name)
        _copy(s2s.x_to_m.bias, _keras(arrays, name, "x_to_m_bias"), name)
        _copy(s2s.recurrent.weight, _keras(arrays, name, "recurrent_kernel").T, name)
        _copy(s2s.recurrent.bias, _keras(arrays, name, "recurrent_bias"), name)
    for lin in model.head:
        _load_dense(lin, arrays, f"dense_{dense}")
        dense += 1
    model.config.metadata.setdefault("source", str(sidecar.get("source", path.name)))
    return model.eval()


def load_pretrained(name: str = "formation_energy_mp-2019.4.1") -> MEGNet:
    """Load a MEGNet model shipped with skatomsets (checksum verified).

    Parameters
    ----------
    name : str, default="formation_energy_mp-2019.4.1"
        One of :data:`PRETRAINED`.

    Returns
    -------
    MEGNet
        A fresh copy in evaluation mode (float32).
    """
    return from_npz(_pretrained_path(name), verify=True)


def save_parent(model: MEGNet, path: str | Path) -> Path:
    """Save a MEGNet (e.g. one trained by skatomsets) as a parent network file.

    Parameters
    ----------
    model : MEGNet
    path : str or Path
        Destination (conventionally ``*.pt``); written atomically.

    Returns
    -------
    Path
    """
    path = Path(path)
    payload = {
        "format": _PARENT_FORMAT,
        "version": 1,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu().float() for k, v in model.state_dict().items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_parent(path: str | Path) -> MEGNet:
    """Load a parent network written by :func:`save_parent` (or a converted ``.npz``)."""
    path = Path(path)
    if path.suffix == ".npz":
        return from_npz(path)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != _PARENT_FORMAT:
        raise ValueError(f"{path} is not a skatomsets MEGNet parent file (see save_parent)")
    model = MEGNet(MEGNetConfig.from_dict(payload["config"]))
    model.load_state_dict(payload["state_dict"])
    return model.eval()


def resolve_model(model: str | Path | MEGNet) -> MEGNet:
    """Turn a pretrained name, a file path or a module into a :class:`MEGNet`.

    Pretrained models and files are loaded once per process and shared (do not modify the
    returned module in place).
    """
    if isinstance(model, MEGNet):
        return model
    if isinstance(model, str) and model in PRETRAINED:
        key = model
        if key not in _CACHE:
            _CACHE[key] = load_pretrained(model)
        return _CACHE[key]
    if isinstance(model, (str, Path)):
        p = Path(model)
        if not p.exists():
            raise ValueError(
                f"model {str(model)!r} is neither a pretrained name {list(PRETRAINED)} nor a file"
            )
        key = f"file:{p.resolve()}:{p.stat().st_mtime_ns}"
        if key not in _CACHE:
            _CACHE[key] = load_parent(p)
        return _CACHE[key]
    raise TypeError(f"model must be a name, a path or a MEGNet module, got {type(model).__name__}")
