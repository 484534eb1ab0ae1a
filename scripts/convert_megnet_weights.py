"""Regenerate the shipped MEGNet weights from the ``maml`` wheel.

The pretrained MEGNet formation-energy model (Materials Project mp-2019.4.1, Chen et al.
2019) is distributed inside the ``maml`` wheel on PyPI (BSD-3-Clause) as a Keras HDF5 file.
This script copies every weight array of that file, under its Keras name, into a
compressed ``.npz`` shipped with skatomsets, together with the model's JSON config
and SHA-256 checksums, so that no TensorFlow and no download is needed at run time.

Usage (needs h5py, the ``convert`` extra: ``pip install "skatomsets[convert]"``)::

    pip download --no-deps maml==2025.4.3 -d /tmp/maml
    python scripts/convert_megnet_weights.py /tmp/maml/maml-2025.4.3-py3-none-any.whl
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "maml/describers/data/megnet_models/formation_energy.hdf5"
OUT_DIR = Path(__file__).resolve().parents[1] / "skatomsets" / "data" / "megnet"
OUT_NAME = "formation_energy_mp-2019.4.1"


def _h5py():
    """h5py, or a clear error naming the extra that installs it (only this script needs it)."""
    try:
        import h5py
    except ImportError as exc:
        raise SystemExit(
            "convert_megnet_weights.py reads Keras HDF5 files and needs h5py, which is not a "
            'runtime dependency of skatomsets: pip install "skatomsets[convert]"'
        ) from exc
    return h5py


def main(wheel: str) -> None:
    """Convert the HDF5 weights found in ``wheel`` into the shipped ``.npz``."""
    h5py = _h5py()
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(MEMBER)
        config = json.loads(zf.read(MEMBER + ".json"))
    arrays: dict[str, np.ndarray] = {}
    with h5py.File(io.BytesIO(raw), "r") as f:

        def visit(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                arrays[name.removeprefix("model_weights/")] = np.asarray(obj, dtype=np.float32)

        f["model_weights"].visititems(visit)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    npz_path = OUT_DIR / f"{OUT_NAME}.npz"
    np.savez_compressed(npz_path, **arrays)
    meta = {
        "source": f"{Path(wheel).name}:{MEMBER}",
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "npz_sha256": hashlib.sha256(npz_path.read_bytes()).hexdigest(),
        "license": "BSD-3-Clause (maml, Materials Virtual Lab); see LICENSE-maml.txt",
        "reference": "Chen, Ye, Zuo, Zheng, Ong, Chem. Mater. 31, 3564 (2019)",
        "config": config,
    }
    (OUT_DIR / f"{OUT_NAME}.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {npz_path} ({len(arrays)} arrays)")


if __name__ == "__main__":
    main(sys.argv[1])
