"""The shipped copies of the parents' element tables equal what the parents compute."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from skatomsets import models
from skatomsets.elements import load_element_table, shipped_element_table
from skatomsets.parents import registered_parents, resolve_parent

SHIPPED = [p for p in registered_parents() if not p.paper and p.element_table]


@pytest.mark.parametrize("info", SHIPPED, ids=lambda p: p.element_table)
def test_the_shipped_table_is_the_parents_own_embedding_of_its_default_weights(info):
    parent = resolve_parent(info.name)
    computed, _ = parent.element_table()
    shipped = shipped_element_table(info.element_table)
    np.testing.assert_array_equal(shipped, computed)  # NaN rows at the same elements too
    from skatomsets.elements import SHIPPED_TABLES_DIR

    with np.load(SHIPPED_TABLES_DIR / f"{info.element_table}.npz") as data:
        assert str(data["checksum"]) == parent.checksum()
    table, names = load_element_table(info.element_table)
    np.testing.assert_array_equal(table, computed)
    assert names[0] == f"{info.element_table}_0"


def test_reading_a_parents_table_imports_neither_torch_nor_the_parents_package():
    code = (
        "import sys\n"
        "from skatomsets.elements import load_element_table\n"
        "t, _ = load_element_table('chgnet64'); s, _ = load_element_table('sevennet0')\n"
        "assert t.shape == (119, 64) and s.shape[0] == 119\n"
        "print(sorted(m for m in ('torch', 'chgnet', 'sevenn') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_joined_element_models_keep_every_shipped_table_without_the_parents(monkeypatch):
    with_all = models.element_sources()
    assert {"chgnet64", "sevennet0"} <= set(with_all)
    monkeypatch.setattr(models, "installed_parents", lambda: [])  # no optional package
    assert models.element_sources() == with_all
