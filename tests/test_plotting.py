"""The Displays of skatomsets.plotting and the runners' use of them."""

from __future__ import annotations

import builtins

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.model_selection import KFold

from skatomsets import AtomSetsClassifier, ElementEmbeddingFeaturizer
from skatomsets.models import make_model
from skatomsets.plotting import LearningCurveDisplay, ParityDisplay, ROCDisplay

FORMULAS = ["Fe2O3", "NaCl", "SiO2", "Al2O3", "MgO", "CuZn", "TiO2", "LiF", "KBr", "CaO"]
Y = np.array([5.2, 8.5, 9.0, 8.8, 7.8, 0.0, 3.2, 13.6, 7.4, 7.0])


@pytest.fixture
def ax():
    """An axes outside pyplot: the tests never touch the user's backend."""
    return Figure().subplots()


def test_displays_never_choose_a_backend(ax):
    before = matplotlib.get_backend()
    ParityDisplay.from_predictions([1.0, 2.0], [1.5, 2.5], ax=ax)
    LearningCurveDisplay.from_scores([10, 20], [[1.0, 1.2], [0.8, 0.9]], ax=ax)
    assert matplotlib.get_backend() == before


def test_parity_from_predictions_draws_std_as_error_bars(ax):
    disp = ParityDisplay.from_predictions(
        [1.0, 2.0, 3.0], [1.1, 1.9, 3.3], y_std=[0.1, 0.2, 0.3], name="m", ax=ax
    )
    assert disp.ax_ is ax and disp.figure_ is ax.figure
    assert disp.mae_ == pytest.approx(0.5 / 3)
    assert ax.get_title().startswith("m\nMAE 0.167")
    bars = disp.points_.lines[2][0].get_segments()  # the vertical error bars
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in bars], [0.2, 0.4, 0.6])
    np.testing.assert_allclose(disp.line_.get_xdata(), [1.0, 3.3])


def test_parity_from_estimator_uses_ensemble_std(ax, tiny):
    pipe = make_model("atomsets-v0", **{**tiny, "n_ensemble": 2}).fit(FORMULAS, Y)
    pred, std = pipe.predict(FORMULAS, return_std=True)
    disp = ParityDisplay.from_estimator(pipe, FORMULAS, Y, ax=ax)
    np.testing.assert_allclose(disp.y_pred, pred)
    np.testing.assert_allclose(disp.y_std, std)
    assert disp.name == "AtomSetsRegressor"
    assert disp.mae_ == pytest.approx(np.mean(np.abs(Y - pred)))


def test_parity_from_estimator_without_return_std(ax, tiny):
    from sklearn.linear_model import LinearRegression

    X = np.arange(10.0)[:, None]
    disp = ParityDisplay.from_estimator(LinearRegression().fit(X, Y), X, Y, ax=ax)
    assert disp.y_std is None and disp.name == "LinearRegression"
    single = make_model("atomsets-v0", **tiny).fit(FORMULAS, Y)  # one network: no spread
    assert ParityDisplay.from_estimator(single, FORMULAS, Y, ax=ax).y_std is None


def test_parity_rejects_mismatched_lengths(ax):
    with pytest.raises(ValueError, match="y_true has 2 values but y_pred has 3"):
        ParityDisplay.from_predictions([1.0, 2.0], [1.0, 2.0, 3.0], ax=ax)


def test_learning_curve_from_scores_mean_and_spread(ax):
    disp = LearningCurveDisplay.from_scores(
        [100, 200, 400], [[1.0, 3.0], [1.0, 1.0], [0.5, 0.7]], name="a", ax=ax
    )
    line = disp.errorbar_.lines[0]
    np.testing.assert_allclose(line.get_ydata(), [2.0, 1.0, 0.6])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == "test MAE"
    with pytest.raises(ValueError, match="one row per training size"):
        LearningCurveDisplay.from_scores([1, 2], [[1.0], [2.0], [3.0]], ax=ax)


def test_learning_curve_from_estimator_reports_positive_mae(ax, tiny):
    pipe = make_model("atomsets-v0", **tiny)
    disp = LearningCurveDisplay.from_estimator(
        pipe, FORMULAS, Y, train_sizes=[3, 5], cv=KFold(2, shuffle=True, random_state=0), ax=ax
    )
    np.testing.assert_array_equal(disp.train_sizes, [3, 5])
    assert np.asarray(disp.test_scores).shape == (2, 2)  # sizes x CV splits
    assert (np.asarray(disp.test_scores) > 0).all()
    assert ax.get_ylabel() == "test MAE" and disp.name == "AtomSetsRegressor"


