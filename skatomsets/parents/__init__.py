"""Pretrained parent networks whose features transfer (see :mod:`skatomsets.parents.base`).

Registered parents: ``"megnet"`` (the AtomSets paper's MEGNet mp-2019.4.1, shipped) and
``"chgnet"`` (CHGNet v0.3.0, from the optional ``chgnet`` package).
"""

from . import chgnet as _chgnet  # noqa: F401 - registers "chgnet" (imports chgnet lazily)
from . import megnet as _megnet  # noqa: F401 - registers "megnet"
from .base import Parent, available_parents, register_parent, resolve_parent

__all__ = ["Parent", "available_parents", "register_parent", "resolve_parent"]
