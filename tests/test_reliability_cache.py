"""Reliability of the MEGNet feature cache: keys follow the live weights, housekeeping."""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from skatomsets.featurizers.megnet import MEGNetStructureFeaturizer
from skatomsets.megnet import cache as cache_mod
from skatomsets.megnet import load_pretrained
from skatomsets.megnet.cache import clear_memory_cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_memory_cache()
    yield
    clear_memory_cache()


def _structures(n: int = 4) -> list[Structure]:
    return [
        Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
        for a in np.linspace(3.6, 4.6, n)
    ]


def _clean(structures) -> np.ndarray:
    return MEGNetStructureFeaturizer(features="prediction", cache=False).fit_transform(structures)


def test_parent_changed_after_fit_never_reads_or_writes_stale_features(tmp_path) -> None:
    structs = _structures()
    parent = load_pretrained("formation_energy_mp-2019.4.1")
    feat = MEGNetStructureFeaturizer(features="prediction", model=parent, cache=tmp_path).fit()
    before = feat.transform(structs[:2])
    with torch.no_grad():  # the user fine-tunes the module they passed as model=
        for p in parent.parameters():
            p.add_(0.05 * torch.randn_like(p, generator=torch.Generator().manual_seed(0)))
    after = feat.transform(structs)
    # the changed weights are used, for the cached rows too
    assert not np.allclose(before, after[:2])
    with torch.inference_mode():
        from skatomsets.megnet.graph import build_graphs

        direct = parent(build_graphs(structs).to_torch()).numpy()
    np.testing.assert_allclose(after.ravel(), direct, rtol=1e-6)
    # the pristine parent, by name, in memory and from disk, gets its own features
    clean = _clean(structs)
    shipped = MEGNetStructureFeaturizer(features="prediction", cache=tmp_path)
    np.testing.assert_allclose(shipped.fit_transform(structs), clean, rtol=1e-5)
    clear_memory_cache()
    np.testing.assert_allclose(shipped.fit_transform(structs), clean, rtol=1e-5)


def test_unwritable_cache_directory_warns_once_and_keeps_the_results(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache_mod.tempfile, "mkstemp", refuse)
    structs = _structures()
    feat = MEGNetStructureFeaturizer(features="prediction", cache=tmp_path).fit()
    with pytest.warns(UserWarning, match="cannot write to the MEGNet feature cache") as rec:
        out1 = feat.transform(structs[:2])
        clear_memory_cache.__globals__["_MEMORY"].clear()  # force a recompute and a write
        out2 = feat.transform(structs)
    assert sum("cannot write" in str(w.message) for w in rec) == 1
    np.testing.assert_allclose(out2, _clean(structs), rtol=1e-5)
    np.testing.assert_allclose(out1, out2[:2], rtol=1e-5)
    assert not list(tmp_path.rglob("shard-*.npz"))


def test_corrupt_shard_is_deleted_and_rewritten_so_later_processes_do_not_warn(tmp_path):
    structs = _structures()
    feat = MEGNetStructureFeaturizer(features="prediction", cache=tmp_path)
    clean = feat.fit_transform(structs)
    shards = sorted(tmp_path.rglob("shard-*.npz"))
    assert shards
    for shard in shards:
        shard.write_bytes(shard.read_bytes()[:100])  # truncated: unreadable
    clear_memory_cache()  # a "new process"
    with pytest.warns(UserWarning, match="it is deleted and its structures recomputed"):
        np.testing.assert_array_equal(feat.fit_transform(structs), clean)
    repaired = sorted(tmp_path.rglob("shard-*.npz"))
    assert repaired and all(s.stat().st_size > 100 for s in repaired)  # rewritten in full
    clear_memory_cache()  # the next "process" reads the repaired shards silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(feat.fit_transform(structs), clean)


def test_abandoned_temporary_files_are_removed_but_fresh_ones_kept(tmp_path):
    structs = _structures(2)
    feat = MEGNetStructureFeaturizer(features="prediction", cache=tmp_path)
    feat.fit_transform(structs)
    folder = next(tmp_path.rglob("shard-*.npz")).parent
    stale, fresh = folder / ".tmp-killed.npz", folder / ".tmp-live.npz"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"x" * 1000)
    old = time.time() - 2 * cache_mod.STALE_TMP_SECONDS
    os.utime(stale, (old, old))
    clear_memory_cache()  # a later process looks at the folder
    feat.fit_transform(structs + _structures(3)[1:])
    assert not stale.exists()
    assert fresh.exists()
