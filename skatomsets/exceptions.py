"""Every error class of skatomsets.

Bad input raises a :class:`SkatomsetsInputError` subclass (a ``ValueError`` whose message
names the offending row and what is wrong, with the row in ``.row``); a corrupted weight file
raises :class:`WeightsChecksumError`. Older import paths (``skatomsets.megnet``,
``skatomsets.megnet.graph``, ``skatomsets.megnet.weights``, ``skatomsets.sets``) re-export
the same classes.
"""

from __future__ import annotations

__all__ = [
    "EmptyCompositionError",
    "GraphConstructionError",
    "InvalidExtraInputError",
    "InvalidFormulaError",
    "InvalidRowsError",
    "InvalidSampleWeightError",
    "InvalidSetError",
    "InvalidTargetError",
    "MissingFeaturesError",
    "OutputWriteError",
    "SkatomsetsInputError",
    "StructureFileError",
    "UnknownElementError",
    "WeightsChecksumError",
]


class SkatomsetsInputError(ValueError):
    """Base class of all input errors raised by skatomsets.

    Parameters
    ----------
    message : str
        What is wrong.
    row : int, optional
        Position of the offending sample in the input (0-based), if one sample is at fault.
    """

    def __init__(self, message: str, row: int | None = None) -> None:
        self.row = row
        prefix = f"row {row}: " if row is not None else ""
        super().__init__(prefix + message)

    def __reduce__(self):  # keep the row when errors cross process boundaries (joblib)
        msg = str(self)
        if self.row is not None:
            msg = msg.removeprefix(f"row {self.row}: ")
        return (type(self), (msg, self.row))


class InvalidFormulaError(SkatomsetsInputError):
    """A formula string that cannot be parsed, or an input of an unsupported type."""


class UnknownElementError(SkatomsetsInputError):
    """A symbol that is not a chemical element (e.g. ``Xx``), or Z out of range."""


class EmptyCompositionError(SkatomsetsInputError):
    """A material with no atoms, or only zero amounts."""


class MissingFeaturesError(SkatomsetsInputError):
    """An element for which the chosen feature table has no entry."""


class InvalidSetError(SkatomsetsInputError):
    """A malformed ragged set container (empty set, bad weights, NaN features...)."""


class InvalidTargetError(SkatomsetsInputError):
    """NaN, inf or non-numeric targets, or a classification target with one class."""


class StructureFileError(SkatomsetsInputError):
    """A structure file (CIF, POSCAR, VASP) that does not exist or cannot be read."""


class GraphConstructionError(SkatomsetsInputError):
    """A structure the graph networks cannot take: not a structure, an element outside the
    network's embedding, overlapping atoms, an isolated site, a vacancy where structure-level
    features are asked for, a disordered site for CHGNet (the message names the row)."""


class InvalidExtraInputError(SkatomsetsInputError):
    """An extra per-material input (a numeric column beside the materials) that is not a
    finite number, or extra columns that differ from those seen in ``fit``.

    Parameters
    ----------
    message : str
    row : int, optional
    column : str, optional
        Name of the offending extra column.
    """

    def __init__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.column = column
        super().__init__(message, row=row)

    def __reduce__(self):
        msg = str(self)
        if self.row is not None:
            msg = msg.removeprefix(f"row {self.row}: ")
        return (type(self), (msg, self.row, self.column))


class InvalidSampleWeightError(SkatomsetsInputError):
    """``sample_weight`` of the wrong length, with negative / NaN / infinite entries, or
    all zero."""


class InvalidRowsError(SkatomsetsInputError):
    """Several rows of a user's table (or command line) are bad: all of them, at once.

    Raised by :mod:`skatomsets.io.tables` (``skatomsets train`` / ``predict``) after every row
    was checked, so one run lists every problem.

    Parameters
    ----------
    message : str
        The summary line (how many rows, where, what to do).
    problems : list of str
        One ``file:line, column 'c': problem`` line per bad row.
    shown : int, default=20
        How many problems ``str()`` lists after the summary (then a count of the rest).
    """

    def __init__(self, message: str, problems: list[str] | None = None, shown: int = 20) -> None:
        self.problems = list(problems or [])
        self.summary = message
        self.shown = shown
        lines = [message, *(f"  {p}" for p in self.problems[:shown])]
        if len(self.problems) > shown:
            lines.append(f"  ... and {len(self.problems) - shown} more")
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return (type(self), (self.summary, self.problems, self.shown))


class OutputWriteError(OSError):
    """An output file could not be written (a full disk, a file-size limit, no permission);
    it was written atomically, so an existing file under that name is unchanged."""


class WeightsChecksumError(ValueError):
    """A weight file does not match the checksum recorded in its sidecar."""
