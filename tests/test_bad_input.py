"""The bad-input table of docs/bad_input.md, row by row, through the public entry points.

Every case raises a typed ``SkatomsetsInputError`` (a ``ValueError``) that names the row
and the problem, or has a documented deliberate behaviour (tested here too).
"""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.pipeline import make_pipeline

from skatomsets import (
    AtomSetsClassifier,
    AtomSetsRegressor,
    ElementEmbeddingFeaturizer,
    MEGNetSiteFeaturizer,
    MEGNetStructureFeaturizer,
)
from skatomsets.exceptions import (
    EmptyCompositionError,
    InvalidFormulaError,
    InvalidTargetError,
    MissingFeaturesError,
    SkatomsetsInputError,
    UnknownElementError,
)
from skatomsets.megnet import GraphConstructionError

NACL = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])

FORMULA_CASES = [
    ("invalid formula", "Fe2O3)", InvalidFormulaError, "cannot parse formula"),
    ("unknown element symbol", "Xx2O3", UnknownElementError, "'Xx' is not a chemical element"),
    ("element without features", "PuO2Am", MissingFeaturesError, "element Am has no features"),
    ("empty composition", "", EmptyCompositionError, "empty formula"),
    ("zero amounts only", "Fe0O0", EmptyCompositionError, "no atoms"),
    ("negative amount", "Fe-2O3", InvalidFormulaError, "negative amount"),
    ("not a material", 42, InvalidFormulaError, "expected a formula string"),
]


@pytest.mark.parametrize(
    "case, bad, error, match", FORMULA_CASES, ids=[c[0] for c in FORMULA_CASES]
)
def test_formula_inputs(case, bad, error, match):
    f = ElementEmbeddingFeaturizer().fit()
    with pytest.raises(error, match=f"row 2: .*{match}") as info:
        f.transform(["NaCl", "MgO", bad])
    assert info.value.row == 2 and isinstance(info.value, SkatomsetsInputError)


def test_zero_amount_elements_are_dropped_deliberately():
    sets = ElementEmbeddingFeaturizer().fit_transform(["Fe0O1"])
    assert sets.lengths.tolist() == [1]


STRUCTURE_CASES = [
    (
        "overlapping atoms",
        Structure(Lattice.cubic(4.0), ["Na", "Cl", "Cl"], [[0, 0, 0], [0.5] * 3, [0.5, 0.5, 0.52]]),
        "overlapping atoms",
    ),
    (
        "isolated atom beyond the cutoff",
        Structure(Lattice.cubic(12.0), ["Cs"], [[0, 0, 0]]),
        "no neighbour",
    ),
    (
        "element outside the embedding",
        Structure(Lattice.cubic(4.0), ["Am"], [[0, 0, 0]]),
        "outside",
    ),
    ("a formula instead of a structure", "NaCl", "expected a pymatgen Structure"),
]


@pytest.mark.parametrize("case, bad, match", STRUCTURE_CASES, ids=[c[0] for c in STRUCTURE_CASES])
@pytest.mark.parametrize("featurizer", [MEGNetSiteFeaturizer(level=1), MEGNetStructureFeaturizer()])
def test_structure_inputs(case, bad, match, featurizer):
    with pytest.raises(GraphConstructionError, match=f"row 1: .*{match}"):
        featurizer.fit().transform([NACL, bad])


def test_disordered_structure_is_deliberately_supported():
    disordered = Structure(
        Lattice.cubic(4.2), [{"Fe": 0.5, "Ni": 0.5}, "O"], [[0, 0, 0], [0.5] * 3]
    )
    sets = MEGNetSiteFeaturizer(level=1).fit_transform([disordered])
    np.testing.assert_allclose(sets.weights, [0.5, 0.5])
    elements = ElementEmbeddingFeaturizer().fit_transform([disordered])
    np.testing.assert_allclose(elements.weights, [0.5, 0.25, 0.25])  # O, Fe, Ni


@pytest.mark.parametrize(
    "case, y, match",
    [
        ("NaN target", [1.0, np.nan, 3.0, 4.0], "row 1: target nan is NaN or infinite"),
        ("inf target", [1.0, 2.0, np.inf, 4.0], "row 2: target inf is NaN or infinite"),
        ("non-numeric target", [1.0, 2.0, 3.0, "high"], "row 3: non-numeric target 'high'"),
        ("mismatched X / y lengths", [1.0, 2.0, 3.0], "4 samples but y has 3"),
    ],
)
def test_regression_targets(case, y, match, tiny):
    model = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**tiny))
    with pytest.raises(InvalidTargetError, match=match):
        model.fit(["NaCl", "MgO", "FeO", "CaO"], np.array(y, dtype=object))


def test_single_class_in_a_classifier(tiny):
    model = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsClassifier(**tiny))
    with pytest.raises(InvalidTargetError, match="only one class"):
        model.fit(["NaCl", "MgO", "FeO"], [1, 1, 1])


def test_one_sample_dataset(tiny):
    model = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**tiny))
    with pytest.raises(ValueError, match="at least 2 samples"):
        model.fit(["NaCl"], [1.0])


def test_element_without_features_at_predict_time(tiny):
    model = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsRegressor(**tiny))
    model.fit(["NaCl", "MgO", "FeO", "CaO"], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(MissingFeaturesError, match="row 1: element Cm"):
        model.predict(["NaCl", "CmO2"])
