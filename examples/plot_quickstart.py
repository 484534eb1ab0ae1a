"""
Quick start: AtomSets-V0 on matbench_steels
===========================================

Predict the yield strength of steels from their composition with the pretrained MEGNet
element embedding (V0) in a weighted set model, evaluated on one official MatBench fold,
and look at the parity plot. Everything is at its default: the training budget (batch size,
epochs, patience, loss, ensemble size, validation split, threads) is chosen in ``fit`` from
the size of the data, and recorded in the fitted attributes (``batch_size_``, ...).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_dataset

df = load_dataset("matbench_steels")
train, test = df[df.test_fold != 0], df[df.test_fold == 0]

model = make_pipeline(
    ElementEmbeddingFeaturizer("megnet16"),  # formula -> set of 16-dim element vectors
    AtomSetsRegressor(random_state=0),
)
model.fit(train.composition, train.target)
pred = model.predict(test.composition)
print(f"test MAE on fold 0: {np.abs(pred - test.target).mean():.1f} MPa")
reg = model[-1]
print(
    f"{len(train)} training rows -> batch {reg.batch_size_}, {reg.n_ensemble_} networks, "
    f"loss {reg.loss_}, best epochs {reg.best_epochs_}"
)

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(test.target, pred, s=10)
lims = [df.target.min(), df.target.max()]
ax.plot(lims, lims, "k--", lw=1)
ax.set(xlabel="yield strength (MPa)", ylabel="predicted (MPa)", title="matbench_steels, fold 0")
fig.tight_layout()
