"""Crash-safe file writes shared by the benchmark runners and scripts."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path",
    "atomic_write_text",
    "load_model",
    "new_figure",
    "pyplot",
    "save_figure",
]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it replaces ``path``.

    Whatever writes the temporary file (``joblib.dump``, ``DataFrame.to_csv``, a figure's
    ``savefig``) either completes and the file appears under ``path`` at once
    (``os.replace``), or fails (a full disk, a file-size limit, Ctrl-C) and ``path`` is left
    as it was; the temporary file is removed either way. The folder must exist.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder + ``os.replace``.

    A reader sees either the old file or the complete new one, never a partial write; the
    temporary file is removed if anything fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (figures written to files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def new_figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None):
    """A matplotlib ``Figure`` and its axes array, outside pyplot (no backend is chosen).

    For the runners, which only write figures to files: a user's interactive backend and
    pyplot's figure list are left alone.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def save_figure(fig, path: str | os.PathLike[str], dpi: int = 90) -> None:
    """Save a matplotlib figure atomically (temporary PNG + ``os.replace``) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    try:
        fig.savefig(tmp, dpi=dpi)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()


def load_model(path: str | os.PathLike[str]) -> Any:
    """A model saved with ``joblib.dump`` (``skatomsets train --save``), checked.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file cannot be read (truncated, not a joblib file: the reason is given) or
        holds something without ``predict``.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    import joblib

    try:
        model = joblib.load(path)
    except Exception as exc:
        reason = str(exc).strip()
        detail = f"{type(exc).__name__}: {reason}" if len(reason) > 8 else type(exc).__name__
        raise ValueError(
            f"{path} is not a model saved by `skatomsets train --save`: it cannot be read "
            f"(truncated, or not a joblib file; {detail})"
        ) from None
    if not hasattr(model, "predict"):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a model")
    return model
