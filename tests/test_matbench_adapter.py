"""The MatbenchBenchmark adapter, against a stand-in that follows matbench's API on local data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from skatomsets.benchmarks.adapter import run_matbench_benchmark
from skatomsets.datasets import load_dataset
from skatomsets.models import make_model


class FakeTask:
    """The subset of matbench.task.MatbenchTask used by the adapter, on a built-in dataset."""

    def __init__(self, name, task_type):
        self.dataset_name = name
        self.metadata = SimpleNamespace(task_type=task_type)
        self.folds = [0, 1]
        self.recorded = {}
        self.loaded = False

    def load(self):
        self.df = load_dataset(self.dataset_name)
        self.loaded = True

    def get_train_and_val_data(self, fold):
        d = self.df[self.df.test_fold != fold]
        return pd.Series(d.composition.values), pd.Series(d.target.values)

    def get_test_data(self, fold, include_target=False):
        assert include_target is False
        return pd.Series(self.df[self.df.test_fold == fold].composition.values)

    def record(self, fold, predictions):
        assert self.loaded
        # like MatbenchTask.record + validate: ndarray -> list, then bool / float per row
        values = predictions.tolist() if isinstance(predictions, np.ndarray) else predictions
        kind = bool if self.metadata.task_type == "classification" else float
        assert all(type(v) is kind for v in values), f"{self.dataset_name}: not {kind}"
        self.recorded[fold] = np.asarray(values)


def test_adapter_records_every_fold(tmp_path):
    tasks = [
        FakeTask("matbench_steels", "regression"),
        FakeTask("matbench_glass", "classification"),
    ]
    written = []
    bench = SimpleNamespace(tasks=tasks, to_file=written.append)
    run_matbench_benchmark(
        bench,
        lambda task: make_model(
            "mlp-v0-stats",
            classification=task.metadata.task_type == "classification",
            max_epochs=2,
            random_state=0,
            device="cpu",
        ),
        output=str(tmp_path / "r.json.gz"),
        progress=False,
    )
    steels, glass = tasks
    assert sorted(steels.recorded) == [0, 1]
    assert len(steels.recorded[0]) == (steels.df.test_fold == 0).sum()
    assert glass.recorded[1].dtype == bool and 0 < glass.recorded[1].mean() < 1  # labels
    assert np.isfinite(steels.recorded[1]).all()
    assert written == [str(tmp_path / "r.json.gz")]
