"""Independent numpy reference of the pretrained MEGNet forward pass.

This script re-implements the Keras MEGNet formation-energy model (mp-2019.4.1) straight from
the converted weight file, one structure at a time, with plain numpy and explicit loops. It
shares no code with :mod:`skatomsets.megnet`: the neighbour list comes from
``Structure.get_all_neighbors`` (not ``get_neighbor_list``), the aggregations are per-atom
Python loops and the computation runs in float64. It writes
``tests/data/megnet_reference.npz`` which the tests compare the torch module against.

Run from the repository root::

    python scripts/megnet_reference.py            # writes tests/data/megnet_reference.npz
    python scripts/megnet_reference.py --check    # only prints the Li2O prediction

Conventions (those of megnet's ``MEGNetDescriptor``): ``V0`` is the atom embedding,
``Vk``/``uk`` the atom/state outputs of MEGNet block ``k`` *before* the residual addition,
``v_r`` the atom Set2Set readout and ``f`` the concatenated readout entering the final MLP.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "skatomsets" / "data" / "megnet" / "formation_energy_mp-2019.4.1.npz"
OUT = ROOT / "tests" / "data" / "megnet_reference.npz"
FLLA = ROOT.parent / "shared" / "data" / "structures" / "flla_2015.json.gz"
FLLA_IDS = ("mp-10", "mp-10004", "mp-10207")  # mp-10207 has one site (self-image bonds)

CUTOFF = 5.0
CENTERS = np.linspace(0.0, 6.0, 100)
WIDTH = 0.5


def ssp(x: np.ndarray) -> np.ndarray:
    """Shifted softplus, log(1 + exp(x)) - log(2), computed stably."""
    return np.logaddexp(0.0, x) - np.log(2.0)


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """Keras 2 hard sigmoid."""
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


class Weights:
    """Keras weight lookup by layer name."""

    def __init__(self, path: Path) -> None:
        z = np.load(path)
        self.w = {k: z[k].astype(np.float64) for k in z.files}

    def dense(self, name: str, x: np.ndarray, act: bool = True) -> np.ndarray:
        y = x @ self.w[f"{name}/{name}/kernel:0"] + self.w[f"{name}/{name}/bias:0"]
        return ssp(y) if act else y

    def phi(self, block: int, which: str, x: np.ndarray) -> np.ndarray:
        pre = f"meg_net_layer_{block}/" * 3 + f"phi_{which}/"
        for j in range(3):
            x = x @ self.w[f"{pre}weight_{which}_{j}:0"] + self.w[f"{pre}bias_{which}_{j}:0"]
            if j < 2:
                x = ssp(x)
        return x


def graph(structure: Structure) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Atomic numbers, bond (src, dst) and distances with a per-site neighbour search."""
    z = np.array([site.specie.Z for site in structure], dtype=np.int64)
    src, dst, dist = [], [], []
    for i, neighbours in enumerate(structure.get_all_neighbors(CUTOFF)):
        for nb in neighbours:
            if nb.nn_distance < 1e-8:
                continue
            src.append(i)
            dst.append(nb.index)
            dist.append(nb.nn_distance)
    return z, np.array(src), np.array(dst), np.array(dist)


def set2set(w: Weights, name: str, x: np.ndarray, steps: int = 2) -> np.ndarray:
    """megnet's Set2Set on one set: LSTM cell state restarts at zero every step."""
    m = x @ w.w[f"{name}/{name}/x_to_m_weight:0"] + w.w[f"{name}/{name}/x_to_m_bias:0"]
    kernel = w.w[f"{name}/{name}/recurrent_kernel:0"]
    bias = w.w[f"{name}/{name}/recurrent_bias:0"]
    n = m.shape[1]
    q_star = np.zeros(2 * n)
    for _ in range(steps):
        zz = q_star @ kernel + bias
        i_gate = hard_sigmoid(zz[:n])
        c = i_gate * np.tanh(zz[2 * n : 3 * n])  # forget gate multiplies a zero cell state
        o_gate = hard_sigmoid(zz[3 * n :])
        h = o_gate * np.tanh(c)
        e = np.array([np.dot(m[k], h) for k in range(len(m))])
        a = np.exp(e - e.max())
        a /= a.sum()
        r = (a[:, None] * m).sum(axis=0)
        q_star = np.concatenate([h, r])
    return q_star


