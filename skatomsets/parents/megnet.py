"""MEGNet (the AtomSets paper's parent) as a :class:`~skatomsets.parents.Parent`.

Levels ``V0`` (16-dim element embedding) and ``V1``..``V3`` (atom outputs of the 3 graph
blocks, before their residual addition), structure vectors ``u1``..``u3``, ``v_r``, ``e_r``,
``f`` and ``prediction``; see :class:`~skatomsets.megnet.MEGNet` for their definitions.
Site weights are the site occupancies; structure-level features refuse partly vacant
structures (see :func:`~skatomsets.megnet.graph.check_full_occupancy`).
:class:`~skatomsets.featurizers.MEGNetSiteFeaturizer` and
:class:`~skatomsets.featurizers.MEGNetStructureFeaturizer` are the parent featurizers on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io.materials import MAX_Z
from .base import Parent, ParentInfo, register_parent, shipped_copy

if TYPE_CHECKING:  # the network is imported when a parent is built (torch: not at import)
    from ..megnet.model import MEGNet

__all__ = ["MEGNetParent"]

#: Why structure-level features refuse vacancies (the end of the error message).
VACANCY_HELP = (
    "MEGNet's structure-level features (u, v_r, e_r, f, prediction) count every site in "
    "full, so they would equal those of the fully occupied structure; use "
    "MEGNetSiteFeaturizer (its sets weight each site by its occupancy) or an ordered structure"
)
_CITATION = (
    "@article{chen2019megnet, title={Graph Networks as a Universal Machine Learning "
    "Framework for Molecules and Crystals}, author={Chen, Chi and Ye, Weike and Zuo, "
    "Yunxing and Zheng, Chen and Ong, Shyue Ping}, journal={Chem. Mater.}, volume={31}, "
    "pages={3564--3572}, year={2019}}"
)


class MEGNetParent(Parent):
    """A MEGNet network as a parent.

    Parameters
    ----------
    model : str, path or MEGNet, default="formation_energy_mp-2019.4.1"
        A shipped model name, a parent file (:func:`skatomsets.megnet.save_parent`) or a module.
    batch_size : int, default=64
        Structures per forward pass.
    allow_isolated : bool, default=False
        Accept structures with a site that has no neighbour within the cutoff.

    Raises
    ------
    ValueError
        For a ``batch_size`` that is not a positive integer, or a ``model`` that is neither
        a shipped name nor a file.
    """

    default_structure_feature = "f"
    prefix = "megnet"
    title = "MEGNet"
    citations = (_CITATION,)

    def __init__(
        self,
        model: str | Path | MEGNet = "formation_energy_mp-2019.4.1",
        batch_size: int = 64,
        allow_isolated: bool = False,
    ) -> None:
        from ..megnet.model import MEGNet
        from ..megnet.weights import resolve_model

        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        # a shipped name or a file: a private copy (fine-tuning it in place changes no other
        # parent); a module passed in is the caller's own and used as it is
        self.model = (
            model if isinstance(model, MEGNet) else shipped_copy(lambda: resolve_model(model))
        )
        self.batch_size = int(batch_size)
        self.allow_isolated = allow_isolated
        cfg = self.model.config
        self.name = "megnet"
        self.cutoff = float(cfg.cutoff)
        self.n_levels = cfg.n_blocks
        width = cfg.block_units[-1]
        self.structure_widths = {f"u{k}": width for k in range(1, cfg.n_blocks + 1)}
        self.structure_widths.update(
            v_r=2 * cfg.set2set_hidden,
            e_r=2 * cfg.set2set_hidden,
            f=4 * cfg.set2set_hidden + width,
            prediction=cfg.n_targets,
        )

    def site_width(self, level: int) -> int:
        cfg = self.model.config
        return cfg.embedding_dim if level == 0 else cfg.block_units[-1]

    def checksum(self) -> str:
        """The network's own checksum (configuration and weights, taken now)."""
        return self.model.checksum()

    def cache_namespace(self) -> str:
        """``checksum[:32]``: the cache layout of the MEGNet featurizers since 0.1.0, so
        feature caches written by earlier versions stay valid."""
        return self.checksum()[:32]

    def structure_level(self, key: str) -> int:
        """``u<k>`` comes out of block ``k``; the readouts need every block."""
        if key.startswith("u") and key[1:].isdigit():
            return int(key[1:])
        return self.n_levels

    def parameters_for_checksum(self) -> list[np.ndarray]:  # pragma: no cover - see checksum
        return [t.detach().cpu().numpy() for _, t in sorted(self.model.state_dict().items())]

    def check_structures(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> None:
        """Structure-level features refuse vacancies (MEGNet counts every site in full)."""
        from ..megnet.graph import check_full_occupancy

        if any(k in self.structure_widths for k in keys):
            check_full_occupancy(
                structures,
                rows,
                VACANCY_HELP,
            )

    def element_table(self) -> tuple[np.ndarray, list[str]]:
        from ..elements import load_element_table

        table, _ = load_element_table("megnet16")
        return table, [f"{self.prefix}_V0_{j}" for j in range(table.shape[1])]

    def compute(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> dict[str, list[np.ndarray]]:
        import torch

        from ..megnet.graph import build_graphs

        model = self.model
        # graphs go to the model's device (a MEGNet moved to CUDA featurizes there)
        param = next(model.parameters())
        dtype, device = param.dtype, param.device
        net_keys = tuple(k for k in keys if k != "site_weight")
        out: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        for start in range(0, len(structures), self.batch_size):
            stop = min(start + self.batch_size, len(structures))
            g = build_graphs(
                structures[start:stop],
                cutoff=model.config.cutoff,
                max_z=min(model.config.n_elements - 1, MAX_Z),
                allow_isolated=bool(self.allow_isolated),
                rows=list(rows[start:stop]),
            )
            with torch.inference_mode():
                feats = model.features(g.to_torch(dtype=dtype, device=device), keys=net_keys)
            self.append_batch(out, feats, keys, g.site_offsets, g.site_weight)
        return out


INFO = ParentInfo(
    name="megnet",
    title="MEGNet",
    label="MEGNet mp-2019.4.1",
    prefix="megnet",
    n_levels=3,
    site_widths=(16, 32, 32, 32),
    structure_widths={"u1": 32, "u2": 32, "u3": 32, "v_r": 32, "e_r": 32, "f": 96,
                      "prediction": 1},
    default_structure_feature="f",
    cutoff=5.0,
    citation=_CITATION,
    element_table="megnet16",
    mlp_features=("u1", "u2", "u3", "f", "v_r"),
    descriptions={
        "u1": "block-1 state vector u1",
        "u2": "block-2 state vector u2",
        "u3": "block-3 state vector u3",
        "f": "readout vector f",
        "v_r": "atom Set2Set readout v_r",
    },
    paper=True,
    paper_rows={
        "V0": "Table 2, AtomSets-V0",
        "V1": "Table 2, AtomSets-V1",
        "V2": "Table 2, AtomSets-V2",
        "V3": "Table 2, AtomSets-V3",
        "u1": "Table S4, MLP-u1",
        "u2": "Table S4, MLP-u2",
        "u3": "Table S4, MLP-u3",
        "f": "Table 2, MLP-f",
        "v_r": "Table S4, MLP-v_r",
    },
)  # fmt: skip


@register_parent(INFO)
def _megnet() -> MEGNetParent:
    return MEGNetParent()
