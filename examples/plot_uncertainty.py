"""
Uncertainty from a deep ensemble
================================

Every model is a deep ensemble by default (``n_ensemble="auto"``: 5 networks below 400
training rows, 3 up to 50,000); ``predict(X, return_std=True)`` returns their mean and
spread. The spread ranks the errors: materials
with a larger predicted std tend to have larger errors (Spearman correlation > 0).
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr

from skatomsets.datasets import load_dataset
from skatomsets.models import make_model

df = load_dataset("matbench_expt_gap")
train, test = df[df.test_fold != 0], df[df.test_fold == 0]
model = make_model("atomsets-v0", random_state=0)
model.fit(train.composition, train.target)
mean, std = model.predict(test.composition, return_std=True)
err = np.abs(mean - test.target.to_numpy())
rho = spearmanr(std, err).statistic
print(
    f"{model[-1].n_ensemble_} networks: test MAE {err.mean():.3f} eV, "
    f"Spearman(std, |error|) = {rho:.2f}"
)

fig, ax = plt.subplots(figsize=(4, 3))
ax.scatter(std, err, s=6, alpha=0.5)
ax.set(xlabel="ensemble std (eV)", ylabel="|error| (eV)", title=f"Spearman {rho:.2f}")
fig.tight_layout()
