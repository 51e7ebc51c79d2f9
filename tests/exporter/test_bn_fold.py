"""BatchNorm folding: folded weights reproduce conv + BatchNorm, and BN is kept where folding is wrong."""
import numpy as np
import pytest
import torch
from torch import nn

import kiln_ref
from conftest import randomize_batchnorm
from kiln_export import ExportError, export, read_tensors
from kiln_export.graph import Layer
from kiln_export.ops_modules import bn_scale_shift, fold_bn


@pytest.mark.parametrize("groups,bias", [(1, True), (2, False), (4, True)])
def test_folded_conv_reproduces_conv_bn(groups, bias, randn):
    conv = nn.Conv2d(8, 12, 3, padding=1, groups=groups, bias=bias)
    bn = randomize_batchnorm(nn.BatchNorm2d(12)).eval()
    layer = Layer("c", "conv2d", [], {"groups": groups}, {"weight": conv.weight, "bias": conv.bias}, None)
    fold_bn(layer, *bn_scale_shift(bn))
    x = randn(2, 8, 7, 9)
    with torch.no_grad():
        want = bn(conv(x))
        got = nn.functional.conv2d(x, layer.weights["weight"], layer.weights["bias"], padding=1, groups=groups)
    assert (got - want).abs().max().item() < 1e-5


@pytest.mark.parametrize("groups", [1, 3])
def test_folded_conv_transpose_reproduces_conv_transpose_bn(groups, randn):
    convt = nn.ConvTranspose2d(6, 9, 3, stride=2, padding=1, output_padding=1, groups=groups)
    bn = randomize_batchnorm(nn.BatchNorm2d(9), seed=3).eval()
    layer = Layer("t", "conv_transpose2d", [], {"groups": groups}, {"weight": convt.weight, "bias": convt.bias}, None)
    fold_bn(layer, *bn_scale_shift(bn))
    x = randn(1, 6, 5, 4)
    with torch.no_grad():
        want = bn(convt(x))
        got = nn.functional.conv_transpose2d(x, layer.weights["weight"], layer.weights["bias"], stride=2,
                                             padding=1, output_padding=1, groups=groups)
    assert (got - want).abs().max().item() < 1e-5


def test_export_folds_bn_and_golden_layer_is_bn_output(tmp_path, randn):
    model = randomize_batchnorm(nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 4, 2, stride=2, groups=2), nn.BatchNorm2d(4, affine=False)))
    x = randn(1, 3, 6, 6)
    export(model, x, tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [layer["op"] for layer in m["layers"]] == ["conv2d", "relu", "conv_transpose2d"]
    assert m["layers"][0]["weights"] == {"weight": "0.weight", "bias": "0.bias"}  # bias created by folding
    layers = read_tensors(str(tmp_path / "m" / "golden" / "layers.manifest"))
    with torch.no_grad():
        np.testing.assert_allclose(layers["0"], model[1](model[0](x)).numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(layers["3"], model(x).numpy(), rtol=1e-5, atol=1e-5)
    assert m["outputs"] == ["3"]


def test_bn_not_folded_when_conv_output_is_read_elsewhere(tmp_path, randn):
    class Branch(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x):
            y = self.conv(x)
            return self.bn(y) + y

    model = randomize_batchnorm(Branch())
    export(model, randn(1, 3, 5, 5), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [layer["op"] for layer in m["layers"]] == ["conv2d", "batch_norm", "add"]
    assert m["layers"][1]["weights"] == {"scale": "bn.scale", "shift": "bn.shift"}


def test_bn_not_folded_across_inplace_relu(tmp_path, randn):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x):
            y = self.conv(x)
            torch.relu_(y)
            return self.bn(y)

    export(randomize_batchnorm(M()), randn(1, 3, 5, 5), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [layer["op"] for layer in m["layers"]] == ["conv2d", "relu", "batch_norm"]


def test_bn_without_running_stats_is_rejected(tmp_path, randn):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False))
    with pytest.raises(ExportError, match=r"module `1` \(torch.nn.BatchNorm2d\): track_running_stats=False"):
        export(model, randn(2, 3, 5, 5), tmp_path / "m")
    assert not (tmp_path / "m").exists()
