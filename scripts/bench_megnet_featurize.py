"""Benchmark MEGNet featurization (V1, V2, V3 site sets and the structure vector f).

Loads the FLLA structures (``../shared/data/structures/flla_2015.json.gz``, 3938 records),
then, with a cold in-memory cache, featurizes them into V1, V2, V3 (site sets) and f
(structure vectors), as an AtomSets user would. Prints the throughput in structures per
second, the time split between graph building and the network, and the peak memory
(``ru_maxrss`` of the process, and the tracemalloc peak of Python/numpy allocations during
featurization; torch's own buffers are not seen by tracemalloc).

Usage::

    python scripts/bench_megnet_featurize.py [--threads 2] [--batch-size 64] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import time
import tracemalloc
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
FLLA = ROOT.parent / "shared" / "data" / "structures" / "flla_2015.json.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--batch-size", type=int, default=64, help="structures per pass")
    parser.add_argument("--limit", type=int, default=None, help="use the first N structures")
    parser.add_argument("--data", type=Path, default=FLLA)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from pymatgen.core import Structure

    from skatomsets.featurizers.megnet import MEGNetSiteFeaturizer, MEGNetStructureFeaturizer
    from skatomsets.megnet import build_graphs, load_pretrained
    from skatomsets.megnet.cache import clear_memory_cache

    t0 = time.perf_counter()
    with gzip.open(args.data, "rt") as fh:
        records = json.load(fh)[: args.limit]
    structures = [Structure.from_dict(r["structure"]) for r in records]
    n = len(structures)
    n_sites = sum(len(s) for s in structures)
    print(f"loaded {n} structures ({n_sites} sites) in {time.perf_counter() - t0:.1f} s")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    common = {"batch_size": args.batch_size, "allow_isolated": True}
    site = [MEGNetSiteFeaturizer(level=k, **common).fit() for k in (1, 2, 3)]
    struct = MEGNetStructureFeaturizer(features=("f",), **common).fit()
    site[0].transform(structures[:8])  # warm-up (lazy imports, allocator)
    clear_memory_cache()

    def featurize_all() -> float:
        t0 = time.perf_counter()
        v3 = site[2].transform(structures)  # one forward pass: V1..V3 and f are cached
        v1 = site[0].transform(structures)
        v2 = site[1].transform(structures)
        f = struct.transform(structures)
        assert len(v1) == len(v2) == len(v3) == n and f.shape == (n, 96)
        return time.perf_counter() - t0

    total = featurize_all()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    clear_memory_cache()
    tracemalloc.start()  # second cold run, traced (tracemalloc slows allocations down)
    featurize_all()
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # split: graph building alone, network alone
    t0 = time.perf_counter()
    graphs = build_graphs(structures, allow_isolated=True)
    t_graph = time.perf_counter() - t0
    model = load_pretrained()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for chunk in graphs.chunks(args.batch_size):
            model.features(chunk.to_torch(), keys=("V1", "V2", "V3", "f"))
    t_net = time.perf_counter() - t0
    # warm cache: a grid search refitting the featurizers
    t0 = time.perf_counter()
    for fz in (*site, struct):
        fz.transform(structures)
    t_warm = time.perf_counter() - t0

    print(f"torch threads {torch.get_num_threads()}, batch size {args.batch_size}")
    print(f"V1+V2+V3+f, cold cache : {total:6.2f} s = {n / total:7.0f} structures/s")
    print(f"  graph building alone : {t_graph:6.2f} s = {n / t_graph:7.0f} structures/s")
    print(f"  network alone        : {t_net:6.2f} s = {n / t_net:7.0f} structures/s")
    print(f"V1+V2+V3+f, warm cache : {t_warm:6.2f} s = {n / t_warm:7.0f} structures/s")
    print(
        f"peak RSS {rss1:.0f} MiB (after loading data {rss0:.0f} MiB); tracemalloc peak "
        f"during featurization {py_peak / 2**20:.0f} MiB; {graphs.n_bonds} bonds"
    )


if __name__ == "__main__":
    main()
