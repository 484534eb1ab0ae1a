"""
Plots: parity with uncertainty, learning curves, ROC
====================================================

:mod:`skatomsets.plotting` has scikit-learn-style Displays: build them ``from_estimator``
or ``from_predictions``, they draw on the axes you pass (or a new figure) and return the
Display with ``figure_`` and ``ax_``. They never pick a matplotlib backend.
"""

import matplotlib.pyplot as plt
import torch
from sklearn.model_selection import KFold

from skatomsets.datasets import load_dataset
from skatomsets.models import make_model
from skatomsets.plotting import LearningCurveDisplay, ParityDisplay, ROCDisplay

torch.set_num_threads(1)

gaps = load_dataset("matbench_expt_gap").sample(1000, random_state=0)
train, test = gaps.iloc[:800], gaps.iloc[800:]

fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))

# %%
# Parity: a 3-network ensemble; its standard deviation becomes the error bars.
model = make_model("atomsets-v0", n_ensemble=3, loss="mae", max_epochs=30, random_state=0)
model.fit(train.composition, train.target)
ParityDisplay.from_estimator(model, test.composition, test.target, name="AtomSets-V0", ax=axes[0])
axes[0].set(xlabel="true gap (eV)", ylabel="predicted gap (eV)")

# %%
# Learning curve: test MAE against training-set size (3-fold CV, one fit per size and fold).
LearningCurveDisplay.from_estimator(
    make_model("atomsets-v0", loss="mae", max_epochs=30, random_state=0),
    gaps.composition[:600],
    gaps.target[:600],
    train_sizes=[50, 100, 200, 400],
    cv=KFold(3, shuffle=True, random_state=0),
    name="AtomSets-V0",
    ax=axes[1],
)

# %%
# ROC of a classifier (scikit-learn's RocCurveDisplay, working on our Pipelines).
metal = load_dataset("matbench_expt_is_metal").sample(600, random_state=0)
clf = make_model("mlp-v0-stats", classification=True, max_epochs=20, random_state=0)
clf.fit(metal.composition[:500], metal.target[:500])
ROCDisplay.from_estimator(
    clf,
    metal.composition[500:],
    metal.target[500:],
    name="MLP-V0-stats",
    ax=axes[2],
    plot_chance_level=True,
)
axes[2].set_title("expt_is_metal")
fig.tight_layout()
