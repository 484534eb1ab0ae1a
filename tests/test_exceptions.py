"""Every error class lives in skatomsets.exceptions; older import paths re-export them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import skatomsets
from skatomsets import exceptions


def _modules():
    for info in pkgutil.walk_packages(skatomsets.__path__, "skatomsets."):
        if info.name.endswith("__main__"):
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError:  # an optional dependency is missing
            continue


def test_no_error_class_is_defined_outside_exceptions_py():
    elsewhere = [
        f"{module.__name__}.{name}"
        for module in _modules()
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == module.__name__
        and module is not exceptions
    ]
    assert elsewhere == []


@pytest.mark.parametrize(
    "path, name",
    [
        ("skatomsets.megnet", "GraphConstructionError"),
        ("skatomsets.megnet.graph", "GraphConstructionError"),
        ("skatomsets.megnet", "WeightsChecksumError"),
        ("skatomsets.megnet.weights", "WeightsChecksumError"),
        ("skatomsets.sets", "InvalidSetError"),
    ],
)
def test_old_import_paths_give_the_same_class(path, name):
    assert getattr(importlib.import_module(path), name) is getattr(exceptions, name)
    assert name in exceptions.__all__


def test_graph_errors_are_input_errors_that_keep_their_row_across_pickling():
    import pickle

    err = exceptions.GraphConstructionError("site 0 has no neighbour", row=3)
    assert isinstance(err, exceptions.SkatomsetsInputError) and isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert again.row == 3 and str(again) == "row 3: site 0 has no neighbour"
