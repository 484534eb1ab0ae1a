"""The paper's models as named pipelines, compositional and structural."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.util.testing import PymatgenTest

from skatomsets.models import available_models, make_model

NAMES = ["Li2O", "CsCl", "LiFePO4", "Si", "BaNiO3", "K2O2", "Graphite", "TiO2"]


@pytest.fixture(scope="module")
def structures():
    structs = [PymatgenTest.get_structure(n) for n in NAMES]
    y = np.array([s.density for s in structs])
    return np.array(structs, dtype=object), y


def test_all_paper_models_are_registered():
    expected = {
        "atomsets",
        "atomsets-v0",
        "mlp-v0-stats",
        "atomsets-v1",
        "atomsets-v2",
        "atomsets-v3",
        "mlp-u1",
        "mlp-u2",
        "mlp-u3",
        "mlp-f",
        "mlp-v_r",
    }
    assert expected <= set(available_models())


@pytest.mark.parametrize(
    "name", ["atomsets-v0", "atomsets-v1", "atomsets-v3", "mlp-u2", "mlp-f", "mlp-v_r"]
)
def test_models_fit_structures(name, structures):
    X, y = structures
    model = make_model(name, max_epochs=3, random_state=0, device="cpu", batch_size=4)
    pred = model.fit(X, y).predict(X)
    assert pred.shape == (len(NAMES),) and np.isfinite(pred).all()


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown model"):
        make_model("atomsets-v9")
