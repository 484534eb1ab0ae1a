"""The parent comparison's report: the Markdown table and the bar plot from fold records."""

from __future__ import annotations

import json

from skatomsets.benchmarks.parents import report_parents


def _write(out, task, model, fold, mae):
    (out / f"{task}__{model}__fold{fold}.json").write_text(
        json.dumps({"task": task, "model": model, "fold": fold, "mae": mae})
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
