"""Every ready model, transformer and featurizer works under scikit-learn's pandas output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn
from pymatgen.core import Lattice, Structure
from sklearn.pipeline import Pipeline

from skatomsets import ElementEmbeddingFeaturizer, MEGNetStructureFeaturizer, SetStatsTransformer
from skatomsets.models import available_models, make_model
from skatomsets.sets import RaggedSets

FORMULAS = ["Fe2O3", "NaCl", "SiO2", "Al2O3", "MgO", "CuZn", "TiO2", "LiF"]
Y = np.arange(len(FORMULAS), dtype=float)
# every ready model that takes compositions (its first step is the element featurizer)
COMPOSITION_MODELS = [
    m
    for m in available_models()
    if isinstance(make_model(m), Pipeline)
    and isinstance(make_model(m)[0], ElementEmbeddingFeaturizer)
]


def test_composition_models_found():
    assert {"atomsets", "atomsets-v0", "mlp-v0-stats"} <= set(COMPOSITION_MODELS)


@pytest.mark.parametrize("name", COMPOSITION_MODELS)
@pytest.mark.parametrize("mode", ["set_output", "config_context"])
def test_composition_models_fit_and_predict_under_pandas_output(name, mode, tiny):
    reference = make_model(name, **tiny).fit(FORMULAS, Y).predict(FORMULAS)
    pipe = make_model(name, **tiny)
    if mode == "set_output":
        pipe.set_output(transform="pandas")
        pred = pipe.fit(FORMULAS, Y).predict(FORMULAS)
    else:
        with sklearn.config_context(transform_output="pandas"):
            pred = pipe.fit(FORMULAS, Y).predict(FORMULAS)
    # the same numbers as without pandas output
    np.testing.assert_allclose(pred, reference, rtol=1e-5, atol=1e-6)


def test_set_featurizer_opts_out_and_set_output_returns_self():
    fz = ElementEmbeddingFeaturizer()
    assert fz.set_output(transform="pandas") is fz
    assert isinstance(fz.fit_transform(FORMULAS), RaggedSets)
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(ElementEmbeddingFeaturizer().fit_transform(FORMULAS), RaggedSets)
        assert isinstance(ElementEmbeddingFeaturizer().fit().transform(FORMULAS), RaggedSets)


def test_set_stats_gives_named_dataframe_columns():
    sets = ElementEmbeddingFeaturizer().fit_transform(FORMULAS)
    stats = SetStatsTransformer(stats=("mean", "max")).set_output(transform="pandas")
    out = stats.fit_transform(sets)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["mean_megnet16_0", "mean_megnet16_1"]
    assert out.shape == (len(FORMULAS), 32)
    np.testing.assert_allclose(
        out.to_numpy(), SetStatsTransformer(stats=("mean", "max")).fit_transform(sets)
    )


def test_pipeline_transform_gives_named_stats_frame(tiny):
    pipe = make_model("mlp-v0-stats", **tiny).set_output(transform="pandas")
    pipe.fit(FORMULAS, Y)
    frame = pipe[:-1].transform(FORMULAS)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns[0] == "mean_megnet16_0" and frame.columns[-1] == "range_megnet16_15"


def _structures():
    nacl = Structure(Lattice.cubic(5.69), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cscl = Structure(Lattice.cubic(4.12), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    kcl = Structure(Lattice.cubic(4.4), ["K", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    licl = Structure(Lattice.cubic(3.9), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return [nacl, cscl, kcl, licl]


def test_megnet_structure_featurizer_gives_named_dataframe_columns():
    fz = MEGNetStructureFeaturizer(features=("u1",)).set_output(transform="pandas")
    out = fz.fit_transform(_structures())
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["megnet_u1_0", "megnet_u1_1"] and out.shape == (4, 32)


@pytest.mark.parametrize("name", ["atomsets-v1", "mlp-f"])
def test_structure_models_under_global_pandas_output(name, tiny):
    structures, y = _structures(), [1.0, 2.0, 3.0, 4.0]
    reference = make_model(name, **tiny).fit(structures, y).predict(structures)
    with sklearn.config_context(transform_output="pandas"):
        pred = (
            make_model(name, **tiny)
            .set_output(transform="pandas")
            .fit(structures, y)
            .predict(structures)
        )
    np.testing.assert_allclose(pred, reference, rtol=1e-5, atol=1e-6)
