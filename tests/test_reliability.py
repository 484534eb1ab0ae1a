"""Reliability: interruptions keep the best weights, determinism across processes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_dataset
from skatomsets.estimators import _base, _ensemble


@pytest.fixture(scope="module")
def data():
    df = load_dataset("steels").iloc[:150]
    return ElementEmbeddingFeaturizer().fit_transform(df.composition), df.target.to_numpy()


def test_ctrl_c_during_fit_keeps_every_members_best_weights(data, monkeypatch):
    X, y = data
    calls = {"n": 0}
    original = _ensemble.EnsembleTrainer.train_step

    def interrupt_at_step_40(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 40:
            raise KeyboardInterrupt
        return original(self, *args, **kw)

    monkeypatch.setattr(_ensemble.EnsembleTrainer, "train_step", interrupt_at_step_40)
    reg = AtomSetsRegressor(
        max_epochs=100, batch_size=32, n_ensemble=3, random_state=0, device="cpu"
    )
    with pytest.warns(UserWarning, match="training interrupted in epoch 10 .*best weights"):
        reg.fit(X, y)
    # the members train together: all three are kept, each with the completed epochs
    assert len(reg.nets_) == 3
    assert [len(h) for h in reg.history_] == [9, 9, 9]  # 4 steps per epoch (112 rows)
    pred = reg.predict(X)
    assert np.isfinite(pred).all()
    # the kept weights are those of each member's best validation epoch, not the last one
    for hist, best in zip(reg.history_, reg.best_epochs_, strict=True):
        valid = np.array([h["valid_mae"] for h in hist])
        assert best == int(np.argmin(valid)) + 1


def test_ctrl_c_in_a_sequentially_trained_ensemble_stops_at_that_member(data, monkeypatch):
    """The sequential path (MEGNet estimators, ``_ensemble.VECTORISED = False``)."""
    X, y = data
    calls = {"n": 0}
    original = _base._SetNet.train_step

    def interrupt_at_step_40(self, batch, **kw):
        calls["n"] += 1
        if calls["n"] == 40:
            raise KeyboardInterrupt
        return original(self, batch, **kw)

    monkeypatch.setattr(_base._SetNet, "train_step", interrupt_at_step_40)
    monkeypatch.setattr(_ensemble, "VECTORISED", False)
    reg = AtomSetsRegressor(
        max_epochs=100, batch_size=32, n_ensemble=3, random_state=0, device="cpu"
    )
    with pytest.warns(UserWarning, match="training interrupted"):
        reg.fit(X, y)
    assert len(reg.nets_) == 1  # the ensemble stopped at the interrupted member
    hist = reg.history_[0]
    assert len(hist) < 100
    valid = np.array([h["valid_mae"] for h in hist if "valid_mae" in h])
    assert reg.best_epochs_[0] == int(np.argmin(valid)) + 1


_SCRIPT = """
import numpy as np, torch
torch.set_num_threads(1)
from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.datasets import load_dataset
df = load_dataset("steels").iloc[:100]
X = ElementEmbeddingFeaturizer().fit_transform(df.composition)
reg = AtomSetsRegressor(max_epochs=8, readout="set2set", random_state=7, device="cpu")
print(repr(reg.fit(X, df.target.to_numpy()).predict(X)[:5].tolist()))
"""


def test_same_random_state_same_predictions_across_processes():
    procs = [
        subprocess.Popen([sys.executable, "-c", _SCRIPT], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0] == outs[1] and outs[0].startswith("[")


def test_structures_and_frames_are_not_mutated_by_featurize_fit_predict():
    import pandas as pd
    from pymatgen.util.testing import PymatgenTest

    from skatomsets.models import make_model

    names = ["Li2O", "CsCl", "LiFePO4", "Si", "BaNiO3", "TiO2"]
    structures = [PymatgenTest.get_structure(n) for n in names]
    before = [s.as_dict() for s in structures]
    frame = pd.DataFrame({"structure": structures, "y": np.arange(6.0)})
    frame_before = frame.copy()
    for name in ("atomsets-v1", "mlp-f", "atomsets-v0"):
        model = make_model(name, max_epochs=2, batch_size=4, random_state=0, device="cpu")
        model.fit(frame["structure"], frame["y"]).predict(frame["structure"])
    assert [s.as_dict() for s in structures] == before
    pd.testing.assert_frame_equal(frame, frame_before)


def test_structure_vectors_support_pandas_output():
    from pymatgen.util.testing import PymatgenTest

    from skatomsets import MEGNetStructureFeaturizer

    f = MEGNetStructureFeaturizer(features=("u1", "f")).set_output(transform="pandas")
    df = f.fit_transform([PymatgenTest.get_structure("Li2O")])
    assert list(df.columns) == list(f.get_feature_names_out()) and df.shape[0] == 1