def forward(w: Weights, structure: Structure) -> dict[str, np.ndarray]:
    """All reference features and the prediction for one structure."""
    z, src, dst, dist = graph(structure)
    out: dict[str, np.ndarray] = {}
    v0 = w.w["embedding_1/embedding_1/embeddings:0"][z]
    out["V0"] = v0
    bonds = np.exp(-((dist[:, None] - CENTERS[None, :]) ** 2) / WIDTH**2)
    v = w.dense("dense_2", w.dense("dense_1", v0))
    e = w.dense("dense_4", w.dense("dense_3", bonds))
    u = w.dense("dense_6", w.dense("dense_5", np.zeros((1, 2))))
    res_v, res_e, res_u = v, e, u
    pre = {2: (7, 9, 11), 3: (13, 15, 17)}
    for block in (1, 2, 3):
        if block > 1:
            a, b, c = pre[block]
            v = w.dense(f"dense_{a + 1}", w.dense(f"dense_{a}", res_v))
            e = w.dense(f"dense_{b + 1}", w.dense(f"dense_{b}", res_e))
            u = w.dense(f"dense_{c + 1}", w.dense(f"dense_{c}", res_u))
        n_bonds = len(src)
        ue = np.repeat(u, n_bonds, axis=0)
        e_new = w.phi(block, "e", np.concatenate([v[src], v[dst], e, ue], axis=1))
        agg = np.zeros((len(z), e_new.shape[1]))
        for i in range(len(z)):
            agg[i] = e_new[src == i].mean(axis=0)
        uv = np.repeat(u, len(z), axis=0)
        v_new = w.phi(block, "v", np.concatenate([agg, v, uv], axis=1))
        u_in = np.concatenate([e_new.mean(axis=0), v_new.mean(axis=0), u[0]])[None, :]
        u_new = w.phi(block, "u", u_in)
        out[f"V{block}"] = v_new
        out[f"u{block}"] = u_new[0]
        res_v, res_e, res_u = res_v + v_new, res_e + e_new, res_u + u_new
    v_r = set2set(w, "set2_set_1", res_v)
    e_r = set2set(w, "set2_set_2", res_e)
    f = np.concatenate([v_r, e_r, res_u[0]])
    out["v_r"] = v_r
    out["f"] = f
    y = w.dense("dense_21", w.dense("dense_20", w.dense("dense_19", f)), act=False)
    out["prediction"] = y.reshape(())
    return out


def reference_structures() -> tuple[list[str], list[Structure]]:
    """Li2O and two other pymatgen test structures, plus two from the FLLA set."""
    from pymatgen.util import testing

    loader = getattr(testing, "MatSciTest", None) or testing.PymatgenTest
    names = ["Li2O", "CsCl", "LiFePO4"]
    structures = [loader.get_structure(n) for n in names]
    if FLLA.exists():
        with gzip.open(FLLA, "rt") as fh:
            records = json.load(fh)
        by_id = {r["material_id"]: r for r in records}
        chosen = [by_id[i] for i in FLLA_IDS if i in by_id] or records[:2]
        for r in chosen:
            names.append(r["material_id"])
            structures.append(Structure.from_dict(r["structure"]))
    return names, structures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only print the Li2O prediction")
    args = parser.parse_args()
    w = Weights(WEIGHTS)
    names, structures = reference_structures()
    if args.check:
        print(f"Li2O: {float(forward(w, structures[0])['prediction']):.7f} eV/atom")
        return
    arrays: dict[str, np.ndarray] = {"names": np.array(names)}
    for k, (name, s) in enumerate(zip(names, structures, strict=True)):
        feats = forward(w, s)
        print(f"{name:10s} n_sites={len(s):3d} prediction={float(feats['prediction']):.7f}")
        arrays[f"s{k}_structure"] = np.array(json.dumps(s.as_dict()))
        for key, value in feats.items():
            arrays[f"s{k}_{key}"] = np.asarray(value, dtype=np.float64)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
