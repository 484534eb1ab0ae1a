"""Does the domain score rank the errors? Spearman(domain score, |error|) on held-out rows.

Trains the default ``atomsets-v0`` model (random_state=0) on the official MatBench training
rows of one fold, then on that fold's test rows reports the test MAE, the Spearman rank
correlation of each uncertainty signal with the absolute error, and the MAE of the rows the
domain threshold flags versus the others.

    python scripts/domain_of_applicability.py --data-dir ../shared/data/matbench \
        --tasks matbench_expt_gap matbench_steels --fold 0 --threads 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from skatomsets.datasets import load_matbench
from skatomsets.estimators._domain import LatentDomain, latent_vectors
from skatomsets.models import make_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--tasks", nargs="+", default=["matbench_expt_gap"])
    ap.add_argument("--model", default="atomsets-v0")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--n-ensemble", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for task in args.tasks:
        df = load_matbench(task, data_dir=args.data_dir, download=False)
        train, test = df[df.test_fold != args.fold], df[df.test_fold == args.fold]
        t0 = time.perf_counter()
        model = make_model(args.model, random_state=0, n_ensemble=args.n_ensemble)
        model.fit(train.composition, train.target)
        est = model[-1]
        Xt = model[:-1].transform(test.composition)
        err = np.abs(model.predict(test.composition) - test.target.to_numpy())
        score = est.domain_score(Xt)
        flagged = score > est.domain_threshold_
        rows = [("domain score (last hidden layer)", score)]
        # the alternative latent space, for the record: the readout (input of rho)
        if hasattr(est.nets_[0].module_, "rho"):
            ref = est._data_class(est._check_X(model[:-1].transform(train.composition), False))
            dom = LatentDomain().fit(latent_vectors(est.nets_, ref, "rho"))
            data = est._data_class(est._check_X(Xt, reset=False))
            readout = dom.score(latent_vectors(est.nets_, data, "rho"))
            rows.append(("domain score (readout space)", readout))
        if args.n_ensemble > 1:
            rows.append(("ensemble std", model.predict(test.composition, return_std=True)[1]))
        print(
            f"{task} fold {args.fold}: {len(train)} train / {len(test)} test rows, "
            f"{args.model} n_ensemble={args.n_ensemble}, fit {time.perf_counter() - t0:.0f} s, "
            f"test MAE {err.mean():.4g}"
        )
        for name, s in rows:
            print(f"  Spearman({name}, |error|) = {spearmanr(s, err).statistic:.3f}")
        print(
            f"  threshold {est.domain_threshold_:.2f}: {flagged.sum()} of {len(test)} test rows "
            f"flagged ({100 * flagged.mean():.1f} %); MAE flagged "
            f"{err[flagged].mean() if flagged.any() else float('nan'):.4g} vs unflagged "
            f"{err[~flagged].mean():.4g}"
        )
        t95 = float(np.quantile(est.domain_.training_scores, 0.95))
        f95 = score > t95
        print(
            f"  (95th percentile of training scores, {t95:.2f}: {f95.sum()} flagged, MAE "
            f"{err[f95].mean() if f95.any() else float('nan'):.4g} vs {err[~f95].mean():.4g})"
        )
        q = np.quantile(score, [0.5, 0.9])
        top = score > q[1]
        print(
            f"  MAE by domain-score decile: lowest half {err[score <= q[0]].mean():.4g}, "
            f"top 10 % {err[top].mean():.4g}"
        )


if __name__ == "__main__":
    main()
