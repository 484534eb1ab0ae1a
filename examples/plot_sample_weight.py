"""
Sample weights
==============

Every estimator's ``fit`` takes ``sample_weight``: the training loss, the validation metric
that picks the best epoch and the target scaling are weighted, a weight of zero leaves the
row out, and uniform weights are the same as none. In a Pipeline pass
``model__sample_weight=w``; with scikit-learn's metadata routing
(``set_fit_request(sample_weight=True)``) the weights also pass through ``GridSearchCV`` and
``cross_validate``.

Here the high-strength steels (the top quarter) are weighted 5x: the model fits them
better, at some cost on the others.
"""

import matplotlib.pyplot as plt
import numpy as np
import sklearn
import torch
from sklearn.metrics import make_scorer, mean_absolute_error
from sklearn.model_selection import GridSearchCV, KFold, train_test_split

from skatomsets.datasets import load_dataset
from skatomsets.models import make_model

torch.set_num_threads(1)

df = load_dataset("matbench_steels")
X_train, X_test, y_train, y_test = train_test_split(
    df.composition, df.target.to_numpy(), random_state=0
)
strong = np.quantile(y_train, 0.75)
w = np.where(y_train > strong, 5.0, 1.0)

params = {"max_epochs": 120, "patience": 30, "batch_size": 32, "random_state": 0}
results = {}
for name, kwargs in [("unweighted", {}), ("strong steels x5", {"model__sample_weight": w})]:
    model = make_model("atomsets-v0", **params).fit(X_train, y_train, **kwargs)
    err = np.abs(model.predict(X_test) - y_test)
    results[name] = (err[y_test > strong].mean(), err[y_test <= strong].mean())
    print(f"{name:>17}: MAE strong {results[name][0]:.0f}, others {results[name][1]:.0f} MPa")

# metadata routing: the weights reach the model inside a grid search
with sklearn.config_context(enable_metadata_routing=True):
    pipe = make_model("atomsets-v0", **{**params, "max_epochs": 10})
    pipe[-1].set_fit_request(sample_weight=True)
    # the scorer is a consumer too: here it weights the validation MAE the same way
    scorer = make_scorer(mean_absolute_error, greater_is_better=False)
    scorer.set_score_request(sample_weight=True)
    search = GridSearchCV(pipe, {"model__n_neurons": [32, 64]}, cv=KFold(2), scoring=scorer)
    search.fit(X_train, y_train, sample_weight=w)
print("best:", search.best_params_)

fig, ax = plt.subplots(figsize=(4, 2.5))
x = np.arange(2)
for i, (name, vals) in enumerate(results.items()):
    ax.bar(x + 0.4 * i, vals, width=0.4, label=name)
ax.set(xticks=x + 0.2, xticklabels=["strong steels", "others"], ylabel="test MAE (MPa)")
ax.legend()
fig.tight_layout()
