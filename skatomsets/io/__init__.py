"""Everything that brings a user's materials in, and writes results out.

The first step of the data flow (materials -> per-atom feature sets -> set model):

- :mod:`~skatomsets.io.materials`: formulas, Compositions, Structures and structure files
  parsed into what featurizers read (the only place that parses materials);
- :mod:`~skatomsets.io.structures`: crystal-structure files and CIF / POSCAR text;
- :mod:`~skatomsets.io.extras`: a DataFrame's extra numeric columns (temperature, ...);
- :mod:`~skatomsets.io.tables`: a user's own table or structure folder, every row checked
  (what ``skatomsets train`` and ``predict`` read);
- :mod:`~skatomsets.io.files`: crash-safe writes of models, tables and figures.

Named datasets (the built-in MatBench tasks, structure sets) are :mod:`skatomsets.datasets`.
The readers below are imported on first use, so ``import skatomsets.io`` stays instant.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public readers and the module each lives in.
_LAZY = {
    "parse_compositions": ".materials",
    "parse_structures": ".materials",
    "read_structure": ".structures",
    "read_structures": ".structures",
    "parse_structure": ".structures",
    "split_extra_columns": ".extras",
    "load_training_data": ".tables",
    "load_model": ".files",
    "prediction_inputs": ".tables",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