def test_roc_from_estimator_on_a_classifier_pipeline(ax, tiny):
    from sklearn.pipeline import make_pipeline

    labels = np.array(["metal", "insulator"] * 5)
    pipe = make_pipeline(ElementEmbeddingFeaturizer(), AtomSetsClassifier(**tiny))
    pipe.fit(FORMULAS, labels)
    disp = ROCDisplay.from_estimator(pipe, FORMULAS, labels, ax=ax, name="clf")
    assert isinstance(disp, ROCDisplay) and disp.ax_ is ax
    assert 0.0 <= disp.roc_auc <= 1.0 and "clf" in disp.line_.get_label()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"skatomsets\[plot\]"):
        ParityDisplay.from_predictions([1.0], [1.0])
    with pytest.raises(ImportError, match=r"skatomsets\[plot\]"):
        ROCDisplay.from_predictions([0, 1], [0.2, 0.8])


@pytest.fixture
def parity_calls(monkeypatch):
    """The keyword arguments of every ``ParityDisplay.from_predictions`` call (still drawn)."""
    from skatomsets import plotting

    calls = []
    original = plotting.ParityDisplay.from_predictions.__func__

    def spy(cls, *args, **kwargs):
        calls.append(kwargs)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(plotting.ParityDisplay, "from_predictions", classmethod(spy))
    return calls


def test_benchmark_plots_go_through_displays_and_leave_pyplot_alone(tmp_path, parity_calls):
    import matplotlib.pyplot as plt

    from skatomsets.benchmarks import plots as benchmark

    open_before = plt.get_fignums()
    rec = {"y_true": [1.0, 2.0, 3.0], "predictions": [1.2, 1.8, 3.1]}
    benchmark.parity_plot("t", {"a": [rec], "b": [rec]}, tmp_path / "p.png")
    benchmark.roc_plot(
        "c",
        {"a": [{"y_true": [0, 1, 0, 1], "predictions": [0.1, 0.7, 0.4, 0.9]}]},
        tmp_path / "r.png",
    )
    assert [c.get("name") for c in parity_calls] == ["a", "b"]
    assert (tmp_path / "p.png").stat().st_size > 0 and (tmp_path / "r.png").stat().st_size > 0
    assert plt.get_fignums() == open_before


def test_runners_require_an_output_folder():
    from skatomsets.benchmarks import run_benchmark, run_protocols

    with pytest.raises(ValueError, match="out_dir is required"):
        run_benchmark(models=["dummy"], tasks=["matbench_steels"])
    with pytest.raises(ValueError, match="out_dir is required"):
        run_protocols(models=["dummy"], tasks=["matbench_steels"])


def test_cli_benchmark_requires_out_dir(capsys):
    from skatomsets.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--models", "dummy"])
    assert exc.value.code == 2
    assert "--out-dir" in capsys.readouterr().err


def test_benchmark_folds_record_the_ensemble_std_for_the_parity_plot(tmp_path, parity_calls, tiny):
    import pandas as pd

    from skatomsets.benchmarks import DummyModel
    from skatomsets.benchmarks import plots as benchmark
    from skatomsets.protocols import run_matbench_folds

    df = pd.DataFrame({"composition": FORMULAS, "target": Y, "test_fold": [0, 1] * 5})
    res = run_matbench_folds(make_model("atomsets-v0", **{**tiny, "n_ensemble": 2}), df, False)
    assert [len(r.std) for r in res] == [5, 5]
    assert all(s > 0 for r in res for s in r.std)
    assert run_matbench_folds(DummyModel(), df, False)[0].std == []  # no return_std

    records = [
        {"y_true": r_y, "predictions": r.predictions, "std": r.std}
        for r, r_y in zip(res, [Y[0::2], Y[1::2]], strict=True)
    ]
    benchmark.parity_plot("t", {"atomsets-v0": records}, tmp_path / "p.png")
    np.testing.assert_allclose(parity_calls[0]["y_std"], np.concatenate([r.std for r in res]))
