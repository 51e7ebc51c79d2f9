"""--dynamic-hw: the range written to model.yaml, the second-size trace that refuses a graph depending on
its input size (kiln_export/dynamic.py, Note [size-agnostic graphs]), and every bad range or input."""
import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from kiln_export import ExportError, export
from kiln_export.cli import main
from kiln_export.dynamic import parse_range, second_hw


class Agnostic(nn.Module):
    """Convolutions, pooling, scale-factor upsampling, a skip concat and a global-pool head: any size."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        a = torch.relu(self.a(x))
        b = F.interpolate(self.b(F.max_pool2d(a, 2)), scale_factor=2, mode="nearest")
        y = torch.cat([a, b], dim=1)
        return y, self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class FlattenToLinear(nn.Module):
    """view(N, -1) of a feature map into a Linear: its in_features fix the size."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 16 * 16, 4)

    def forward(self, x):
        return self.fc(self.conv(x).view(x.size(0), -1))


class SizeFromAnotherTensor(nn.Module):
    """interpolate(size=<a tensor's shape>): traced as a constant size, right at the example size only."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, stride=2, padding=1)

    def forward(self, x):
        return F.interpolate(self.conv(x), size=(x.shape[2] + 2, x.shape[3] + 2), mode="nearest")


def yaml_of(folder):
    with open(os.path.join(folder, "model.yaml")) as f:
        return f.read()


def test_a_size_agnostic_model_records_the_range(tmp_path, randn):
    out = tmp_path / "m"
    export(Agnostic().eval(), randn(1, 3, 32, 48), out, dynamic_hw=((16, 16), (512, 768)))
    text = yaml_of(out)
    assert "shape: [1, 3, 32, 48], dtype: f32, min_hw: [16, 16], max_hw: [512, 768]}" in text


def test_without_the_option_the_size_stays_fixed(tmp_path, randn):
    export(Agnostic().eval(), randn(1, 3, 32, 48), tmp_path / "m")
    assert "min_hw" not in yaml_of(tmp_path / "m")


def test_a_flatten_into_a_linear_is_refused_at_the_second_size(tmp_path, randn):
    with pytest.raises(ExportError) as e:
        export(FlattenToLinear().eval(), randn(1, 3, 16, 16), tmp_path / "m", dynamic_hw=((8, 8), (64, 64)))
    assert "--dynamic-hw: at 32x32, a size inside the range" in str(e.value)
    assert "the model fails" in str(e.value)
    assert not (tmp_path / "m").exists()


def test_a_size_folded_into_a_constant_names_the_layer_and_both_values(tmp_path, randn):
    with pytest.raises(ExportError) as e:
        export(SizeFromAnotherTensor().eval(), randn(1, 3, 16, 16), tmp_path / "m", dynamic_hw=((8, 8), (64, 64)))
    msg = str(e.value)
    assert "the traced graph depends on the input size" in msg
    assert "layer interpolate" in msg
    assert "size: [18, 18]" in msg and "size: [34, 34]" in msg
    assert "at 16x16" in msg and "at 32x32" in msg


@pytest.mark.parametrize("text, problem", [
    ("16x16", "expected MIN_HxMIN_W:MAX_HxMAX_W"),
    ("16x16:8x8", "the minimum 16x16 exceeds the maximum 8x8"),
    ("0x16:64x64", "every size must be 1 .. 65536, found 0"),
    ("16x16:70000x64", "found 70000"),
])
def test_bad_ranges_are_refused(text, problem):
    with pytest.raises(ExportError, match=problem):
        parse_range(text)


def test_the_example_must_lie_in_the_range_on_a_4d_input_of_one_size(tmp_path, randn):
    with pytest.raises(ExportError, match="the example input's size 32x48 lies outside the range 64x64:128x128"):
        export(Agnostic().eval(), randn(1, 3, 32, 48), tmp_path / "a", dynamic_hw=((64, 64), (128, 128)))
    with pytest.raises(ExportError, match="no 4-D"):
        export(nn.Linear(4, 2).eval(), randn(2, 4), tmp_path / "b", dynamic_hw=((1, 1), (8, 8)))


def test_the_second_size_keeps_the_examples_power_of_two_factors():
    assert second_hw((64, 48), ((16, 16), (2048, 2048))) == (96, 64)
    assert second_hw((1080, 1920), ((16, 16), (1080, 1920))) == (1072, 1888)  # above the range: below
    assert second_hw((32, 32), ((32, 32), (32, 32))) == (32, 32)  # a range of one size


def test_the_command_line_takes_the_range(tmp_path, capsys):
    out = tmp_path / "u"
    rc = main(["--model", "kiln_export.zoo:unet", "--input-shape", "1,3,32,32", "--dynamic-hw", "16x16:256x256",
               "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert "min_hw: [16, 16], max_hw: [256, 256]" in yaml_of(out)
    with pytest.raises(SystemExit):
        main(["--model", "kiln_export.zoo:unet", "--input-shape", "1,3,32,32", "--dynamic-hw", "big", "--out",
              str(tmp_path / "v")])
    assert "expected MIN_HxMIN_W:MAX_HxMAX_W" in capsys.readouterr().err


class ResizeToInput(nn.Module):
    """A segmentation head's resize to the image, in the forms torchvision and users write it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=4, padding=1)

    def forward(self, x):
        y = self.conv(x)
        a = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        b = F.interpolate(y, size=(x.shape[2], x.shape[3]), mode="nearest")
        c = F.interpolate(y, size=x.size()[2:], mode="nearest-exact")
        d = F.interpolate(y, size=(x.size(-2), x.size(-1)), mode="bilinear", align_corners=True)
        e = F.interpolate(y, size=(20, 30), mode="bilinear")  # a constant size stays one
        return {"out": a + b + c + d, "fixed": e}


