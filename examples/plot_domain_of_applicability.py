"""
Domain of applicability and class-probability spread
=====================================================

``domain_score(X)`` measures how far each material is from the training data in the trained
network's own latent space (the input of its last linear layer): the mean distance to the 5
nearest training materials, relative to the typical distance among the training materials
(1 = typical). Above ``domain_threshold_`` (the 99th percentile of the training materials'
own scores) ``out_of_domain(X)`` flags the material. ``skatomsets.uncertainty`` does the
same for a whole Pipeline.

A steels model asked about a sulfide or table salt now says that it is out of its depth;
on the steels' own held-out rows the score ranks the errors. For classifiers,
``predict_proba(X, return_std=True)`` gives the ensemble spread of each class probability.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import spearmanr

from skatomsets.datasets import load_dataset
from skatomsets.models import make_model
from skatomsets.uncertainty import domain_score, domain_threshold, out_of_domain

torch.set_num_threads(1)

df = load_dataset("matbench_steels")
train, test = df[df.test_fold != 0], df[df.test_fold == 0]
params = {"max_epochs": 150, "patience": 30, "batch_size": 32, "random_state": 0}
model = make_model("atomsets-v0", **params).fit(train.composition, train.target)

err = np.abs(model.predict(test.composition) - test.target.to_numpy())
score = domain_score(model, test.composition)
threshold = domain_threshold(model)
print(f"Spearman(domain score, |error|) on held-out steels: {spearmanr(score, err)[0]:.2f}")

foreign = ["Yb(InS2)3", "NaCl", "Fe0.7Cr0.18Ni0.1C0.02"]
for formula, s, flag, pred in zip(
    foreign,
    domain_score(model, foreign),
    out_of_domain(model, foreign),
    model.predict(foreign),
    strict=True,
):
    print(f"{formula:>22}: {pred:7.0f} MPa, domain score {s:6.1f}, out of domain: {flag}")

# class-probability spread of a small classifier ensemble
strong = (train.target > train.target.median()).to_numpy()
clf = make_model("atomsets-v0", classification=True, n_ensemble=3, **{**params, "max_epochs": 40})
proba, proba_std = clf.fit(train.composition, strong).predict_proba(
    test.composition[:3], return_std=True
)
print("P(strong):", proba[:, 1].round(2), "+/-", proba_std[:, 1].round(2))

fig, ax = plt.subplots(figsize=(4, 3))
ax.scatter(score, err, s=10)
ax.axvline(threshold, color="k", ls="--", label="threshold")
ax.set(xlabel="domain score", ylabel="|error| (MPa)", xscale="log")
ax.legend()
fig.tight_layout()
