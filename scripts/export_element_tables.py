"""Write the shipped copies of the parents' element tables (``chgnet64``, ``sevennet0``).

The composition models that join element features of every source (``atomsets-elements``,
``mlp-elements-stats``, the auto model's candidates) read each parent's element embedding.
Computing it means importing the parent's package and loading its network (seconds, in every
process), and without that optional package the table would be missing and the model would
differ from the one benchmarked. So the tables ship with the package, as derived data of the
pretrained weights, in ``skatomsets/data/element_tables/<table>.npz`` (the table, and the
checksum of the weights it came from); ``tests/test_element_tables_shipped.py`` checks them
against the parent. Run this after a parent's default weights change:

    python scripts/export_element_tables.py
"""

from __future__ import annotations

import shutil
from importlib import metadata

import numpy as np

from skatomsets.elements import SHIPPED_TABLES_DIR
from skatomsets.parents import registered_parents, resolve_parent


def main() -> None:
    SHIPPED_TABLES_DIR.mkdir(parents=True, exist_ok=True)
    for info in registered_parents():
        if info.paper or not info.element_table:
            continue  # the paper's parent's table (megnet16) is built in already
        parent = resolve_parent(info.name)
        table, _ = parent.element_table()
        path = SHIPPED_TABLES_DIR / f"{info.element_table}.npz"
        np.savez_compressed(
            path,
            table=table.astype(np.float32),
            checksum=np.array(parent.checksum()),
            source=np.array(info.label),
        )
        dist = metadata.distribution(info.requires)
        licence = next(f for f in dist.files if "LICEN" in str(f).upper())
        shutil.copy(dist.locate_file(licence), SHIPPED_TABLES_DIR / f"LICENSE-{info.requires}.txt")
        print(f"{path}: {table.shape}, weights {parent.checksum()[:12]}")


if __name__ == "__main__":
    main()
