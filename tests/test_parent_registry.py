"""A parent owns everything about itself; the rest of the package reads the parent registry,
and ``make_model`` names are the one naming authority (issue 33, items 1-3)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.pipeline import Pipeline

import skatomsets
from skatomsets import ElementEmbeddingFeaturizer, ParentSiteFeaturizer
from skatomsets.elements import element_table_citations, element_tables
from skatomsets.models import (
    MODEL_CATALOGUE,
    ModelInfo,
    available_models,
    deprecated_models,
    make_model,
    model_info,
    needs_structures,
    parent_models,
    register_model,
)
from skatomsets.parents import parent_info, registered_parents, resolve_parent

PACKAGE = Path(skatomsets.__file__).parent
PAPER_NAMES = {
    "atomsets", "atomsets-v0", "atomsets-v1", "atomsets-v2", "atomsets-v3", "mlp-v0-stats",
    "mlp-u1", "mlp-u2", "mlp-u3", "mlp-f", "mlp-v_r",
}  # fmt: skip


# ----------------------------------------------------------------------------- the registry
@pytest.mark.parametrize("name", ["megnet", "chgnet", "sevennet"])
def test_registry_entry_says_what_the_loaded_parent_offers(name):
    info = parent_info(name)
    parent = resolve_parent(name)
    assert parent.n_levels == info.n_levels
    assert [parent.site_width(k) for k in range(info.n_levels + 1)] == list(info.site_widths)
    assert dict(parent.structure_widths) == dict(info.structure_widths)
    assert parent.default_structure_feature == info.default_structure_feature
    assert parent.cutoff == info.cutoff and parent.title == info.title
    assert parent.prefix == info.prefix and info.citation in parent.citations
    table, _ = parent.element_table()
    assert table.shape == (119, info.site_widths[0])


def test_registry_and_ready_models_are_known_without_importing_optional_packages():
    code = (
        "import sys, json, skatomsets\n"
        "from skatomsets.parents import parent_info\n"
        "from skatomsets.models import MODEL_CATALOGUE\n"
        "from skatomsets.elements import element_tables\n"
        "i = parent_info('sevennet')\n"
        "print(json.dumps([i.n_levels, i.requires, i.install_hint, i.element_table,\n"
        "    'atomsets-sevennet-v5' in MODEL_CATALOGUE, 'sevennet0' in element_tables(),\n"
        "    [m for m in ('chgnet', 'sevenn', 'e3nn') if m in sys.modules]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, requires, hint, table, model, listed, imported = json.loads(out.stdout.splitlines()[-1])
    assert (n, requires, table, model, listed) == (5, "sevenn", "sevennet0", True, True)
    assert hint == "pip install 'skatomsets[sevennet]'"
    assert imported == []


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _private_names_from_parents(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        f"{node.module}.{a.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and "parents" in (node.module or "")
        for a in node.names
        if a.name.startswith("_")
    ]


def test_no_module_outside_the_parents_reads_a_parents_private_names():
    for path in PACKAGE.rglob("*.py"):
        if "parents" in path.relative_to(PACKAGE).parts:
            continue
        assert _private_names_from_parents(path) == [], path.relative_to(PACKAGE)
        if path.name not in ("megnet.py", "__init__.py"):  # the MEGNet featurizers wrap it
            assert not any(
                m.endswith(("parents.chgnet", "parents.sevennet")) for m in _imports(path)
            ), path.relative_to(PACKAGE)
    # elements.py is below the parents: it imports none of them (no arrow back up); its
    # first lookup asks the registry package, by name, to register the parents' tables
    assert not any("parents" in m for m in _imports(PACKAGE / "elements.py"))
    code = "from skatomsets.elements import load_element_table as f; print(f('chgnet64')[0].shape)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("(119, 64)")


@pytest.mark.parametrize(("table", "parent"), [("chgnet64", "chgnet"), ("sevennet0", "sevennet")])
def test_a_parents_element_table_and_citation_come_from_the_parent(table, parent):
    assert table in element_tables()
    assert element_table_citations(table) == [parent_info(parent).citation]
    fz = ElementEmbeddingFeaturizer(table).fit()
    assert parent_info(parent).citation in fz.citations()
    expected, _ = resolve_parent(parent).element_table()
    np.testing.assert_array_equal(fz.table_, expected)


# ----------------------------------------------------------------------------- model names
def test_paper_names_are_kept_exactly():
    assert PAPER_NAMES <= set(available_models())
    assert model_info("atomsets-v1").paper_row == "Table 2, AtomSets-V1"
    assert model_info("mlp-v_r").paper_row == "Table S4, MLP-v_r"


def test_every_parent_gets_its_models_from_one_loop_named_by_one_scheme():
    for info in registered_parents():
        stem = "" if info.paper else f"{info.name}-"
        levels = [f"atomsets-{stem}v{k}" for k in range(info.n_levels + 1)]
        vector = "mlp-f" if info.paper else f"mlp-{info.name}"
        assert parent_models(info.name) == [*levels, vector]
        for k, name in enumerate(levels):
            assert model_info(name).level == k and model_info(name).parent == info.name
            if k == 0 and info.element_table:
                assert make_model(name)[0].embedding == info.element_table
            else:
                assert make_model(name)[0].level == k
    feat = make_model("atomsets-sevennet-v4")[0]
    assert type(feat) is ParentSiteFeaturizer and feat.parent == "sevennet"


def test_the_catalogue_is_what_was_registered_with_an_info():
    assert set(MODEL_CATALOGUE) <= set(available_models())
    assert {"megnet-scratch", "megnet-finetune"} <= set(MODEL_CATALOGUE)
    assert all(i.name == n for n, i in MODEL_CATALOGUE.items())
    assert make_model("megnet-finetune").steps[-1][1].init == "pretrained"
    assert make_model("megnet-scratch").steps[-1][1].init is None
    assert needs_structures("megnet-scratch") and not needs_structures("atomsets-sevennet-v0")


def test_register_model_from_another_module_with_an_info():
    def factory(classification: bool, **params) -> Pipeline:
        return make_model("atomsets-v0", classification, **params)

    try:
        register_model(
            "test-extra-model", factory, info=ModelInfo(description="x", inputs="composition")
        )
        assert model_info("test-extra-model").inputs == "composition"
        assert "test-extra-model" in available_models()

        @register_model("test-extra-plain")
        def plain(classification: bool, **params) -> Pipeline:
            return factory(classification, **params)

        assert model_info("test-extra-plain").inputs == "unknown"
    finally:
        from skatomsets import models

        for name in ("test-extra-model", "test-extra-plain"):
            models._REGISTRY.pop(name, None)
            models.MODEL_CATALOGUE.pop(name, None)


def test_the_renamed_chgnet_model_warns_and_still_builds_block_3():
    assert deprecated_models() == {"atomsets-chgnet": "atomsets-chgnet-v3"}
    with pytest.warns(FutureWarning, match="'atomsets-chgnet' is deprecated.*atomsets-chgnet-v3"):
        model = make_model("atomsets-chgnet")
    assert model[0].level == 3
    with pytest.warns(FutureWarning):
        assert model_info("atomsets-chgnet").name == "atomsets-chgnet-v3"
    assert "atomsets-chgnet" not in available_models()


def test_benchmarks_use_make_model_names_only():
    from skatomsets.benchmarks import parents as bench
    from skatomsets.benchmarks.config import LEARNING_CURVE_MODELS, PARENT_MODELS
    from skatomsets.benchmarks.learning_curves import curve_models, model_params

    assert set(PARENT_MODELS) <= set(available_models())
    assert set(LEARNING_CURVE_MODELS) <= set(available_models())
    assert set(curve_models()) == set(available_models()) | set(deprecated_models())
    assert bench.record_name("atomsets-chgnet-v3") == "chgnet-v3"
    assert bench.model_name("megnet-v1") == "atomsets-v1"
    assert bench.record_name("atomsets-sevennet-v5") == "atomsets-sevennet-v5"
    assert model_params("megnet-finetune")["init"] == "pretrained"
    assert "init" not in model_params("megnet-scratch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecated name is used on the way
        for name in PARENT_MODELS:
            bench.featurizer(name, cache=False)


def test_parent_table_reads_old_record_names_and_adds_a_v5_column_for_sevennet(tmp_path):
    from skatomsets.benchmarks.parents import report_parents

    def write(model: str, fold: int, mae: float) -> None:
        rec = {
            "task": "dielectric_n", "model": model, "fold": fold, "mae": mae, "n_train": 4,
            "n_test": 1, "fit_seconds": 1.0, "featurize_seconds": 1.0,
        }  # fmt: skip
        (tmp_path / f"dielectric_n__{model}__fold{fold}.json").write_text(json.dumps(rec))

    write("chgnet-v3", 0, 0.2)
    old = report_parents(tmp_path).splitlines()
    assert old[0].endswith("| V4 | structure vector -> MLP | trained from scratch |")
    assert old[2].startswith("| dielectric_n | CHGNet v0.3.0 | - | - | - | **0.2000 ± 0.0000**")
    write("atomsets-sevennet-v5", 0, 0.1)
    table = report_parents(tmp_path).splitlines()
    assert "| V4 | V5 | structure vector -> MLP |" in table[0]
    assert table[3].startswith("| dielectric_n | SevenNet-0 (11Jul2024) | - | - | - | - | - |")
    assert "**0.1000 ± 0.0000** (1 fold)" in table[3]


def test_estimator_checks_name_the_missing_package_from_the_registry(monkeypatch):
    import importlib.util

    from skatomsets.estimator_checks import check_estimator, tiny_instance

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "sevenn" else real(n, *a)
    )
    skipped = check_estimator(tiny_instance(ParentSiteFeaturizer, parent="sevennet"))
    assert skipped and all("needs the optional 'sevenn' package" in s for s in skipped)


def test_a_structure_model_of_every_parent_refuses_formulas_naming_its_parent():
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    for info in registered_parents():
        name = parent_models(info.name)[1]
        with pytest.raises(ValueError, match=f"{info.title} features need crystal structures"):
            make_model(name, max_epochs=1).fit([nacl, "NaCl"], [1.0, 2.0])


# ----------------------------------------------------------------------------- the recipe
def _tiny_parent_class():
    """A parent whose features come from Z only (one level, one structure vector)."""
    from skatomsets.parents import Parent

    class TinyParent(Parent):
        name = "tiny"
        prefix = "tiny"
        title = "Tiny"
        n_levels = 1
        cutoff = 4.0
        default_structure_feature = "mean"
        structure_widths = {"mean": 2}

        def site_width(self, level: int) -> int:
            return 2

        def parameters_for_checksum(self) -> list[np.ndarray]:
            return [np.ones(2, np.float32)]

        def element_table(self) -> tuple[np.ndarray, list[str]]:
            table = np.full((119, 2), np.nan, dtype=np.float32)
            z = np.arange(1, 119, dtype=np.float32)
            table[1:] = np.stack([z, np.sqrt(z)], axis=1)
            return table, ["tiny_V0_0", "tiny_V0_1"]

        def compute(self, structures, rows, keys):
            table, _ = self.element_table()
            out = {k: [] for k in keys}
            for s in structures:
                v0 = table[[site.specie.Z for site in s]]
                per = {"V0": v0, "V1": 2 * v0, "site_weight": np.ones(len(s), np.float32)}
                per["mean"] = v0.mean(axis=0, keepdims=True)
                for k in keys:
                    out[k].append(per[k])
            return out

    return TinyParent


def test_a_new_parent_is_one_module_the_recipe_of_the_architecture_doc():
    from skatomsets import elements, models
    from skatomsets.parents import ParentInfo, base, register_parent

    info = ParentInfo(
        name="tiny", title="Tiny", label="Tiny 1.0", prefix="tiny", n_levels=1,
        site_widths=(2, 2), structure_widths={"mean": 2}, default_structure_feature="mean",
        cutoff=4.0, citation="@misc{tiny}", element_table="tiny2", mlp_features=("mean",),
    )  # fmt: skip
    register_parent(info)(_tiny_parent_class())
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    mgo = Structure(Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    try:
        # ready models, named by the one scheme, and the element table with its citation
        assert parent_models("tiny") == ["atomsets-tiny-v0", "atomsets-tiny-v1", "mlp-tiny"]
        assert model_info("atomsets-tiny-v0").inputs == "composition"
        assert element_table_citations("tiny2") == ["@misc{tiny}"]
        sets = make_model("atomsets-tiny-v0")[0].fit_transform(["NaCl"])
        np.testing.assert_allclose(sets.values[:, 0], [11, 17])
        for name in ("atomsets-tiny-v1", "mlp-tiny"):
            model = make_model(name, max_epochs=1, random_state=0, validation_fraction=None)
            assert model.fit([nacl, mgo], [1.0, 2.0]).predict([nacl]).shape == (1,)
        # the geometry checks of every parent, with its own cutoff
        dense = Structure(Lattice.cubic(0.5), ["Na"], [[0, 0, 0]])
        with pytest.raises(ValueError, match="within the 4 Å cutoff"):
            make_model("atomsets-tiny-v1").fit([nacl, dense], [1.0, 2.0])
    finally:
        base._REGISTRY.pop("tiny", None)
        base._INFO.pop("tiny", None)
        elements._LOADERS.pop("tiny2", None)
        elements._CITATIONS.pop("tiny2", None)
        for name in ("atomsets-tiny-v0", "atomsets-tiny-v1", "mlp-tiny"):
            models._REGISTRY.pop(name, None)
            models.MODEL_CATALOGUE.pop(name, None)
