"""SevenNet-0 featurization throughput: the package's featurizer vs sevenn's own call, one run.

Loads structures (default: the dielectric set, ``../shared/data/structures``), then times, on
the same structures and alternating the two (``--repeats`` rounds, the median reported):

- **sevenn calculator**: ``SevenNetCalculator("7net-0")`` on each structure in turn
  (``atoms.get_potential_energy()``: sevenn's own per-structure call, which also computes
  forces and stress), the node features read by a forward hook on its last interaction
  block;
- **ours**: ``ParentSiteFeaturizer("sevennet", level=--level, cache=False)`` (energies' path
  only, no autograd, batched graphs) in one process with the same torch threads;
- **ours, n_jobs**: the same with ``n_jobs=--jobs`` worker processes of one thread each.

Both give the same features (checked, to 1e-4 of float32). Prints the CPU model, structures/s
and the ratios.

Usage::

    python scripts/bench_sevennet_featurize.py [--limit 200] [--jobs 2] [--level 5]
"""

from __future__ import annotations

import warnings

import numpy as np

from skatomsets.benchmarks.timing import (
    cpu_model,
    featurize_bench_parser,
    featurizer_runs,
    load_structures,
    print_throughput,
    time_alternating,
)


def main() -> None:
    parser = featurize_bench_parser(__doc__, __file__, limit=200, batch_size=16)
    parser.add_argument("--level", type=int, default=5, help="SevenNet level (1..5)")
    args = parser.parse_args()

    import torch
    from pymatgen.io.ase import AseAtomsAdaptor
    from sevenn.calculator import SevenNetCalculator

    from skatomsets.featurizers import ParentSiteFeaturizer
    from skatomsets.parents.sevennet import SevenNetParent

    warnings.filterwarnings("ignore")
    structures = load_structures(args.data, args.limit)
    n = len(structures)
    print(f"CPU: {cpu_model()}")
    print(
        f"{n} structures ({sum(len(s) for s in structures)} sites) from {args.data.name}; "
        f"torch threads {torch.get_num_threads()}; level V{args.level}"
    )

    calc = SevenNetCalculator("7net-0", device="cpu")
    gate = f"{args.level - 1}_equivariant_gate"
    captured: list[np.ndarray] = []

    def hook(module, inputs, output) -> None:
        captured.append(output["x"][:, :128].detach().numpy().copy())

    calc.model._modules[gate].register_forward_hook(hook)
    atoms = [AseAtomsAdaptor.get_atoms(s) for s in structures]

    def sevenn() -> np.ndarray:
        captured.clear()
        for a in atoms:
            a.calc = calc
            a.get_potential_energy()
        return np.concatenate(captured)

    def ours(jobs: int | None) -> ParentSiteFeaturizer:
        parent = SevenNetParent(batch_size=args.batch_size, allow_isolated=True)
        return ParentSiteFeaturizer(parent, level=args.level, cache=False, n_jobs=jobs)

    runs = {"sevenn calculator": sevenn, **featurizer_runs(ours, structures, args.jobs)}

    def agree(name: str, out: np.ndarray, ref: np.ndarray) -> None:
        err = np.abs(out - ref).max() / max(1.0, np.abs(ref).max())
        if err > 1e-4:
            raise SystemExit(f"{name}: features differ from sevenn's by {err:.2e}")

    times = time_alternating(runs, args.repeats, agree)
    print_throughput(times, n, "sevenn calculator", "sevenn", 24)


if __name__ == "__main__":
    main()
