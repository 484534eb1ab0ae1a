"""CHGNet (Deng et al., Nat. Mach. Intell. 5, 1031 (2023)) as a parent network.

CHGNet is a universal interatomic potential trained on the Materials Project trajectory set
(MPtrj: ~1.5 million structures with energies, forces, stresses and magnetic moments). Its
pretrained weights ship inside the ``chgnet`` wheel on PyPI (Modified BSD), an optional
dependency: ``pip install skatomsets[chgnet]``.

Levels, as in AtomSets' hierarchy:

- ``V0``: the 64-dim element embedding (a compositional feature; also an element table, so it
  works on formulas);
- ``V1``..``V4``: the atom features after each of its 4 interaction blocks (64 each; ``V3``
  is what ``CHGNet.predict_structure(return_atom_feas=True)`` returns, ``V4`` is the output of
  the last block after its layer norm, which enters the per-site energy MLP);
- ``crystal``: the mean of ``V4`` over the sites (CHGNet's ``crystal_fea`` divided by the
  number of sites, so that a supercell gets the features of its cell; 64);
  ``energy``: CHGNet's predicted energy (eV/atom), as ``predict_structure`` gives it.

Only energies' forward path is run: no forces, stresses or magnetic moments, no autograd
(``torch.inference_mode``), many structures per batch, and the blocks after the deepest
requested level are skipped. CHGNet needs ordered structures; a disordered one is refused
with an error naming the row.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any

import numpy as np

from .. import _csr
from ..exceptions import GraphConstructionError
from ..io.materials import MAX_Z
from ._chgnet_graph import batch_graph
from .base import (
    Parent,
    ParentInfo,
    check_ordered,
    import_optional,
    register_parent,
    shipped_copy,
)

__all__ = ["CHGNetParent"]

_CITATION = (
    "@article{deng2023chgnet, title={CHGNet as a pretrained universal neural network potential "
    "for charge-informed atomistic modelling}, author={Deng, Bowen and Zhong, Peichen and Jun, "
    "KyuJung and Riebesell, Janosh and Han, Kevin and Bartel, Christopher J. and Ceder, "
    "Gerbrand}, journal={Nat. Mach. Intell.}, volume={5}, pages={1031--1041}, year={2023}}"
)


INFO = ParentInfo.potential(
    "chgnet", "CHGNet", "CHGNet v0.3.0", n_levels=4, width=64, cutoff=6.0,
    citation=_CITATION, requires="chgnet", element_table="chgnet64",
)  # fmt: skip


def _import_chgnet() -> Any:
    return import_optional("chgnet", "chgnet.model").CHGNet


@cache
def _pretrained(version: str) -> Any:
    """The pretrained CHGNet ``version`` (loaded once per process, evaluation mode; never
    handed out: :class:`CHGNetParent` works on a copy)."""
    chgnet_cls = _import_chgnet()
    with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints on construction
        model = chgnet_cls.load(model_name=version, use_device="cpu", verbose=False)
    model.eval()
    return model


class CHGNetParent(Parent):
    """A CHGNet model as a :class:`~skatomsets.parents.Parent`.

    Parameters
    ----------
    model : str or chgnet.model.CHGNet, default="0.3.0"
        A pretrained version shipped in the ``chgnet`` wheel (``"0.3.0"``, ``"0.2.0"``) or a
        CHGNet module (e.g. one you fine-tuned; its current weights are used).
    batch_size : int, default=32
        Structures per forward pass.
    allow_isolated : bool, default=False
        Accept structures with an atom that has no neighbour within CHGNet's 6 Å cutoff.
    """

    default_structure_feature = "crystal"
    prefix = "chgnet"
    title = "CHGNet"
    citations = (_CITATION,)
    cutoff = 6.0

    def __init__(
        self, model: Any = "0.3.0", batch_size: int = 32, allow_isolated: bool = False
    ) -> None:
        # a shipped version: a private copy (fine-tuning it in place changes no other
        # parent, and no default featurizer); a module passed in is used as it is
        self.model = shipped_copy(lambda: _pretrained(model)) if isinstance(model, str) else model
        self.batch_size = batch_size
        self.allow_isolated = allow_isolated
        version = self.model.version if isinstance(model, str) else "custom"
        self.name = f"chgnet-{version}"
        self.n_levels = int(self.model.n_conv)
        width = int(self.model.atom_embedding.embedding.embedding_dim)
        self._width = width
        self.structure_widths = {"crystal": width, "energy": 1}

    # ------------------------------------------------------------------ description
    def site_width(self, level: int) -> int:
        return self._width

    def parameters_for_checksum(self) -> list[np.ndarray]:
        state = self.model.state_dict()
        arrays = [np.frombuffer(repr(sorted(self.model.model_args.items())).encode(), np.uint8)]
        arrays += [state[k].detach().cpu().numpy() for k in sorted(state)]
        return arrays

    def element_table(self) -> tuple[np.ndarray, list[str]]:
        weight = self.model.atom_embedding.embedding.weight.detach().cpu().numpy()
        table = np.full((MAX_Z + 1, weight.shape[1]), np.nan, dtype=np.float32)
        table[1 : 1 + len(weight)] = weight  # embedding row Z - 1 is element Z
        return table, [f"{self.prefix}_V0_{j}" for j in range(weight.shape[1])]

    # ------------------------------------------------------------------ computation
    def check_structures(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> None:
        """CHGNet needs ordered structures."""
        check_ordered(structures, rows, "CHGNet")

    def _check_elements(self, structures: Sequence[Any], rows: Sequence[int]) -> None:
        n_z = len(self.model.atom_embedding.embedding.weight)  # elements Z = 1..n_z
        for s, row in zip(structures, rows, strict=True):
            bad = [str(sp) for sp in s.composition if getattr(sp, "Z", MAX_Z + 1) > n_z]
            if bad:
                raise GraphConstructionError(
                    f"CHGNet covers elements Z = 1..{n_z}; got {', '.join(bad)}",
                    row,
                )

    def compute(
        self, structures: Sequence[Any], rows: Sequence[int], keys: Sequence[str]
    ) -> dict[str, list[np.ndarray]]:
        import torch

        keys = tuple(keys)
        want_structure, deepest = self.forward_plan(keys)
        out: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        m = self.model
        self._check_elements(structures, rows)
        for start in range(0, len(structures), self.batch_size):
            chunk = structures[start : start + self.batch_size]
            with torch.inference_mode():
                g = batch_graph(
                    m, chunk, rows[start : start + self.batch_size], self.allow_isolated
                )
                feats = self._forward(g, deepest)
                counts = torch.bincount(g.atom_owners, minlength=len(chunk))
                if want_structure:
                    owners = g.atom_owners
                    per_site = counts.to(feats["V0"].dtype).view(-1, 1)
                    if "crystal" in want_structure:
                        # CHGNet's crystal_fea sums over sites; the mean does not grow with
                        # the cell (a supercell gets the features of its primitive cell)
                        crystal = m.pooling(feats[f"V{self.n_levels}"], owners)
                        feats["crystal"] = crystal / per_site
                    if "energy" in want_structure:
                        site_e = m.mlp(feats[f"V{self.n_levels}"])
                        energy = m.pooling(site_e, owners).view(-1) / per_site.view(-1)
                        if m.composition_model is not None:
                            # CHGNet's AtomRef reads only each graph's atomic numbers
                            z = torch.split(g.atomic_numbers, counts.tolist())
                            graphs = [SimpleNamespace(atomic_number=a) for a in z]
                            energy = energy + m.composition_model(graphs).view(-1)
                        feats["energy"] = energy.view(-1, 1)
            self.append_batch(out, feats, keys, _csr.offsets_from_counts(counts.numpy()))
        return out

    def _forward(self, g: Any, deepest: int) -> dict[str, Any]:
        """Atom features ``V0..V<deepest>`` of a batched graph (energies' path only)."""
        m = self.model
        atom = m.atom_embedding(g.atomic_numbers - 1)
        feats = {"V0": atom}
        if deepest == 0:
            return feats
        bond = m.bond_embedding(g.bond_bases_ag)
        w_ag = m.bond_weights_ag(g.bond_bases_ag)
        w_bg = m.bond_weights_bg(g.bond_bases_bg)
        angle = m.angle_embedding(g.angle_bases) if len(g.angle_bases) else None
        for level in range(1, deepest + 1):
            atom = m.atom_conv_layers[level - 1](
                atom_feas=atom,
                bond_feas=bond,
                bond_weights=w_ag,
                atom_graph=g.batched_atom_graph,
                directed2undirected=g.directed2undirected,
            )
            if level == self.n_levels:
                if m.readout_norm is not None:
                    atom = m.readout_norm(atom)
                feats[f"V{level}"] = atom
                break
            feats[f"V{level}"] = atom
            if level == deepest:
                break
            bond_layer = m.bond_conv_layers[level - 1]
            if angle is not None and bond_layer is not None:
                bond = bond_layer(
                    atom_feas=atom,
                    bond_feas=bond,
                    bond_weights=w_bg,
                    angle_feas=angle,
                    bond_graph=g.batched_bond_graph,
                )
                angle_layer = m.angle_layers[level - 1]
                if angle_layer is not None:
                    angle = angle_layer(
                        atom_feas=atom,
                        bond_feas=bond,
                        angle_feas=angle,
                        bond_graph=g.batched_bond_graph,
                    )
        return feats


@register_parent(INFO)
def _chgnet() -> CHGNetParent:
    return CHGNetParent("0.3.0")
