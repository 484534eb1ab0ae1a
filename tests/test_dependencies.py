"""Runtime dependencies are only what the runtime needs (h5py is the converter's extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_h5py_is_an_extra_not_a_runtime_dependency():
    project = _project()
    assert not any(d.startswith("h5py") for d in project["dependencies"])
    assert any(d.startswith("h5py") for d in project["optional-dependencies"]["convert"])


def test_every_runtime_dependency_has_an_upper_bound_that_admits_the_installed_version():
    from importlib.metadata import version

    from packaging.requirements import Requirement

    for spec in _project()["dependencies"]:
        req = Requirement(spec)
        assert any(s.operator == "<" for s in req.specifier), spec
        assert req.specifier.contains(version(req.name).split("+")[0]), spec


def test_the_package_never_imports_h5py(run_python):
    code = (
        "import sys; sys.modules['h5py'] = None\n"  # any import of h5py would now fail
        "import skatomsets, skatomsets.models, skatomsets.plotting, skatomsets.cli\n"
        "import skatomsets.benchmarks, skatomsets.datasets\n"
        "from skatomsets import MEGNetStructureFeaturizer\n"
        "from pymatgen.core import Lattice, Structure\n"
        "s = Structure(Lattice.cubic(4.1), ['Cs', 'Cl'], [[0, 0, 0], [0.5, 0.5, 0.5]])\n"
        "print(MEGNetStructureFeaturizer().fit_transform([s]).shape)\n"
    )
    assert run_python(code).stdout.strip() == "(1, 96)"


def test_converter_without_h5py_names_the_extra(tmp_path, run_python):
    code = (
        "import sys, runpy; sys.modules['h5py'] = None\n"
        f"sys.argv = ['convert_megnet_weights.py', {str(tmp_path / 'x.whl')!r}]\n"
        "runpy.run_path('scripts/convert_megnet_weights.py', run_name='__main__')\n"
    )
    out = run_python(code, check=False)
    assert out.returncode != 0
    assert 'pip install "skatomsets[convert]"' in out.stderr


def test_only_the_compat_module_imports_private_sklearn_names():
    """scikit-learn's private helpers are reached through ``_sklearn_compat`` alone."""
    import ast
    from pathlib import Path

    import skatomsets

    offenders = []
    for path in Path(skatomsets.__file__).parent.rglob("*.py"):
        if path.name == "_sklearn_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                private_module = any(p.startswith("_") for p in node.module.split("."))
                private_name = any(a.name.startswith("_") for a in node.names)
                if private_module or private_name:
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
