"""Published MatBench v0.1 scores to print next to ours (reference data, no code).

Mean test scores over the official 5 folds from the MatBench per-task leaderboards
(``materialsproject/matbench``, ``docs_src/Leaderboards Per-Task/``, commit
``bb3eebf475ceac45e257f36c05cec7773b5ebb43``): the best entry (with its name and whether it
uses the crystal structure), the best composition-only entry, MODNet v0.1.12, RF-SCM/Magpie
and the Dummy baseline. MAE in the task's units (steels MPa, jdft2d meV/atom, phonons
cm^-1, expt_gap / mp_gap eV, dielectric refractive index, log_gvrh / log_kvrh log10(GPa),
perovskites eV/cell, mp_e_form eV/atom) or ROC-AUC (expt_is_metal, glass, mp_is_metal).

:data:`PAPER_MEV_PER_ATOM`: the AtomSets paper's (Chen & Ong 2021) perovskites MAE on the
full ``matbench_perovskites``, in meV/atom, printed next to the structure-set benchmark.
"""

from __future__ import annotations

__all__ = ["LEADERBOARD", "LEADERBOARD_SOURCE", "PAPER_MEV_PER_ATOM"]

LEADERBOARD_SOURCE = (
    "materialsproject/matbench docs_src/Leaderboards Per-Task, commit bb3eebf4 (MatBench v0.1)"
)

#: task -> best (name, score, uses structure), best_composition (name, score; the best entry
#: that uses the composition only, where the best uses the structure; none listed for
#: mp_is_metal), modnet, rf_scm_magpie, dummy
LEADERBOARD: dict[str, dict] = {
    "matbench_steels": {
        "best": ("TPOT-Mat", 79.9468, False),
        "modnet": 87.7627,
        "rf_scm_magpie": 103.5125,
        "dummy": 229.7445,
    },
    "matbench_jdft2d": {
        "best_composition": ("CrabNet", 45.6104),
        "best": ("MODNet v0.1.12", 33.1918, True),
        "modnet": 33.1918,
        "rf_scm_magpie": 50.0440,
        "dummy": 67.2851,
    },
    "matbench_phonons": {
        "best_composition": ("Finder_v1.2 composition", 46.5751),
        "best": ("MegNet (kgcnn v2.1.0)", 28.7606, True),
        "modnet": 34.2751,
        "rf_scm_magpie": 67.6126,
        "dummy": 323.9822,
    },
    "matbench_expt_gap": {
        "best": ("Darwin", 0.2865, False),
        "modnet": 0.3327,
        "rf_scm_magpie": 0.4461,
        "dummy": 1.1435,
    },
    "matbench_dielectric": {
        "best_composition": ("Finder_v1.2 composition", 0.3204),
        "best": ("MODNet v0.1.12", 0.2711, True),
        "modnet": 0.2711,
        "rf_scm_magpie": 0.4196,
        "dummy": 0.8088,
    },
    "matbench_expt_is_metal": {
        "best": ("Darwin", 0.9598, False),
        "modnet": 0.9161,
        "rf_scm_magpie": 0.9167,
        "dummy": 0.4924,
    },
    "matbench_glass": {
        "best": ("MODNet v0.1.12", 0.9603, False),
        "modnet": 0.9603,
        "rf_scm_magpie": 0.8587,
        "dummy": 0.5005,
    },
    "matbench_log_gvrh": {
        "best_composition": ("Finder_v1.2 composition", 0.0996),
        "best": ("coNGN", 0.0670, True),
        "modnet": 0.0731,
        "rf_scm_magpie": 0.1040,
        "dummy": 0.2931,
    },
    "matbench_log_kvrh": {
        "best_composition": ("CrabNet", 0.0758),
        "best": ("coNGN", 0.0491, True),
        "modnet": 0.0548,
        "rf_scm_magpie": 0.0820,
        "dummy": 0.2897,
    },
    "matbench_perovskites": {
        "best_composition": ("CrabNet", 0.4065),
        "best": ("coGN", 0.0269, True),
        "modnet": 0.0908,
        "rf_scm_magpie": 0.2355,
        "dummy": 0.5660,
    },
    "matbench_mp_gap": {
        "best_composition": ("Finder_v1.2 composition", 0.2308),
        "best": ("coGN", 0.1559, True),
        "modnet": 0.2199,
        "rf_scm_magpie": 0.3452,
        "dummy": 1.3272,
    },
    "matbench_mp_is_metal": {
        "best": ("CGCNN v2019", 0.9520, True),
        "modnet": 0.9038,
        "rf_scm_magpie": 0.8992,
        "dummy": 0.5012,
    },
    "matbench_mp_e_form": {
        "best_composition": ("Finder_v1.2 composition", 0.0839),
        "best": ("coGN", 0.0170, True),
        "modnet": 0.0448,
        "rf_scm_magpie": 0.1165,
        "dummy": 1.0059,
    },
}

#: Paper numbers (Chen & Ong 2021, full matbench_perovskites), meV/atom, per (task, model).
PAPER_MEV_PER_ATOM: dict[tuple[str, str], float] = {
    ("perovskites", "atomsets-v0"): 83.0,
    ("perovskites", "atomsets-v1"): 12.0,
    ("perovskites", "mlp-f"): 30.0,
}