def test_a_resize_to_another_tensors_size_is_recorded_as_that_tensor(tmp_path, randn):
    out = tmp_path / "m"
    export(ResizeToInput().eval(), randn(1, 3, 32, 48), out, dynamic_hw=((16, 16), (256, 256)))
    text = yaml_of(out)
    for name in ("interpolate", "interpolate_1", "interpolate_2", "interpolate_3"):
        entry = text.split("  - name: %s\n" % name)[1].split("  - name:")[0]
        assert "inputs: [conv, x]" in entry and "size:" not in entry, entry
    assert "mode: nearest-exact" in text and "align_corners: true" in text
    fixed = text.split("  - name: fixed\n")[1].split("  - name:")[0]  # named after its output key
    assert "inputs: [conv]" in fixed and "size: [20, 30]" in fixed


def test_segmentation_heads_of_torchvision_export_for_any_size(tmp_path):
    segmentation = pytest.importorskip("torchvision.models.segmentation")
    torch.manual_seed(0)
    model = segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None).eval()
    export(model, torch.randn(1, 3, 64, 64), tmp_path / "d", dynamic_hw=((32, 32), (512, 512)))
    text = yaml_of(tmp_path / "d")
    assert "min_hw: [32, 32], max_hw: [512, 512]" in text
    assert "op: upsample_bilinear\n    inputs: [" in text and ", x]" in text


class SamePadding(nn.Module):
    """Padding computed from the input size (as TF-style "same" padding is): it differs with the size's
    remainder, not with its power-of-two factors."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return F.max_pool2d(self.conv(x), 3, 2, padding=(x.shape[2] % 2, x.shape[3] % 2))


def test_a_constant_that_depends_on_the_sizes_remainder_is_refused(tmp_path, randn):
    with pytest.raises(ExportError, match="the traced graph depends on the input size") as e:
        export(SamePadding().eval(), randn(1, 3, 32, 32), tmp_path / "m", dynamic_hw=((16, 16), (128, 128)))
    assert "at 33x33" in str(e.value)


def test_a_unet_that_cannot_take_odd_sizes_still_exports(tmp_path):
    from kiln_export import zoo
    torch.manual_seed(0)
    export(zoo.unet().eval(), torch.randn(1, 3, 32, 32), tmp_path / "u", dynamic_hw=((16, 16), (128, 128)))
    assert "min_hw: [16, 16]" in yaml_of(tmp_path / "u")
