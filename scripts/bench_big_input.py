"""Big-input benchmark: featurize MatBench-size inputs in chunks with bounded memory.

Parts (each prints time, throughput and the process's peak resident memory):

``compositions``
    all 132,752 matbench_mp_e_form compositions -> V0 sets (``ElementEmbeddingFeaturizer``).
``structures``
    a synthetic set of N (default 100,000) structures made from the real structure sets
    (supercells, strained and element-substituted copies of the FLLA, elastic and
    dielectric structures), generated lazily and streamed through
    ``MEGNetStructureFeaturizer(features=("f",))`` chunk by chunk: neither the structures
    nor their graphs are ever all in memory. Peak memory is printed after every chunk
    group, so a flat curve shows that it is bounded.

Usage::

    python scripts/bench_big_input.py compositions --data ../shared/data
    python scripts/bench_big_input.py structures --data ../shared/data --n 100000
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_compositions(data: Path) -> None:
    """Featurize every matbench_mp_e_form composition."""
    from skatomsets import ElementEmbeddingFeaturizer
    from skatomsets.datasets import load_matbench_csv

    df = load_matbench_csv(data / "matbench" / "matbench_mp_e_form.csv.gz")
    before = peak_rss_mib()
    t0 = time.perf_counter()
    sets = ElementEmbeddingFeaturizer(chunk_size=20000).fit_transform(df["composition"])
    dt = time.perf_counter() - t0
    print(
        f"compositions: {len(df)} in {dt:.1f} s ({len(df) / dt:,.0f}/s), "
        f"{sets.n_members} members, output {sets.values.nbytes / 2**20:.1f} MiB, "
        f"peak RSS {peak_rss_mib():.0f} MiB (before featurizing {before:.0f} MiB)"
    )


def _base_structures(data: Path) -> list:
    from pymatgen.core import Structure

    out = []
    for name in ("flla_2015", "elastic_tensor_2015", "dielectric_constant"):
        with gzip.open(data / "structures" / f"{name}.json.gz", "rt") as fh:
            out += [Structure.from_dict(r["structure"]) for r in json.load(fh)]
    return out


def synthetic_structures(bases: list, n: int, seed: int = 0) -> Iterator:
    """Yield ``n`` structures derived from ``bases`` (made on the fly, never all at once)."""
    from pymatgen.core import Element

    rng = np.random.default_rng(seed)
    for k in range(n):
        s = bases[k % len(bases)].copy()
        kind = (k // len(bases)) % 3
        if kind == 1 and len(s) <= 20:
            s.make_supercell([2, 1, 1])
        s.scale_lattice(s.volume * (1.0 + rng.uniform(-0.03, 0.03)))
        if kind == 2:
            el = s.composition.elements[0]
            group = [
                e
                for e in (
                    Element.from_row_and_group(r, el.group)
                    for r in range(1, 7)
                    if _exists(r, el.group)
                )
                if e.Z <= 94
            ]
            if group:
                s.replace_species({el: group[rng.integers(len(group))]})
        yield s


def _exists(row: int, group: int) -> bool:
    from pymatgen.core import Element

    try:
        Element.from_row_and_group(row, group)
    except ValueError:
        return False
    return True


def run_structures(data: Path, n: int, chunk_size: int) -> None:
    """Stream ``n`` synthetic structures through the MEGNet structure featurizer."""
    from skatomsets import MEGNetStructureFeaturizer

    bases = _base_structures(data)
    feat = MEGNetStructureFeaturizer(
        features=("f",), cache=False, allow_isolated=True, chunk_size=chunk_size
    ).fit()
    print(f"structures: {len(bases)} real base structures, streaming {n} in chunks of {chunk_size}")
    t0 = time.perf_counter()
    done, parts = 0, []
    stream = synthetic_structures(bases, n)
    while done < n:
        block = (next(stream) for _ in range(min(10 * chunk_size, n - done)))
        parts.append(feat.transform(block))
        done += len(parts[-1])
        dt = time.perf_counter() - t0
        print(
            f"  {done:>7d} structures  {done / dt:6.0f}/s  peak RSS {peak_rss_mib():6.0f} MiB",
            flush=True,
        )
    out = np.concatenate(parts)
    print(
        f"structures: {len(out)} x {out.shape[1]} features in {time.perf_counter() - t0:.0f} s, "
        f"peak RSS {peak_rss_mib():.0f} MiB"
    )


def main() -> None:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("part", choices=["compositions", "structures"])
    p.add_argument("--data", default="../shared/data", type=Path)
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--chunk-size", type=int, default=1024)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.part == "compositions":
        run_compositions(args.data)
    else:
        run_structures(args.data, args.n, args.chunk_size)


if __name__ == "__main__":
    main()
