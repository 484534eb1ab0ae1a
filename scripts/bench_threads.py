"""Seconds per epoch with 1 and 2 torch threads (the estimators' ``n_threads``).

A small fit (matbench_steels, fold-0 training rows, batch 16) and a ~9k-row fit
(matbench_log_gvrh, fold-0 training rows, batch 256): AtomSets-V0, one network, a fixed
number of epochs, featurized once. Run it while the machine is busy to see why
``n_threads="auto"`` is 1 below 50,000 rows::

    python scripts/bench_threads.py --data ../shared/data/matbench
"""

from __future__ import annotations

import argparse
import time

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_matbench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder of matbench_<task>.csv.gz")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 1, 2])
    args = parser.parse_args()
    for task, batch, epochs in [("matbench_steels", 16, 10), ("matbench_log_gvrh", 256, 3)]:
        df = load_matbench(task, data_dir=args.data, download=False)
        train = df[df.test_fold != 0]
        X = ElementEmbeddingFeaturizer("megnet16").fit_transform(train.composition.to_numpy())
        y = train.target.to_numpy()
        for n_threads in args.threads:
            est = AtomSetsRegressor(
                batch_size=batch,
                max_epochs=epochs,
                patience=None,
                n_ensemble=1,
                n_threads=n_threads,
                random_state=0,
                device="cpu",
            )
            t0 = time.perf_counter()
            est.fit(X, y)
            per_epoch = (time.perf_counter() - t0) / epochs
            print(
                f"{task} rows={len(train)} batch={batch} threads={n_threads}: "
                f"{per_epoch:.2f} s/epoch",
                flush=True,
            )


if __name__ == "__main__":
    main()
