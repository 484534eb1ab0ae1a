"""SevenNet-0 (Park et al., J. Chem. Theory Comput. 20, 4857 (2024)) as a parent network.

SevenNet-0 (11 July 2024) is an E(3)-equivariant interatomic potential (NequIP
architecture, 5 interaction blocks, 5 Å cutoff) trained on the Materials Project trajectory
set (MPtrj). Its checkpoint ships inside the ``sevenn`` wheel (MIT licence), an optional
dependency: ``pip install 'skatomsets[sevennet]'``; nothing is downloaded.

Levels, as in AtomSets' hierarchy:

- ``V0``: its 128-dim element embedding (the linear map of the one-hot species, 89
  elements; also the element table ``sevennet0``, so it works on formulas);
- ``V1``..``V5``: the invariant node features after each interaction block (the output of
  its gate): the 128 scalar (``l = 0``, even) channels; the vector and tensor channels
  (``l = 1, 2``) are not invariant under rotations and are left out;
- ``crystal``: the mean of ``V5`` over the sites (128); ``energy``: SevenNet's predicted
  energy per atom (eV/atom), without D3 dispersion.

The graphs of a whole batch are built here (pymatgen's neighbour list, the same pairs and
bond vectors as SevenNet's own graph builder) and SevenNet's own modules run on the batch:
energies' path only (no forces or stresses, no autograd: ``torch.inference_mode``), the
blocks after the deepest requested level skipped. SevenNet needs ordered structures and
covers 89 elements; anything else is refused with an error naming the row.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from .. import _csr
from ..exceptions import GraphConstructionError
from ..io.materials import MAX_Z
from .base import (
    Parent,
    ParentInfo,
    check_ordered,
    import_optional,
    register_parent,
    shipped_copy,
)

__all__ = ["SevenNetParent"]

_CITATION = (
    "@article{park2024sevennet, title={Scalable Parallel Algorithm for Graph Neural Network "
    "Interatomic Potentials in Molecular Dynamics Simulations}, author={Park, Yutack and "
    "Kim, Jaesun and Hwang, Seungwoo and Han, Seungwu}, journal={J. Chem. Theory Comput.}, "
    "volume={20}, number={11}, pages={4857--4868}, year={2024}}"
)

INFO = ParentInfo.potential(
    "sevennet", "SevenNet", "SevenNet-0 (11Jul2024)", n_levels=5, width=128, cutoff=5.0,
    citation=_CITATION, requires="sevenn", element_table="sevennet0",
)  # fmt: skip

#: Shipped checkpoints by name (paths inside the ``sevenn`` wheel).
_SHIPPED = {"7net-0": "SEVENNET_0_11Jul2024"}
#: Most bonds (directed edges) in one forward pass; a batch is cut before it. A forward pass
#: holds ~32 KB per bond (the tensor products' messages and weights: measured 0.97 GB for
#: 30,000 bonds), so a pass stays near 0.5 GB.
MAX_EDGES = 16_000


@cache
def _pretrained(name: str) -> Any:
    """The shipped SevenNet checkpoint ``name`` as a module (loaded once, evaluation mode)."""
    import os

    if name not in _SHIPPED:
        raise ValueError(
            f"model must be one of {list(_SHIPPED)} or a SevenNet module, got {name!r}"
        )
    const = import_optional("sevennet", "sevenn._const")
    util = import_optional("sevennet", "sevenn.util")
    path = getattr(const, _SHIPPED[name])
    if not os.path.isfile(path):  # never download at run time
        raise FileNotFoundError(f"the sevenn wheel has no {name} checkpoint at {path}")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        model = util.load_checkpoint(path).build_model()
    model.eval()
    return model


def _scalar_columns(irreps: Any) -> list[int]:
    """Columns of the even ``l = 0`` channels of an e3nn ``Irreps`` layout."""
    cols: list[int] = []
    for (_, ir), sl in zip(irreps, irreps.slices(), strict=True):
        if ir.l == 0 and ir.p == 1:
            cols.extend(range(sl.start, sl.stop))
    return cols


class SevenNetParent(Parent):
    """A SevenNet model as a :class:`~skatomsets.parents.Parent`.

    Parameters
    ----------
    model : str or sevenn AtomGraphSequential, default="7net-0"
        ``"7net-0"`` (SevenNet-0, 11Jul2024, shipped in the ``sevenn`` wheel) or a SevenNet
        module (e.g. one you fine-tuned; its current weights are used).
    batch_size : int, default=16
        Structures per forward pass (a pass is also cut at :data:`MAX_EDGES` bonds).
    allow_isolated : bool, default=False
        Accept structures with an atom that has no neighbour within the 5 Å cutoff.
    """

    default_structure_feature = "crystal"
    prefix = "sevennet"
    title = "SevenNet"
    citations = (_CITATION,)

    def __init__(
        self, model: Any = "7net-0", batch_size: int = 16, allow_isolated: bool = False
    ) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        # a shipped checkpoint is shared read-only until `model` is asked for (then copied:
        # fine-tuning it in place changes no other parent); a module passed in is the
        # caller's own and used as it is
        self._net = _pretrained(model) if isinstance(model, str) else model
        self._shared = isinstance(model, str)
        self.batch_size = int(batch_size)
        self.allow_isolated = allow_isolated
        self.name = f"sevennet-{model}" if isinstance(model, str) else "sevennet-custom"
        self.cutoff = float(self._net.cutoff)
        mods = self._net._modules
        self._gates = [k for k in mods if k.endswith("_equivariant_gate")]
        self.n_levels = len(self._gates)
        self._scalars = [_scalar_columns(mods[k].gate.irreps_out) for k in self._gates]
        self._width0 = int(mods["onehot_to_feature_x"].irreps_out.dim)
        width = len(self._scalars[-1])
        self.structure_widths = {"crystal": width, "energy": 1}
        type_map = dict(self._net.type_map)
        self._type_index = np.full(MAX_Z + 1, -1, dtype=np.int64)
        for z, i in type_map.items():
            if 0 < int(z) <= MAX_Z:
                self._type_index[int(z)] = int(i)

    @property
    def model(self) -> Any:
        """The network, this parent's own: a shipped one is copied when first asked for.

        Featurizing never asks, so default featurizers share the one shipped network (a
        copy takes ~2 s: e3nn recompiles its modules); whoever takes ``model`` to change it
        in place changes this parent only.
        """
        if self._shared:
            self._net = shipped_copy(lambda: self._net)
            self._shared = False
        return self._net

    # ------------------------------------------------------------------ description
    def site_width(self, level: int) -> int:
        return self._width0 if level == 0 else len(self._scalars[level - 1])

    def parameters_for_checksum(self) -> list[np.ndarray]:
        state = self._net.state_dict()
        # e3nn's generated code keeps constants (Clebsch-Gordan tables, fixed by the
        # irreps) in the state under names that change when a module is copied: not weights
        keys = sorted(k for k in state if "._compiled_" not in k)
        arrays = [np.frombuffer(repr(self.cutoff).encode(), np.uint8), self._type_index]
        arrays += [state[k].detach().cpu().numpy() for k in keys]
        return arrays

    def element_table(self) -> tuple[np.ndarray, list[str]]:
        import torch

        key = self._keys().NODE_FEATURE
        n_types = int(self._type_index.max()) + 1
        with torch.inference_mode():
            onehot = torch.eye(n_types, dtype=self._dtype())
            emb = self._net._modules["onehot_to_feature_x"]({key: onehot})[key]
        emb = emb.detach().cpu().numpy()
        table = np.full((MAX_Z + 1, emb.shape[1]), np.nan, dtype=np.float32)
        covered = self._type_index >= 0
        table[covered] = emb[self._type_index[covered]]
        return table, [f"{self.prefix}_V0_{j}" for j in range(emb.shape[1])]

    # ------------------------------------------------------------------ computation
    def check_structures(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> None:
        """SevenNet needs ordered structures of the elements it was trained on."""
        check_ordered(structures, rows, "SevenNet")
        for s, row in zip(structures, rows, strict=True):
            bad = [
                str(el)
                for el in s.composition.elements
                if not 0 < getattr(el, "Z", 0) <= MAX_Z or self._type_index[el.Z] < 0
            ]
            if bad:
                raise GraphConstructionError(
                    f"SevenNet-0 covers {int((self._type_index >= 0).sum())} elements "
                    f"(not {', '.join(bad)})",
                    row,
                )

    def _keys(self) -> Any:
        return import_optional("sevennet", "sevenn._keys")

    def _dtype(self) -> Any:
        return next(self._net.parameters()).dtype

    def _graph(self, s: Any, row: int) -> tuple[np.ndarray, ...]:
        """Bonds of one structure: SevenNet's (center, neighbour) pairs and bond vectors."""
        center, nbr, images, dist = s.get_neighbor_list(r=self.cutoff, exclude_self=False)
        keep = (center != nbr) | (dist > 1e-8)
        center, nbr, images = center[keep], nbr[keep], images[keep]
        if not self.allow_isolated:
            from ..megnet.graph import check_isolated  # imports torch: not at module load

            check_isolated(s, center, row, f"SevenNet's {self.cutoff:g} Å cutoff", "accepts it")
        cart = s.cart_coords
        vec = cart[nbr] + images @ s.lattice.matrix - cart[center]
        return center.astype(np.int64), nbr.astype(np.int64), vec

    def _batches(self, graphs: list[tuple[np.ndarray, ...]]) -> list[tuple[int, int]]:
        """Runs of structures: at most ``batch_size`` and :data:`MAX_EDGES` bonds each."""
        out, start, edges = [], 0, 0
        for i, g in enumerate(graphs):
            n = len(g[0])
            if i > start and (i - start >= self.batch_size or edges + n > MAX_EDGES):
                out.append((start, i))
                start, edges = i, 0
            edges += n
        if graphs:
            out.append((start, len(graphs)))
        return out

    def compute(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> dict[str, list[np.ndarray]]:
        import torch

        keys = tuple(keys)
        want_structure, deepest = self.forward_plan(keys)
        out: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        graphs = [self._graph(s, r) for s, r in zip(structures, rows, strict=True)]
        for start, stop in self._batches(graphs):
            chunk = structures[start:stop]
            counts = np.array([len(s) for s in chunk], dtype=np.int64)
            offsets = _csr.offsets_from_counts(counts)
            with torch.inference_mode():
                feats = self._forward(chunk, graphs[start:stop], offsets, deepest, want_structure)
            if want_structure:
                owners = torch.as_tensor(np.repeat(np.arange(len(chunk)), counts))
                n = torch.as_tensor(counts, dtype=feats[f"V{self.n_levels}"].dtype)
                if "crystal" in want_structure:
                    last = feats[f"V{self.n_levels}"]
                    total = torch.zeros((len(chunk), last.shape[1]), dtype=last.dtype)
                    feats["crystal"] = total.index_add_(0, owners, last) / n.view(-1, 1)
                if "energy" in want_structure:
                    site_e = feats["_atomic_energy"].reshape(-1)
                    total = torch.zeros(len(chunk), dtype=site_e.dtype)
                    feats["energy"] = (total.index_add_(0, owners, site_e) / n).view(-1, 1)
            self.append_batch(out, feats, keys, offsets)
        return out

    def _forward(
        self,
        chunk: Sequence[Any],
        graphs: Sequence[tuple[np.ndarray, ...]],
        offsets: np.ndarray,
        deepest: int,
        want_structure: Sequence[str],
    ) -> dict[str, Any]:
        """Node features ``V0..V<deepest>`` of a batch (SevenNet's own modules, in order)."""
        import torch

        key = self._keys()
        m = self._net
        dtype = self._dtype()
        device = next(m.parameters()).device
        z = np.concatenate([np.asarray(s.atomic_numbers, dtype=np.int64) for s in chunk])
        shift = np.repeat(offsets[:-1], [len(g[0]) for g in graphs])
        src = np.concatenate([g[0] for g in graphs]) + shift
        dst = np.concatenate([g[1] for g in graphs]) + shift
        vec = np.concatenate([g[2] for g in graphs]) if graphs else np.zeros((0, 3))
        data: dict[str, Any] = {
            key.NODE_FEATURE: torch.as_tensor(self._type_index[z], device=device),
            key.ATOMIC_NUMBERS: torch.as_tensor(z, device=device),
            key.EDGE_IDX: torch.as_tensor(np.stack([src, dst]), device=device),
            key.EDGE_VEC: torch.as_tensor(vec, dtype=dtype, device=device),
            key.BATCH: torch.as_tensor(
                np.repeat(np.arange(len(chunk)), np.diff(offsets)), device=device
            ),
        }
        feats: dict[str, Any] = {}
        energy = "energy" in want_structure
        level = 0
        for name, module in m._modules.items():
            if type(module).__name__ in ("AtomReduce", "ForceStressOutputFromEdge"):
                break  # energies' path only: no total energy reduction, forces or stress
            data = module(data)
            if name == "onehot_to_feature_x":
                feats["V0"] = data[key.NODE_FEATURE]
                if deepest == 0:
                    return feats
            elif name.endswith("_equivariant_gate"):
                level += 1
                x = data[key.NODE_FEATURE]
                cols = self._scalars[level - 1]
                feats[f"V{level}"] = x if len(cols) == x.shape[1] else x[:, cols]
                if level == deepest and not (energy and level == self.n_levels):
                    return feats
        if energy:
            feats["_atomic_energy"] = data[key.ATOMIC_ENERGY]
        return feats


@register_parent(INFO)
def _sevennet() -> SevenNetParent:
    return SevenNetParent("7net-0")
