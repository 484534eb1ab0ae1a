"""
Composing with matminer featurizers
===================================

The skatomsets featurizers are matminer ``BaseFeaturizer`` subclasses, so matminer's
``MultipleFeaturizer`` runs them next to its own. For matminer a whole set of atoms is
*one* feature: ``featurize_dataframe`` writes one column holding each material's set, and
that column goes straight back into a set model (or ``SetStatsTransformer``), while the
Magpie columns feed any vector model.
"""

import numpy as np
import torch
from matminer.featurizers.base import MultipleFeaturizer
from matminer.featurizers.composition import ElementProperty
from matminer.featurizers.conversions import StrToComposition

from skatomsets import AtomSetsMLPRegressor, AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_dataset

torch.set_num_threads(1)

df = load_dataset("matbench_steels").iloc[:150].reset_index(drop=True)
df = StrToComposition(target_col_id="comp").featurize_dataframe(df, "composition", pbar=False)

magpie = ElementProperty.from_preset("magpie")
both = MultipleFeaturizer([ElementEmbeddingFeaturizer("megnet16"), magpie])
both.set_n_jobs(1)
df = both.fit(df.comp).featurize_dataframe(df, "comp", pbar=False)
print(df.columns[:6].tolist(), "...", df.shape)
print(df["ElementEmbeddingFeaturizer_set"].iloc[0])

# %%
# The set column is the input of the set model; the Magpie columns of an MLP.
train, test = df.index < 120, df.index >= 120
sets = df["ElementEmbeddingFeaturizer_set"]
set_model = AtomSetsRegressor(max_epochs=40, random_state=0).fit(sets[train], df.target[train])
X_magpie = df[magpie.feature_labels()].to_numpy(np.float32)
X_magpie = (X_magpie - X_magpie[train].mean(0)) / (X_magpie[train].std(0) + 1e-9)
mlp = AtomSetsMLPRegressor(max_epochs=40, random_state=0).fit(X_magpie[train], df.target[train])
for name, pred in [
    ("AtomSets-V0 on the set column", set_model.predict(sets[test])),
    ("MLP on the Magpie columns", mlp.predict(X_magpie[test])),
]:
    print(f"{name:32s} test MAE {np.abs(pred - df.target[test]).mean():.0f} MPa")
