"""Opt-in progress bars over the training epochs (used by the command line).

Inside ``with training_progress("fold 0"):`` every network that an estimator trains shows a
tqdm bar over its epochs (one bar per ensemble member, closed when the member stops, the
best validation score as postfix). Outside the block, estimators add nothing: the hook is a
context variable read when ``fit`` builds its networks, so there is no new parameter and
saved models carry no progress state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from skorch.callbacks import Callback

__all__ = ["ensemble_progress", "progress_callbacks", "training_progress"]


class _Sink:
    """The bars of one ``training_progress`` block."""

    def __init__(self, desc: str, enabled: bool) -> None:
        self.desc = desc
        self.enabled = enabled
        self.member = 0
        self.bar: Any = None

    def begin(self, total: int) -> None:
        from tqdm.auto import tqdm

        self.member += 1
        self.bar = tqdm(
            total=total,
            desc=f"{self.desc}, network {self.member}",
            unit="epoch",
            leave=False,
            disable=not self.enabled,
        )

    def step(self, history: Any) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        last = history[-1] if len(history) else {}
        scores = {
            k: v
            for k, v in last.items()
            if k.startswith("valid_") and k not in _NOT_SCORES and not k.endswith("_best")
        }
        if scores:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in scores.items()}, refresh=False)

    def begin_together(self, total: int, members: int) -> None:
        """One bar for ``members`` networks trained together (``_ensemble``)."""
        from tqdm.auto import tqdm

        first = self.member + 1
        self.member += members
        label = f"network {first}" if members == 1 else f"networks {first}-{self.member}"
        self.bar = tqdm(
            total=total,
            desc=f"{self.desc}, {label}",
            unit="epoch",
            leave=False,
            disable=not self.enabled,
        )

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


@contextmanager
def training_progress(desc: str = "training", enabled: bool = True) -> Iterator[None]:
    """Show a progress bar over the epochs of every network trained inside the block.

    Parameters
    ----------
    desc : str, default="training"
        Label of the bars (``"<desc>, network <k>"``).
    enabled : bool, default=True
        ``False`` shows nothing (e.g. ``--quiet``).
    """
    sink = _Sink(desc, enabled)
    token = _ACTIVE.set(sink)
    try:
        yield
    finally:
        sink.end()
        _ACTIVE.reset(token)


class _TogetherProgress:
    """What :class:`._ensemble.EnsembleTrainer` reports to the active bars."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink

    def begin(self, total: int, members: int) -> None:
        self.sink.begin_together(total, members)

    def step(self, epoch: int, n_active: int, name: str, best: Any, lower: bool) -> None:
        bar = self.sink.bar
        if bar is None:
            return
        bar.update(1)
        postfix = {"training": n_active}
        if best is not None:
            finite = [b for b in best if b == b and abs(b) != float("inf")]
            if finite:
                postfix[f"best {name}"] = f"{(min if lower else max)(finite):.4g}"
        bar.set_postfix(postfix, refresh=False)

    def end(self) -> None:
        self.sink.end()


def ensemble_progress() -> _TogetherProgress | None:
    """The reporter of a stacked ensemble inside ``training_progress``, else None."""
    sink = _ACTIVE.get()
    return None if sink is None else _TogetherProgress(sink)


def progress_callbacks() -> list[tuple[str, Callback]]:
    """The callbacks ``fit`` adds to each network: one inside ``training_progress``, else none."""
    return [("progress", _EpochProgress())] if _ACTIVE.get() is not None else []
