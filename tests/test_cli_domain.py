"""``skatomsets predict`` reports the domain of applicability and warns about far materials."""

from __future__ import annotations

import joblib
import numpy as np
from sklearn.pipeline import make_pipeline

from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
from skatomsets.cli import main

OXIDES = ["MgO", "CaO", "SrO", "BaO", "ZnO", "NiO", "CoO", "FeO", "MnO", "CuO"] * 3


def test_predict_prints_domain_score_and_warns_for_materials_far_from_training(tmp_path, capsys):
    y = np.linspace(0.0, 1.0, len(OXIDES))
    model = make_pipeline(
        ElementEmbeddingFeaturizer("megnet16"),
        AtomSetsRegressor(max_epochs=5, random_state=0, device="cpu", n_ensemble=1),
    ).fit(OXIDES, y)
    path = tmp_path / "m.joblib"
    joblib.dump(model, path)
    out_csv = tmp_path / "pred.csv"
    rc = main(["predict", str(path), "MgO", "Yb(InS2)3", "--output", str(out_csv), "--quiet"])
    assert rc == 0
    import pandas as pd

    frame = pd.read_csv(out_csv)
    assert {"domain_score", "out_of_domain"} <= set(frame.columns)
    # a training material is typical; a rare-earth sulfide is far away and flagged
    assert frame["domain_score"][0] < frame["domain_score"][1]
    assert not frame["out_of_domain"][0] and frame["out_of_domain"][1]
    assert "far from the training data" in capsys.readouterr().err
