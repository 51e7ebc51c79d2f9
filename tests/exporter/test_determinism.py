"""Exporting the same model twice gives byte-identical folders; re-exporting replaces a previous export."""
import os

import torch

from conftest import randomize_batchnorm
from kiln_export import export, read_tensors, zoo


def _files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            path = os.path.join(dirpath, n)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def _unet():
    torch.manual_seed(7)
    return randomize_batchnorm(zoo.unet())


def test_two_exports_are_byte_identical(tmp_path):
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    for dtype in ("f32", "f16"):
        export(_unet(), x, tmp_path / ("a" + dtype), weight_dtype=dtype, golden_layers=True)
        export(_unet(), x, tmp_path / ("b" + dtype), weight_dtype=dtype, golden_layers=True)
        a, b = _files(tmp_path / ("a" + dtype)), _files(tmp_path / ("b" + dtype))
        assert sorted(a) == sorted(["model.yaml", "weights.manifest", "weights.bin"] + [
            os.path.join("golden", s + e) for s in ("inputs", "outputs", "layers") for e in (".manifest", ".bin")])
        for name in a:
            assert a[name] == b[name], name


def test_f16_weights_are_rounded_f32_weights(tmp_path):
    x = torch.randn(1, 3, 8, 8)
    export(_unet(), x, tmp_path / "f32")
    export(_unet(), x, tmp_path / "f16", weight_dtype="f16")
    w32 = read_tensors(str(tmp_path / "f32" / "weights.manifest"))
    w16 = read_tensors(str(tmp_path / "f16" / "weights.manifest"))
    assert list(w32) == list(w16)
    for name in w32:
        assert w16[name].dtype.name == "float16"
        assert (w16[name] == w32[name].astype("float16")).all(), name
    # Golden tensors stay f32 whatever the weight dtype.
    assert read_tensors(str(tmp_path / "f16" / "golden" / "outputs.manifest"))["sigmoid"].dtype.name == "float32"


def test_reexport_replaces_previous_export(tmp_path):
    x = torch.randn(1, 3, 8, 8)
    export(_unet(), x, tmp_path / "m", golden_layers=True)
    export(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1)), x, tmp_path / "m")
    assert sorted(os.listdir(tmp_path / "m")) == ["golden", "model.yaml", "weights.bin", "weights.manifest"]
    assert not (tmp_path / "m" / "golden" / "layers.manifest").exists()
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no temporary folders left behind
