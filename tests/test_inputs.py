"""Input parsing: formulas, Compositions, Structures, and clear errors naming the row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition, Lattice, Structure

from skatomsets.exceptions import (
    EmptyCompositionError,
    GraphConstructionError,
    InvalidFormulaError,
    StructureFileError,
    UnknownElementError,
)
from skatomsets.io.materials import parse_compositions, parse_structures


def test_formulas_give_sorted_atomic_numbers_and_fractions():
    es = parse_compositions(["Fe2O3", "NaCl"])
    np.testing.assert_array_equal(es.z, [8, 26, 11, 17])
    np.testing.assert_allclose(es.fractions, [0.6, 0.4, 0.5, 0.5])
    np.testing.assert_array_equal(es.offsets, [0, 2, 4])


@pytest.mark.parametrize(
    "container",
    [list, np.array, pd.Series, lambda x: pd.DataFrame({"f": x}), tuple],
)
def test_containers(container):
    es = parse_compositions(container(["Fe2O3", "NaCl"]))
    assert len(es) == 2


def test_composition_and_structure_inputs_agree():
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    a = parse_compositions([s, Composition("NaCl"), "NaCl"])
    np.testing.assert_allclose(a.fractions.reshape(3, 2), [[0.5, 0.5]] * 3)


def test_disordered_site_gives_fractional_weights():
    s = Structure(Lattice.cubic(3.0), [{"Fe": 0.5, "Ni": 0.5}, "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    es = parse_compositions([s])
    np.testing.assert_array_equal(es.z, [8, 26, 28])
    np.testing.assert_allclose(es.fractions, [0.5, 0.25, 0.25])


def test_input_is_not_mutated():
    items = ["Fe2O3", Composition("NaCl")]
    before = [str(x) for x in items]
    parse_compositions(items)
    assert [str(x) for x in items] == before


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ("H2O)", InvalidFormulaError, "row 1: cannot parse formula 'H2O\\)'"),
        ("Xx2O", UnknownElementError, "row 1: 'Xx' is not a chemical element"),
        ("", EmptyCompositionError, "row 1: empty formula"),
        ("Fe0", EmptyCompositionError, "row 1: composition has no atoms"),
        ("Fe-1O", InvalidFormulaError, "row 1: negative amount"),
        (3.5, InvalidFormulaError, "row 1: expected a formula string"),
        (None, InvalidFormulaError, "row 1: expected a formula string"),
    ],
)
def test_bad_material_names_the_row(bad, error, match):
    with pytest.raises(error, match=match) as info:
        parse_compositions(["NaCl", bad])
    assert info.value.row == 1


def test_a_bare_string_is_not_a_sequence_of_materials():
    with pytest.raises(InvalidFormulaError, match="sequence"):
        parse_compositions("Fe2O3")


def test_numpy_unpacked_structures_get_an_error_naming_the_cause():
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    unpacked = np.array([s, s.copy()])  # numpy iterates the Structures into their sites
    assert unpacked.shape == (2, 2)
    for parse in (parse_compositions, parse_structures):
        with pytest.raises(InvalidFormulaError, match="unpacks every Structure into its sites"):
            parse(unpacked)
    packed = np.empty(2, dtype=object)
    packed[:] = [s, s.copy()]
    assert len(parse_structures(packed)) == 2


def test_parse_structures_reads_dicts_files_and_cif_text_and_passes_structures(tmp_path):
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    path = tmp_path / "nacl.cif"
    s.to(filename=str(path))
    got = parse_structures(pd.Series([s, s.as_dict(), path, str(path), path.read_text()]))
    assert got[0] is s
    for t in got[1:]:
        assert t.composition.reduced_formula == "NaCl"
        np.testing.assert_allclose(t.lattice.abc, (4.0, 4.0, 4.0))


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ("NaCl", GraphConstructionError, "row 1: expected a pymatgen Structure, got str 'NaCl'"),
        ({"lattice": 1, "sites": []}, GraphConstructionError, "row 1: cannot read structure dict"),
        ("missing.cif", StructureFileError, "row 1: 'missing.cif' is neither a formula"),
        (3.5, GraphConstructionError, "row 1: expected a pymatgen Structure, got float"),
    ],
)
def test_parse_structures_errors_name_the_row(bad, error, match):
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(error, match=match):
        parse_structures([s, bad])
