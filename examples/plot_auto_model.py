"""
Let validation choose the atom features
=======================================

``make_model("auto")`` tries several ready models (element features from every source,
their set statistics in an MLP, ...) on held-out rows of the training data, keeps the best
or the mean of the best few, and refits on all rows. What it tried and chose is printed by
``describe()`` and kept in fitted attributes. Here on 150 steels (the search at its
defaults, only two candidates to keep the docs build short).
"""

import matplotlib.pyplot as plt
import numpy as np

from skatomsets.datasets import load_dataset
from skatomsets.models import make_model
from skatomsets.plotting import ParityDisplay

df = load_dataset("matbench_steels")
train = df[df.test_fold != 0].sample(150, random_state=0)
test = df[df.test_fold == 0]

model = make_model("auto", candidates=["atomsets-v0", "mlp-v0-stats"], random_state=0)
model.fit(train.composition, train.target)
print(model.describe())

pred, std = model.predict(test.composition, return_std=True)
print(f"test MAE {np.abs(pred - test.target).mean():.1f} MPa")

fig, ax = plt.subplots(figsize=(4, 4))
ParityDisplay.from_predictions(test.target, pred, y_std=std, ax=ax)
ax.set_title("auto model, matbench_steels fold 0")
fig.tight_layout()
