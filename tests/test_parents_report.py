"""The parent comparison's report: the Markdown table and the bar plot from fold records."""

from __future__ import annotations

import json

from skatomsets.benchmarks.parents import report_parents


def _write(out, task, model, fold, mae):
    # 5,000 training rows: a size whose rules have not changed since records lacked a budget
    (out / f"{task}__{model}__fold{fold}.json").write_text(
        json.dumps({"task": task, "model": model, "fold": fold, "mae": mae, "n_train": 5000})
    )


def test_report_gives_mean_and_std_per_task_and_model_and_draws_the_plot(tmp_path):
    for k, (a, b) in enumerate([(0.08, 0.10), (0.10, 0.12)]):
        _write(tmp_path, "elastic_log10_G", "chgnet-v1", k, a)
        _write(tmp_path, "elastic_log10_G", "megnet-v1", k, b)
    _write(tmp_path, "dielectric_n", "mlp-chgnet", 0, 0.2)
    png = tmp_path / "plot" / "parents.png"
    png.parent.mkdir()
    table = report_parents(tmp_path, plot=png)
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line for line in table.splitlines()}
    chg = rows["elastic_log10_G", "CHGNet v0.3.0"].split("|")[3:-1]
    meg = rows["elastic_log10_G", "MEGNet mp-2019.4.1"].split("|")[3:-1]
    assert chg[1].strip() == "**0.0900 ± 0.0100** (2 folds)"  # V1, the best of the set
    assert meg[1].strip() == "0.1100 ± 0.0100 (2 folds)"
    assert [c.strip() for c in chg[::2]] == ["-", "-", "-", "-"]  # V0, V2, V4, scratch
    assert rows["dielectric_n", "CHGNet v0.3.0"].split("|")[8].strip().startswith("**0.2000")
    assert ("dielectric_n", "MEGNet mp-2019.4.1") not in rows
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_without_a_plot_path_writes_no_file(tmp_path):
    _write(tmp_path, "perovskites", "chgnet-v3", 0, 0.05)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert "| perovskites | CHGNet v0.3.0 | - | - | - | **0.0500 ± 0.0000** (1 fold)" in (
        report_parents(tmp_path)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_megnet_from_scratch_trains_on_the_structures_with_the_learning_curve_budget():
    import numpy as np
    from pymatgen.core import Lattice, Structure

    from skatomsets import MEGNetRegressor
    from skatomsets.benchmarks.config import PARENT_MODELS
    from skatomsets.benchmarks.learning_curves import BUDGET
    from skatomsets.benchmarks.parents import estimator, featurizer

    assert "megnet-scratch" in PARENT_MODELS
    structures = np.empty(1, dtype=object)
    structures[0] = Structure(Lattice.cubic(4.2), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert featurizer("megnet-scratch").fit_transform(structures)[0] is structures[0]
    est = estimator("megnet-scratch")
    assert isinstance(est, MEGNetRegressor)
    assert est.init is None
    assert est.max_epochs == BUDGET["megnet_epochs"]
    assert est.batch_size == BUDGET["megnet_batch_size"]
    assert est.random_state == 0


def test_report_marks_cells_made_with_an_earlier_budget_and_drops_their_bold(tmp_path, monkeypatch):
    from skatomsets.benchmarks import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig))
    # records without a budget were made under the rules before session 12: at 844 rows
    # (400-1,999) that is another budget than today's, at 5,500 rows the same one
    for k in range(2):
        for model, mae in [("chgnet-v3", 0.18), ("megnet-v1", 0.24)]:
            (tmp_path / f"dielectric_n__{model}__fold{k}.json").write_text(
                json.dumps(
                    {"task": "dielectric_n", "model": model, "fold": k, "mae": mae, "n_train": 844}
                )
            )
            (tmp_path / f"perovskites__{model}__fold{k}.json").write_text(
                json.dumps(
                    {
                        "task": "perovskites",
                        "model": model,
                        "fold": k,
                        "mae": mae / 3,
                        "n_train": 5500,
                    }
                )
            )
    lines = report_parents(tmp_path, plot=tmp_path / "p.png").splitlines()
    panels = {ax.get_title(): ax for ax in figures[0].axes}
    for task, old in [("dielectric_n", True), ("perovskites", False)]:
        labels = [t.get_text() for t in panels[task].get_yticklabels()]
        hatches = {bar.get_hatch() for bar in panels[task].patches}
        assert all(label.endswith(" †") == old for label in labels), labels
        assert ("//" in hatches) == old
    diel = [line for line in lines if line.startswith("| dielectric_n")]
    perov = [line for line in lines if line.startswith("| perovskites")]
    assert len(diel) == 2 and all(line.count(" † |") == 1 for line in diel)
    assert not any("**" in line for line in diel)
    assert not any("†" in line for line in perov)
    assert sum("**" in line for line in perov) == 1
    assert lines[-1].startswith("† made with an earlier training budget")


def test_parent_runner_refits_only_records_made_with_another_budget(tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd
    from sklearn.preprocessing import FunctionTransformer

    import skatomsets.datasets as structure_data
    from skatomsets import AtomSetsMLPRegressor
    from skatomsets.benchmarks import parents

    rng = np.random.default_rng(0)
    n = 520  # 416 training rows per fold: the 400-1,999-row rule
    X = rng.normal(size=(n, 3))
    df = pd.DataFrame(
        {"structure": list(X), "target": X @ [1.0, -2.0, 0.5], "test_fold": np.arange(n) % 5}
    )
    monkeypatch.setattr(structure_data, "load_structure_set", lambda path, target: df)
    monkeypatch.setattr(parents, "featurizer", lambda model, cache: FunctionTransformer(np.vstack))
    # a short default MLP: its ensemble size still comes from the size rules
    monkeypatch.setattr(
        parents,
        "estimator",
        lambda model: AtomSetsMLPRegressor(max_epochs=2, patience=1, random_state=0),
    )
    store = parents.RecordStore(tmp_path)
    for k, budget in [(0, None), (1, "today")]:
        rec = {"task": "dielectric_n", "model": "mlp-f", "fold": k, "mae": 9.0, "n_train": 416}
        if budget == "today":
            rec["resolved"] = parents.resolved_training_params(parents.estimator("mlp-f"), 416)
        store.write(rec, "dielectric_n", "mlp-f", f"fold{k}")
    parents.run_parent_task(
        "dielectric_n", ["mlp-f"], tmp_path, tmp_path, folds=[0, 1], log=lambda s: None
    )
    fold0 = store.read("dielectric_n", "mlp-f", "fold0")
    fold1 = store.read("dielectric_n", "mlp-f", "fold1")
    assert fold0["mae"] != 9.0  # no budget at 416 rows: the old rule's, so refitted
    assert fold0["resolved"]["n_ensemble"] == 5
    assert fold1["mae"] == 9.0  # made with today's budget: kept
