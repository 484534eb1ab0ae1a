"""Structure files (CIF, POSCAR, VASP) wherever a Structure is accepted, and one reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from skatomsets import ElementEmbeddingFeaturizer, MEGNetSiteFeaturizer
from skatomsets.exceptions import InvalidFormulaError, StructureFileError
from skatomsets.io.materials import parse_compositions
from skatomsets.io.structures import (
    as_structure,
    is_structure_name,
    parse_structure,
    read_structure,
    read_structures,
)


def _nacl(a: float = 5.69) -> Structure:
    return Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _cscl() -> Structure:
    return Structure(Lattice.cubic(4.2), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "structs"
    folder.mkdir()
    _nacl().to(filename=str(folder / "b_nacl.cif"))
    _cscl().to(filename=str(folder / "POSCAR_a"))  # pymatgen writes POSCAR for this name
    (folder / "notes.txt").write_text("not a structure")
    return {"folder": folder, "cif": folder / "b_nacl.cif", "poscar": folder / "POSCAR_a"}


def test_structure_names_are_recognised_by_ending_or_vasp_prefix():
    assert all(
        is_structure_name(n)
        for n in ["a.cif", "A.CIF", "x.cif.gz", "POSCAR", "CONTCAR_3", "s.vasp", "p.poscar"]
    )
    assert not any(is_structure_name(n) for n in ["Fe2O3", "a.csv", "cif", "notes.txt"])


def test_read_structures_reads_files_and_folders_in_name_order(files):
    from_folder = read_structures(files["folder"])
    assert [s.composition.reduced_formula for s in from_folder] == ["CsCl", "NaCl"]
    mixed = read_structures([files["cif"], str(files["poscar"])])
    assert [s.composition.reduced_formula for s in mixed] == ["NaCl", "CsCl"]
    assert read_structure(files["cif"]).lattice.a == pytest.approx(5.69)


def test_unreadable_or_missing_files_name_the_row_and_the_file(files, tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\n_foo 1\n")
    with pytest.warns(UserWarning):  # pymatgen's own parser warnings
        with pytest.raises(
            StructureFileError, match=r"row 1: cannot read a structure from .*bad\.cif"
        ):
            read_structures([files["cif"], bad])
    with pytest.raises(StructureFileError, match=r"row 0: no such structure file: .*nope\.cif"):
        read_structures([tmp_path / "nope.cif"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(StructureFileError, match=r"no structure files .* in the folder"):
        read_structures(tmp_path / "empty")


def test_element_featurizer_takes_paths_and_file_names_like_structures(files):
    feat = ElementEmbeddingFeaturizer().fit()
    from_files = feat.transform([files["cif"], str(files["poscar"]), "NaCl"])
    from_structures = feat.transform([_nacl(), _cscl(), "NaCl"])
    np.testing.assert_array_equal(from_files.values, from_structures.values)
    np.testing.assert_array_equal(from_files.offsets, from_structures.offsets)


def test_megnet_featurizer_takes_cif_paths_and_cif_text_like_structures(files):
    feat = MEGNetSiteFeaturizer(level=1, cache=False).fit()
    text = files["cif"].read_text()
    from_files = feat.transform([files["cif"], str(files["poscar"]), text])
    from_structures = feat.transform([_nacl(), _cscl(), _nacl()])
    np.testing.assert_allclose(from_files.values, from_structures.values, rtol=1e-6)


def test_string_neither_formula_nor_file_says_both():
    with pytest.raises(
        InvalidFormulaError, match=r"row 1: cannot parse formula 'hello'.*not a structure file"
    ):
        parse_compositions(["Fe", "hello"])
    with pytest.raises(
        StructureFileError, match=r"row 0: 'missing\.cif' is neither a formula nor an existing"
    ):
        parse_compositions(["missing.cif"])
    with pytest.raises(ValueError, match=r"row 0: expected a pymatgen Structure, got str 'NaCl'"):
        MEGNetSiteFeaturizer(level=1, cache=False).fit_transform(["NaCl"])
    with pytest.raises(StructureFileError, match="no such structure file"):
        MEGNetSiteFeaturizer(level=1, cache=False).fit_transform([Path("missing.cif")])


def test_a_formula_is_not_mistaken_for_a_file():
    assert as_structure("Fe2O3") is None
    assert as_structure("POSCAR") is None  # no such file here: may be a formula (P O S C Ar)


def test_parse_structure_reads_cif_text_json_and_relative_paths(files):
    nacl = _nacl()
    assert parse_structure(files["cif"].read_text()) == nacl
    assert parse_structure(json.dumps(nacl.as_dict())) == nacl
    assert parse_structure("b_nacl.cif", base_dir=files["folder"]) == nacl
    with pytest.raises(StructureFileError, match="row 4: empty or missing structure"):
        parse_structure(float("nan"), row=4)
