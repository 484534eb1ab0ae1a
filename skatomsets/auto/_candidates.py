"""The candidate models the auto estimators choose among, by input kind and data size.

A candidate is a ready model of :func:`skatomsets.models.make_model`, so every choice the
auto model makes is a name a user can build and fit by hand. Which candidates are tried is a
size rule on the number of training rows (never the name of a task):

- compositions: the transferred MEGNet element embedding in a set model (``atomsets-v0``)
  and in an MLP on its set statistics (``mlp-v0-stats``), the same two on the concatenated
  element features of every available source (``atomsets-elements``,
  ``mlp-elements-stats``), and from 10,000 rows on the learned embedding (``atomsets``);
- structures: for each installed parent (:func:`~skatomsets.models.installed_parents`)
  AtomSets on its site features at its transfer level
  (:func:`~skatomsets.models.transfer_level`) and an MLP on its structure vector (MEGNet's
  readout ``f``, CHGNet's ``crystal``, ...), the parents' site features joined in one set
  (``atomsets-parents``), and the element-feature set model of the compositions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["default_candidates", "is_structure_input"]

#: From this many training rows the learned element embedding (``atomsets``) is a candidate.
LEARNED_EMBEDDING_MIN_ROWS = 10_000
#: From this many training rows only the set models are tried (an MLP on statistics loses
#: there in every record of docs/benchmarks.md, and each fit costs minutes).
SET_MODELS_ONLY_MIN_ROWS = 50_000


def default_candidates(structures: bool, n_rows: int) -> list[str]:
    """Names of the ready models the auto estimators try.

    Parameters
    ----------
    structures : bool
        Whether the inputs are crystal structures (else formulas / compositions).
    n_rows : int
        Number of training rows.

    Returns
    -------
    list of str
        :func:`~skatomsets.models.make_model` names, in the order they are tried.

    Examples
    --------
    >>> default_candidates(False, 300)
    ['atomsets-v0', 'mlp-v0-stats', 'atomsets-elements', 'mlp-elements-stats']
    """
    if not structures:
        names = ["atomsets-v0", "mlp-v0-stats", "atomsets-elements", "mlp-elements-stats"]
        if n_rows >= LEARNED_EMBEDDING_MIN_ROWS:
            names.append("atomsets")
        if n_rows >= SET_MODELS_ONLY_MIN_ROWS:
            names = [n for n in names if not n.startswith("mlp-")]
        return names
    from ..models import installed_parents, site_model_name, transfer_level, vector_model_name

    parents = installed_parents()
    names = [site_model_name(p, transfer_level(p)) for p in parents]
    names += [vector_model_name(p) for p in parents if p.default_structure_feature]
    if len(parents) > 1:
        names.append("atomsets-parents")
    names.append("atomsets-elements")
    return names


def is_structure_input(X: Any) -> bool:
    """Whether the materials of ``X`` are crystal structures (looked up on the first row).

    Structures, their ``as_dict()`` dicts and structure files (paths, CIF / POSCAR names)
    count as structures; formulas, Compositions and element-amount dicts do not.
    """
    from ..io.extras import split_extra_columns
    from ..io.materials import as_sequence

    materials, _, _ = split_extra_columns(X)
    items = as_sequence(materials)
    if not items:
        return False
    first = items[0]
    from pathlib import Path

    from pymatgen.core import IStructure

    from ..io.structures import is_structure_dict, is_structure_name

    if isinstance(first, (IStructure, Path)):
        return True
    if isinstance(first, dict):
        return is_structure_dict(first)
    if isinstance(first, str):  # CIF / POSCAR text, or a structure file's name
        return "\n" in first or is_structure_name(first.strip())
    return False
