"""Pretrained parent networks whose features transfer (see :mod:`skatomsets.parents.base`).

Registered parents: ``"megnet"`` (the AtomSets paper's MEGNet mp-2019.4.1, shipped),
``"chgnet"`` (CHGNet v0.3.0, from the optional ``chgnet`` package) and ``"sevennet"``
(SevenNet-0, from the optional ``sevenn`` package). Registration imports none of the
optional packages: :func:`parent_info` says what each parent offers.
"""

from . import chgnet as _chgnet  # noqa: F401 - registers "chgnet" (imports chgnet lazily)
from . import megnet as _megnet  # noqa: F401 - registers "megnet" (the paper's parent, first)
from . import sevennet as _sevennet  # noqa: F401 - registers "sevennet" (imports sevenn lazily)
from .base import (
    Parent,
    ParentInfo,
    available_parents,
    check_geometry,
    missing_dependency,
    parent_info,
    register_parent,
    registered_parents,
    resolve_parent,
)

__all__ = [
    "Parent",
    "ParentInfo",
    "available_parents",
    "check_geometry",
    "missing_dependency",
    "parent_info",
    "register_parent",
    "registered_parents",
    "resolve_parent",
]
