"""
pandas output: named DataFrame columns through a Pipeline
=========================================================

``pipe.set_output(transform="pandas")`` (or ``sklearn.set_config(transform_output="pandas")``
for the whole session) makes every vector step of a pipeline return a DataFrame with named
columns. The set featurizers opt out - a set of atoms is not a table - and always return a
:class:`~skatomsets.RaggedSets`; ``set_output`` on them is a documented no-op, so the
setting flows through to the steps after them.
"""

import numpy as np
import sklearn
import torch

from skatomsets.datasets import load_dataset
from skatomsets.models import make_model

torch.set_num_threads(1)

df = load_dataset("matbench_steels").iloc[:120]

# %%
# MLP-V0-stats: element sets -> weighted statistics -> scaler -> MLP. Under pandas output
# the statistics come out as a named frame.
pipe = make_model("mlp-v0-stats", max_epochs=20, random_state=0)
pipe.set_output(transform="pandas")
pipe.fit(df.composition, df.target)
stats = pipe[:-1].transform(df.composition[:3])
print(type(stats).__name__, stats.shape)
print(stats.iloc[:, :3])

# %%
# The set models work the same under the global setting; the predictions do not change.
plain = make_model("atomsets-v0", max_epochs=20, random_state=0).fit(df.composition, df.target)
with sklearn.config_context(transform_output="pandas"):
    model = make_model("atomsets-v0", max_epochs=20, random_state=0)
    model.fit(df.composition, df.target)
    same = np.allclose(model.predict(df.composition), plain.predict(df.composition))
    print("same predictions as without pandas output:", same)
    print("the featurizer still returns", type(model[0].transform(df.composition[:3])).__name__)
