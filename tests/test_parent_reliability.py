"""Every parent refuses the same impossible geometries, keeps its shipped weights, and names
itself in its errors (issue 30, items 5, 6 and 12)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from skatomsets import CHGNetSiteFeaturizer, MEGNetSiteFeaturizer, ParentSiteFeaturizer
from skatomsets.exceptions import GraphConstructionError
from skatomsets.parents import resolve_parent
from skatomsets.parents.chgnet import CHGNetParent
from skatomsets.parents.megnet import MEGNetParent
from skatomsets.parents.sevennet import SevenNetParent

PARENTS = ["megnet", "chgnet", "sevennet"]


def _good() -> Structure:
    return Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


BAD = {
    "atoms 0.005 Å apart": (
        Structure(Lattice.cubic(5.0), ["Na", "Cl"], [[0, 0, 0], [0.001, 0, 0]]),
        r"sites 0 and 1 are 0.005 Å apart",
    ),
    "two atoms in one place": (
        Structure(Lattice.cubic(5.0), ["Na", "Cl"], [[0, 0, 0], [0, 0, 0]]),
        r"sites 0 and 1 are 0.000 Å apart",
    ),
    "0.5 Å cubic cell": (
        Structure(Lattice.cubic(0.5), ["Na"], [[0, 0, 0]]),
        r"0.125 Å\^3 per site: .* neighbours per atom",
    ),
    "0.3 Å cubic cell": (
        Structure(Lattice.cubic(0.3), ["Na"], [[0, 0, 0]]),
        r"0.027 Å\^3 per site",
    ),
    "0.1 Å cubic cell": (
        Structure(Lattice.cubic(0.1), ["Na"], [[0, 0, 0]]),
        r"0.001 Å\^3 per site",
    ),
    "a 0.3 Å lattice vector (a thin slab of the right volume)": (
        Structure(Lattice.orthorhombic(0.3, 12.0, 12.0), ["Na"], [[0, 0, 0]]),
        r"from its own periodic image",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("parent", PARENTS)
def test_every_parent_refuses_impossible_geometry_before_building_its_graph(parent, case):
    structure, message = BAD[case]
    feat = ParentSiteFeaturizer(parent, level=1, cache=False)
    start = time.perf_counter()
    with pytest.raises(GraphConstructionError, match=rf"row 1: .*{message}"):
        feat.fit_transform([_good(), structure])
    # refused before any neighbour search at the parent's cutoff (no GB allocations)
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("parent", PARENTS)
def test_the_geometry_check_comes_before_the_cache(parent):
    structure, _ = BAD["atoms 0.005 Å apart"]
    feat = ParentSiteFeaturizer(resolve_parent(parent), level=0, cache=True)
    with pytest.raises(GraphConstructionError, match="row 0"):
        feat.fit_transform([structure])
    with pytest.raises(GraphConstructionError, match="row 0"):
        feat.fit_transform([structure])


def _scale_embedding(parent: object) -> None:
    """Fine-tune ``parent.model`` in place (as a user would): every weight scaled."""
    with torch.no_grad():
        for w in parent.model.parameters():
            w.mul_(1.5)


@pytest.mark.parametrize(
    ("make_parent", "default_featurizer"),
    [
        (CHGNetParent, lambda: CHGNetSiteFeaturizer(level=2, cache=False)),
        (MEGNetParent, lambda: MEGNetSiteFeaturizer(level=2, cache=False)),
        (SevenNetParent, lambda: ParentSiteFeaturizer("sevennet", level=2, cache=False)),
    ],
    ids=["chgnet", "megnet", "sevennet"],
)
def test_fine_tuning_a_parents_network_in_place_leaves_default_featurizers_shipped(
    make_parent, default_featurizer
):
    X = [_good()]
    before = default_featurizer().fit_transform(X).values.copy()
    mine = make_parent()
    _scale_embedding(mine)
    # the user's own parent changed ...
    changed = ParentSiteFeaturizer(mine, level=2, cache=False).fit_transform(X).values
    assert np.abs(changed - before).max() > 1e-3
    # ... a default featurizer, and a fresh parent, still give the shipped network's features
    np.testing.assert_array_equal(default_featurizer().fit_transform(X).values, before)
    assert make_parent().checksum() != mine.checksum()


@pytest.mark.parametrize(("parent", "title"), [("chgnet", "CHGNet"), ("sevennet", "SevenNet")])
def test_a_formula_given_to_a_parent_featurizer_names_that_parent(parent, title):
    with pytest.raises(GraphConstructionError, match=rf"row 0: .*; {title} features need") as e:
        ParentSiteFeaturizer(parent, level=1, cache=False).fit_transform(["NaCl"])
    assert "MEGNet" not in str(e.value)


def test_a_formula_given_to_the_chgnet_featurizer_names_chgnet():
    with pytest.raises(GraphConstructionError, match="CHGNet features need crystal structures"):
        CHGNetSiteFeaturizer(cache=False).fit_transform(["NaCl"])
