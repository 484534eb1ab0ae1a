"""Opt-in progress bars over the training epochs (used by the command line).

Inside ``with training_progress("fold 0"):`` every network that an estimator trains shows a
tqdm bar over its epochs (one bar per ensemble member, closed when the member stops, the
best validation score as postfix). Outside the block, estimators add nothing: the hook is a
context variable read when ``fit`` builds its networks, so there is no new parameter and
saved models carry no progress state.

Worker processes (``skatomsets train`` runs folds in ``--n-jobs`` processes) cannot draw on
the parent's terminal: given a :class:`ProgressFolder` instead of ``True``, the block writes
one short line per fit ("fold 2, networks 1-5: epoch 412/1500") to a file of that folder,
at most once a second, and the parent shows the lines of every running fit beside its bar
(:meth:`ProgressFolder.lines`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from skorch.callbacks import Callback

__all__ = [
    "ProgressFolder",
    "ensemble_progress",
    "progress_callbacks",
    "training_progress",
    "training_stage",
]


class _Sink:
    """The bars of one ``training_progress`` block."""

    def __init__(self, desc: str, enabled: bool) -> None:
        self.desc = desc
        self.enabled = enabled
        self.member = 0
        self.bar: Any = None

    def begin(self, total: int) -> None:
        """One bar for the next network (trained alone)."""
        self.begin_together(total, 1)

    def step(self, history: Any) -> None:
        last = history[-1] if len(history) else {}
        scores = {
            k: f"{v:.4g}"
            for k, v in last.items()
            if k.startswith("valid_") and k not in _NOT_SCORES and not k.endswith("_best")
        }
        self.advance(scores)

    def advance(self, postfix: dict[str, Any]) -> None:
        """One more epoch done; ``postfix``: what to show beside the count."""
        if self.bar is None:
            return
        self.bar.update(1)
        if postfix:
            self.bar.set_postfix(postfix, refresh=False)

    def begin_together(self, total: int, members: int) -> None:
        """One bar for ``members`` networks trained together (``_ensemble``)."""
        from tqdm.auto import tqdm

        label = self._networks(members)
        self.bar = tqdm(
            total=total,
            desc=f"{self.desc}, {label}",
            unit="epoch",
            leave=False,
            disable=not self.enabled,
        )

    def _networks(self, members: int) -> str:
        """Count the next ``members`` networks; their label ("network 3", "networks 1-5")."""
        first = self.member + 1
        self.member += members
        return f"network {first}" if members == 1 else f"networks {first}-{self.member}"

    def end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


_NOT_SCORES = ("valid_loss", "valid_batch_count")
_ACTIVE: ContextVar[_Sink | None] = ContextVar("skatomsets_training_progress", default=None)


class _EpochProgress(Callback):
    """Forwards epoch events to the active sink; stateless, so it pickles with the model."""

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        sink = _ACTIVE.get()
        if sink is not None:
            sink.begin(int(net.max_epochs))

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        sink = _ACTIVE.get()
        if sink is not None:
            sink.step(net.history)

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        sink = _ACTIVE.get()
        if sink is not None:
            sink.end()


#: A worker writes its progress line at most this often (seconds).
WORKER_REPORT_SECONDS = 1.0


class ProgressFolder:
    """A folder where worker processes leave one progress line per running fit.

    Picklable (it is a path), so it travels to joblib workers as a job argument; the parent
    reads :meth:`lines` while the workers train. Writes are atomic (``os.replace``).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def write(self, key: str, text: str | None) -> None:
        """Set (``text``) or clear (``None``) the line of fit ``key``."""
        target = self.path / f"{key}.txt"
        try:
            if text is None:
                target.unlink(missing_ok=True)
                return
            tmp = self.path / f".{key}.{os.getpid()}.tmp"
            tmp.write_text(text)
            os.replace(tmp, target)
        except OSError:  # the parent removed the folder (it stopped): nothing to report to
            pass

    def lines(self) -> list[str]:
        """The current line of every running fit, ordered by fit."""
        out = []
        for f in sorted(self.path.glob("*.txt")):
            try:
                out.append(f.read_text())
            except OSError:  # the fit just ended
                continue
        return [line for line in out if line]


class _FolderSink(_Sink):
    """Reports a worker's epochs to a :class:`ProgressFolder`, at most once a second."""

    def __init__(self, desc: str, folder: ProgressFolder) -> None:
        super().__init__(desc, enabled=True)
        self.folder = folder
        self.every = WORKER_REPORT_SECONDS
        self.key = "".join(c if c.isalnum() else "_" for c in desc)
        self.label = ""
        self.total = 0
        self.done = 0
        self.last = 0.0

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.last = now
            self.folder.write(
                self.key, f"{self.desc}, {self.label}: epoch {self.done}/{self.total}"
            )

    def begin_together(self, total: int, members: int) -> None:
        self.label, self.total, self.done = self._networks(members), total, 0
        self._show(force=True)

    def advance(self, postfix: dict[str, Any]) -> None:
        self.done += 1
        self._show()

    def end(self) -> None:
        self.folder.write(self.key, None)


@contextmanager
def training_progress(
    desc: str = "training", enabled: bool | ProgressFolder = True
) -> Iterator[None]:
    """Show a progress bar over the epochs of every network trained inside the block.

    Parameters
    ----------
    desc : str, default="training"
        Label of the bars (``"<desc>, network <k>"``).
    enabled : bool or ProgressFolder, default=True
        ``False`` shows nothing (e.g. ``--quiet``); a :class:`ProgressFolder` (in a worker
        process) gets one line per fit instead of bars.
    """
    sink = (
        _FolderSink(desc, enabled) if isinstance(enabled, ProgressFolder) else _Sink(desc, enabled)
    )
    token = _ACTIVE.set(sink)
    try:
        yield
    finally:
        sink.end()
        _ACTIVE.reset(token)


@contextmanager
def training_stage(name: str) -> Iterator[None]:
    """Name the networks trained inside the block (the auto model's candidate), so their
    bars and lines read ``"fold 0, mlp-elements-stats, networks 1-5"``; no-op outside a
    ``training_progress`` block."""
    sink = _ACTIVE.get()
    if sink is None:
        yield
        return
    desc, member = sink.desc, sink.member
    sink.desc, sink.member = f"{desc}, {name}", 0
    try:
        yield
    finally:
        sink.end()
        sink.desc, sink.member = desc, member


class _TogetherProgress:
    """What :class:`._ensemble.EnsembleTrainer` reports to the active bars."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink

    def begin(self, total: int, members: int) -> None:
        self.sink.begin_together(total, members)

    def step(self, epoch: int, n_active: int, name: str, best: Any, lower: bool) -> None:
        postfix: dict[str, Any] = {"training": n_active}
        if best is not None:
            finite = [b for b in best if b == b and abs(b) != float("inf")]
            if finite:
                postfix[f"best {name}"] = f"{(min if lower else max)(finite):.4g}"
        self.sink.advance(postfix)

    def end(self) -> None:
        self.sink.end()


def ensemble_progress() -> _TogetherProgress | None:
    """The reporter of a stacked ensemble inside ``training_progress``, else None."""
    sink = _ACTIVE.get()
    return None if sink is None else _TogetherProgress(sink)


def progress_callbacks() -> list[tuple[str, Callback]]:
    """The callbacks ``fit`` adds to each network: one inside ``training_progress``, else none."""
    return [("progress", _EpochProgress())] if _ACTIVE.get() is not None else []
