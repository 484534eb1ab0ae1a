"""
Quick start: AtomSets-V0 on matbench_steels
===========================================

Predict the yield strength of steels from their composition with the pretrained MEGNet
element embedding (V0) in a weighted set model, evaluated on one official MatBench fold,
and look at the parity plot.
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
    AtomSetsRegressor(batch_size=16, loss="mae", max_epochs=150, patience=50, random_state=0),
)
model.fit(train.composition, train.target)
pred = model.predict(test.composition)
print(f"test MAE on fold 0: {np.abs(pred - test.target).mean():.1f} MPa")

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(test.target, pred, s=10)
lims = [df.target.min(), df.target.max()]
ax.plot(lims, lims, "k--", lw=1)
ax.set(xlabel="yield strength (MPa)", ylabel="predicted (MPa)", title="matbench_steels, fold 0")
fig.tight_layout()
