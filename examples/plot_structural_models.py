"""
Structural models: features from the pretrained MEGNet
=======================================================

``MEGNetSiteFeaturizer(level=1)`` gives each site the atom features after the first graph
block of the pretrained MEGNet parent (V1); ``MEGNetStructureFeaturizer`` gives the
structure-level readout ``f``. Both feed ordinary scikit-learn estimators.
"""

import numpy as np
from pymatgen.util.testing import PymatgenTest

from skatomsets import MEGNetSiteFeaturizer, MEGNetStructureFeaturizer
from skatomsets.megnet import load_pretrained
from skatomsets.models import make_model

names = ["Li2O", "CsCl", "LiFePO4", "Si", "BaNiO3", "K2O2", "TiO2", "Graphite"]
structures = [PymatgenTest.get_structure(n) for n in names]

v1 = MEGNetSiteFeaturizer(level=1).fit_transform(structures)
print(v1, "- weights of LiFePO4's first sites:", v1[2].weights[:3])
f = MEGNetStructureFeaturizer(features=("f",)).fit_transform(structures)
print("f vectors:", f.shape)

# the parent itself predicts formation energies (eV/atom)
parent = MEGNetStructureFeaturizer(features=("prediction",)).fit_transform(structures)
for n, e in zip(names, parent[:, 0], strict=True):
    print(f"{n:8s} MEGNet formation energy {e:+.3f} eV/atom")

# AtomSets-V1: the transferred site features in a set model (here: density, for illustration)
y = np.array([s.density for s in structures])
model = make_model("atomsets-v1", random_state=0)
print("fitted, best epoch of each ensemble member:", model.fit(structures, y)[-1].best_epochs_)
print("parent:", type(load_pretrained()).__name__)
