"""Published MatBench v0.1 scores to print next to ours (reference data).

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

#: One row per task (``matbench_`` left out): the best entry, its score, whether it uses the
#: structure, and the best entry that uses the composition only with its score (given where
#: the best uses the structure; none listed for mp_is_metal).
_BEST = """\
task          | best                  | score   | structure | best composition-only   | score
steels        | TPOT-Mat              | 79.9468 | no        |                         |
jdft2d        | MODNet v0.1.12        | 33.1918 | yes       | CrabNet                 | 45.6104
phonons       | MegNet (kgcnn v2.1.0) | 28.7606 | yes       | Finder_v1.2 composition | 46.5751
expt_gap      | Darwin                | 0.2865  | no        |                         |
dielectric    | MODNet v0.1.12        | 0.2711  | yes       | Finder_v1.2 composition | 0.3204
expt_is_metal | Darwin                | 0.9598  | no        |                         |
glass         | MODNet v0.1.12        | 0.9603  | no        |                         |
log_gvrh      | coNGN                 | 0.0670  | yes       | Finder_v1.2 composition | 0.0996
log_kvrh      | coNGN                 | 0.0491  | yes       | CrabNet                 | 0.0758
perovskites   | coGN                  | 0.0269  | yes       | CrabNet                 | 0.4065
mp_gap        | coGN                  | 0.1559  | yes       | Finder_v1.2 composition | 0.2308
mp_is_metal   | CGCNN v2019           | 0.9520  | yes       |                         |
mp_e_form     | coGN                  | 0.0170  | yes       | Finder_v1.2 composition | 0.0839
"""

#: One row per task: MODNet v0.1.12, RF-SCM/Magpie and the Dummy baseline.
_BASELINES = """\
task          |   modnet | rf_scm_magpie |    dummy
steels        |  87.7627 |      103.5125 | 229.7445
jdft2d        |  33.1918 |       50.0440 |  67.2851
phonons       |  34.2751 |       67.6126 | 323.9822
expt_gap      |   0.3327 |        0.4461 |   1.1435
dielectric    |   0.2711 |        0.4196 |   0.8088
expt_is_metal |   0.9161 |        0.9167 |   0.4924
glass         |   0.9603 |        0.8587 |   0.5005
log_gvrh      |   0.0731 |        0.1040 |   0.2931
log_kvrh      |   0.0548 |        0.0820 |   0.2897
perovskites   |   0.0908 |        0.2355 |   0.5660
mp_gap        |   0.2199 |        0.3452 |   1.3272
mp_is_metal   |   0.9038 |        0.8992 |   0.5012
mp_e_form     |   0.0448 |        0.1165 |   1.0059
"""


def _rows(table: str) -> list[list[str]]:
    """The cells of each row of a ``|`` table, header left out."""
    return [[c.strip() for c in line.split("|")] for line in table.splitlines()[1:]]


def _leaderboard() -> dict[str, dict]:
    baselines = {
        task: dict(zip(("modnet", "rf_scm_magpie", "dummy"), map(float, scores), strict=True))
        for task, *scores in _rows(_BASELINES)
    }
    board: dict[str, dict] = {}
    for task, name, score, structure, comp_name, comp_score in _rows(_BEST):
        entry = {"best_composition": (comp_name, float(comp_score))} if comp_name else {}
        entry["best"] = (name, float(score), structure == "yes")
        board[f"matbench_{task}"] = {**entry, **baselines[task]}
    return board


#: task -> best (name, score, uses structure), best_composition (name, score; the best entry
#: that uses the composition only, where the best uses the structure; none listed for
#: mp_is_metal), modnet, rf_scm_magpie, dummy
LEADERBOARD: dict[str, dict] = _leaderboard()

#: Paper numbers (Chen & Ong 2021, full matbench_perovskites), meV/atom, per (task, model).
PAPER_MEV_PER_ATOM: dict[tuple[str, str], float] = {
    ("perovskites", "atomsets-v0"): 83.0,
    ("perovskites", "atomsets-v1"): 12.0,
    ("perovskites", "mlp-f"): 30.0,
}
