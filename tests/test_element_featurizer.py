"""ElementEmbeddingFeaturizer: V0 and matminer element tables as weighted sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skatomsets import ElementEmbeddingFeaturizer
from skatomsets.elements import MEGNET_WEIGHTS, load_element_table
from skatomsets.exceptions import MissingFeaturesError, UnknownElementError


def test_megnet16_is_row_z_of_the_pretrained_embedding_layer():
    with np.load(MEGNET_WEIGHTS) as npz:
        emb = npz["embedding_1/embedding_1/embeddings:0"]
    sets = ElementEmbeddingFeaturizer().fit_transform(["Fe2O3"])
    np.testing.assert_array_equal(sets.values, emb[[8, 26]])
    np.testing.assert_allclose(sets.weights, [0.6, 0.4])
    assert emb.shape == (95, 16)


def test_shipped_weights_match_their_recorded_checksum():
    import hashlib
    import json

    meta = json.loads(MEGNET_WEIGHTS.with_suffix(".json").read_text())
    assert hashlib.sha256(MEGNET_WEIGHTS.read_bytes()).hexdigest() == meta["npz_sha256"]


def test_megnet16_is_read_through_the_checksummed_weights_loader(tmp_path, monkeypatch):
    import shutil

    from skatomsets import elements
    from skatomsets.exceptions import WeightsChecksumError
    from skatomsets.megnet import weights

    for suffix in (".npz", ".json"):
        shutil.copy(MEGNET_WEIGHTS.with_suffix(suffix), tmp_path)
    tampered = tmp_path / MEGNET_WEIGHTS.name
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(weights, "_data_dir", lambda: tmp_path)
    elements._cached.cache_clear()
    try:
        with pytest.raises(WeightsChecksumError, match="does not match the SHA-256"):
            load_element_table("megnet16")
    finally:
        elements._cached.cache_clear()


def test_weight_invariance_of_formula_scaling():
    f = ElementEmbeddingFeaturizer().fit()
    a, b, c = (f.transform([x]) for x in ["Fe0.5Ni0.5", "FeNi", "Fe2Ni2"])
    assert a == b == c


@pytest.mark.parametrize("name", ["megnet16", "magpie", "matscholar", "onehot", "atomic_number"])
def test_tables_cover_common_elements_without_nan(name):
    sets = ElementEmbeddingFeaturizer(name).fit_transform(["Fe2O3", "LiCoO2", "SiC"])
    assert np.isfinite(sets.values).all()
    table, names = load_element_table(name)
    assert sets.n_features == table.shape[1] == len(names)


def test_magpie_columns_are_standardised():
    table, _ = load_element_table("magpie")
    covered = ~np.isnan(table).any(axis=1)
    np.testing.assert_allclose(table[covered].mean(axis=0), 0, atol=0.15)


def test_element_without_features_names_row_and_element():
    f = ElementEmbeddingFeaturizer().fit()
    with pytest.raises(MissingFeaturesError, match="row 2: element Am has no features"):
        f.transform(["NaCl", "Fe", "AmO2"])


def test_error_rows_are_global_across_chunks_and_jobs():
    f = ElementEmbeddingFeaturizer(chunk_size=2, n_jobs=2).fit()
    with pytest.raises(UnknownElementError, match="row 5"):
        f.transform(["NaCl"] * 5 + ["Xx"])


def test_parallel_chunks_equal_serial():
    formulas = ["NaCl", "Fe2O3", "LiCoO2", "SiC", "MgO", "Al2O3", "K"]
    serial = ElementEmbeddingFeaturizer().fit_transform(formulas)
    parallel = ElementEmbeddingFeaturizer(chunk_size=3, n_jobs=2).fit_transform(formulas)
    assert serial == parallel


def test_custom_dict_embedding():
    f = ElementEmbeddingFeaturizer({"Na": [1.0, 0.0], "Cl": [0.0, 1.0]}).fit()
    np.testing.assert_array_equal(f.transform(["NaCl"]).values, [[1, 0], [0, 1]])
    with pytest.raises(MissingFeaturesError, match="element O"):
        f.transform(["Na2O"])


def test_invalid_embedding_name_raises_in_fit_not_init():
    f = ElementEmbeddingFeaturizer("nope")
    with pytest.raises(ValueError, match="embedding must be one of"):
        f.fit()


def test_feature_names_and_matminer_api():
    f = ElementEmbeddingFeaturizer().fit()
    assert f.get_feature_names_out()[0] == "megnet16_0"
    # for matminer the whole set is one feature
    assert f.feature_labels() == ["ElementEmbeddingFeaturizer_set"]
    assert any("megnet" in c.lower() for c in f.citations())
    assert f.implementors()
    df = pd.DataFrame({"formula": ["NaCl", "Xx"]})
    out = f.featurize_dataframe(df, "formula", ignore_errors=True, pbar=False)
    assert np.isnan(out["ElementEmbeddingFeaturizer_set"].iloc[1])  # matminer's NaN row
    assert out["ElementEmbeddingFeaturizer_set"].iloc[0].values.shape == (2, 16)
    assert list(df.columns) == ["formula"]  # input frame untouched


def test_iterator_input_is_consumed_chunk_by_chunk():
    pulled = []

    def formulas():
        for i, f in enumerate(["NaCl", "Fe2O3", "MgO", "K", "SiC"]):
            pulled.append(i)
            yield f

    f = ElementEmbeddingFeaturizer(chunk_size=2).fit()
    seen_at_first_chunk = []
    original = f._featurize_chunk

    def spy(items):
        seen_at_first_chunk.append(len(pulled))
        return original(items)

    f._featurize_chunk = spy
    out = f.transform(formulas())
    assert seen_at_first_chunk[0] == 2  # only the first chunk was read when it was featurized
    assert out == ElementEmbeddingFeaturizer().fit_transform(["NaCl", "Fe2O3", "MgO", "K", "SiC"])
