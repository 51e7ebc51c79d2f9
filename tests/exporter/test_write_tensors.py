"""write_tensors(): the public writer of tensor files (model inputs for `kiln run --input`)."""
import os
from collections import OrderedDict

import numpy as np
import pytest

from kiln_export import ExportError, read_manifest, read_tensors, write_tensors


def _arrays():
    rng = np.random.default_rng(7)
    return OrderedDict([("input", rng.standard_normal((2, 3, 5, 7)).astype(np.float32)),
                        ("aux.scale", rng.standard_normal(9).astype(np.float16))])


def test_roundtrip_keeps_order_values_and_blob_name(tmp_path):
    path = str(tmp_path / "batch.manifest")
    write_tensors(path, _arrays())
    assert sorted(os.listdir(tmp_path)) == ["batch.bin", "batch.manifest"]
    assert os.path.basename(read_manifest(path).blob_path) == "batch.bin"
    back = read_tensors(path)
    assert list(back) == ["input", "aux.scale"]
    for name, arr in _arrays().items():
        assert back[name].dtype == arr.dtype and back[name].shape == arr.shape
        assert np.array_equal(back[name], arr)


def test_pairs_and_overwrite(tmp_path):
    path = str(tmp_path / "x.manifest")
    write_tensors(path, list(_arrays().items()))
    one = np.full((1, 4), 3.5, dtype=np.float32)
    write_tensors(path, [("y", one)])
    back = read_tensors(path)
    assert list(back) == ["y"] and np.array_equal(back["y"], one)
    assert not [n for n in os.listdir(tmp_path) if "kiln-tmp" in n]


def test_rejects_float64_with_the_name(tmp_path):
    with pytest.raises(ExportError, match=r"tensor input has dtype float64; kiln stores f32 or f16"):
        write_tensors(str(tmp_path / "x.manifest"), {"input": np.zeros((1, 2))})
    assert os.listdir(tmp_path) == []


def test_rejects_bad_name_and_path(tmp_path):
    with pytest.raises(ExportError, match=r"tensor name 'bad name' is not"):
        write_tensors(str(tmp_path / "x.manifest"), {"bad name": np.zeros(2, np.float32)})
    with pytest.raises(ExportError, match=r"must end in \.manifest"):
        write_tensors(str(tmp_path / "x.bin"), {"a": np.zeros(2, np.float32)})
    with pytest.raises(ExportError, match=r"could not write .*missing.*x\.bin"):
        write_tensors(str(tmp_path / "missing" / "x.manifest"), {"a": np.zeros(2, np.float32)})
