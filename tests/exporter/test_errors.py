"""Unsupported ops and bad arguments raise ExportError naming the module/node and the op, and write nothing."""
import os
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from kiln_export import ExportError, export
from test_ops import Fn, conv


class Block(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.conv = conv()
        self.act = act

    def forward(self, x):
        return self.act(self.conv(x))


class Net(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.block = Block(act)

    def forward(self, x):
        return self.block(x)


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = conv()

    def forward(self, x):
        return torch.floor_divide(self.conv(x), 2.0)


class ScaledNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Scaled()

    def forward(self, x):
        return self.body(x)


def _fails(model, shape, pattern, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ExportError) as info:
        export(model, torch.randn(*shape), out)
    assert re.search(pattern, str(info.value)), str(info.value)
    assert not out.exists(), "a failed export must write nothing"
    assert os.listdir(tmp_path) == [], "no temporary folder may be left behind"
    return str(info.value)


def test_unsupported_module_names_its_path_and_type(tmp_path):
    msg = _fails(Net(nn.Softsign()), (1, 3, 6, 6), r"^module `block\.act` \(torch\.nn\.Softsign\) at .*test_errors\.py:"
                 r"\d+: module type torch\.nn\.Softsign is not supported by kiln \(supported: .*Conv2d", tmp_path)
    assert "LocalResponseNorm" in msg


def test_unsupported_function_names_function_module_and_line(tmp_path):
    msg = _fails(ScaledNet(), (1, 3, 6, 6), r"^`torch\.floor_divide` \(node `floor_divide`, in module `body`\) at "
                 r".*test_errors\.py:\d+: this function is not supported", tmp_path)
    line = int(re.search(r"test_errors\.py:(\d+)", msg).group(1))
    with open(__file__) as f:
        assert "torch.floor_divide(self.conv(x), 2.0)" in f.read().splitlines()[line - 1]


def test_unsupported_method(tmp_path):
    _fails(Fn(lambda s, x: s.c(x).permute(0, 1, 3, 2), c=conv()), (1, 3, 4, 4),
           r"method `Tensor\.permute` \(node `permute`\).*this method is not supported", tmp_path)


@pytest.mark.parametrize("model,shape,pattern", [
    (nn.MaxPool2d(2, return_indices=True), (1, 3, 4, 4), r"return_indices=True is not supported"),
    (nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (1, 3, 5, 5), r"padding_mode='reflect' is not supported"),
    (nn.Conv2d(3, 4, 4, padding="same"), (1, 3, 6, 6), r"padding='same' with kernel \[4, 4\].*pads one side more"),
    (nn.Upsample(scale_factor=2, mode="bicubic"), (1, 3, 4, 4), r"upsampling mode 'bicubic' is not supported"),
    (nn.Softmax(dim=2), (1, 3, 4, 4), r"softmax over dim 2 is not supported"),
    (nn.Linear(4, 2), (1, 3, 4, 4), r"module `0` \(torch\.nn\.Linear\): kiln's linear takes a 2-D input"),
    (nn.Flatten(2), (1, 3, 4, 4), r"reshape from \[1, 3, 4, 4\] to \[1, 3, 16\] is not supported"),
])
def test_unsupported_module_settings(model, shape, pattern, tmp_path):
    _fails(nn.Sequential(model), shape, pattern, tmp_path)


TORCH_REFUSES_BOUNDS = r"^the model fails on inputs of shape .*min_val cannot be greater than max_val"


@pytest.mark.parametrize("fn,pattern", [
    (lambda s, x: s.c(x) * s.c.bias, r"`operator\.mul` \(node `mul`\).*a parameter of shape \[4\] against the "
     r"tensor of shape \[1, 4, 4, 4\] is not supported"),
    (lambda s, x: s.c(x) + s.c(x)[:, :, :1], r"operator\.getitem"),
    (lambda s, x: s.c(x) + s.c(x).mean(1, keepdim=True), r"Tensor\.mean"),
    (lambda s, x: torch.add(s.c(x), s.c(x), alpha=2), r"alpha other than 1 is not supported"),
    (lambda s, x: F.dropout(s.c(x), 0.5), r"dropout with training=True drops activations at inference too"),
    (lambda s, x: torch.cat([s.c(x), s.c(x)], dim=2), r"concatenation along dim 2 is not supported"),
    (lambda s, x: s.c(x).view(1, 2, -1), r"reshape from \[1, 4, 4, 4\] to \[1, 2, 32\] is not supported"),
    (lambda s, x: F.softmax(s.c(x), dim=-1), r"softmax over dim 3 is not supported"),
    (lambda s, x: s.c(x) + s.c(x).sum(), r"torch\.Tensor\.sum|Tensor\.sum"),
    # Newer PyTorch (2.x) refuses these bounds itself, before the exporter sees the node.
    (lambda s, x: F.hardtanh(s.c(x), 2.0, 1.0), r"^`torch\.nn\.functional\.hardtanh` \(node `hardtanh`\) at .*: min_val "
     r"2\.0 is greater than max_val 1\.0; kiln's hardtanh needs min_val <= max_val|" + TORCH_REFUSES_BOUNDS),
    (lambda s, x: F.hardtanh_(s.c(x), 0.5, -0.5),
     r"`torch\.nn\.functional\.hardtanh_` .*min_val 0\.5 is greater|" + TORCH_REFUSES_BOUNDS),
    (lambda s, x: F.softplus(s.c(x), beta=0), r"^`torch\.nn\.functional\.softplus` \(node `softplus`\) at .*: beta=0\.0 "
     r"is not supported; kiln's softplus needs beta > 0"),
    (lambda s, x: F.softplus(s.c(x), -1.0, 20), r"beta=-1\.0 is not supported"),
])
def test_unsupported_functional_forms(fn, pattern, tmp_path):
    _fails(Fn(fn, c=conv()), (1, 3, 4, 4), pattern, tmp_path)


def test_data_dependent_control_flow(tmp_path):
    def fn(s, x):
        y = s.c(x)
        return y if y.sum() > 0 else -y
    _fails(Fn(fn, c=conv()), (1, 3, 4, 4), r"^torch\.fx could not trace Fn: ", tmp_path)


def test_returning_the_input_or_a_constant(tmp_path):
    _fails(Fn(lambda s, x: (s.c(x), x), c=conv()), (1, 3, 4, 4), r"model output `x` is the model input itself",
           tmp_path)
    _fails(Fn(lambda s, x: (s.c(x), 3), c=conv()), (1, 3, 4, 4),
           r"kiln models return a tensor, or a tuple, list or dict of tensors", tmp_path)
    _fails(Fn(lambda s, x: {"y": x}, c=conv()), (1, 3, 4, 4), r"model output `x` is the model input itself", tmp_path)


def test_f16_overflow_and_nan_weights(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 2, 1))
    with torch.no_grad():
        model[0].weight[0, 0, 0, 0] = 1e6
    export(model, torch.randn(1, 3, 2, 2), tmp_path / "ok")  # f32 holds it
    with pytest.raises(ExportError, match=r"weight 0\.weight holds 1e\+06, beyond float16's range"):
        export(model, torch.randn(1, 3, 2, 2), tmp_path / "f16", weight_dtype="f16")
    with torch.no_grad():
        model[0].bias[1] = float("nan")
    with pytest.raises(ExportError, match=r"weight 0\.bias holds NaN or infinite values"):
        export(model, torch.randn(1, 3, 2, 2), tmp_path / "nan")
    assert sorted(os.listdir(tmp_path)) == ["ok"]


def test_bad_arguments(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 2, 1))
    with pytest.raises(ExportError, match=r"weight_dtype must be 'f32' or 'f16', found 'bf16'"):
        export(model, torch.randn(1, 3, 2, 2), tmp_path / "m", weight_dtype="bf16")
    with pytest.raises(ExportError, match=r"example input 0 is torch\.float64; kiln inputs are float32"):
        export(model, torch.randn(1, 3, 2, 2, dtype=torch.float64), tmp_path / "m")
    with pytest.raises(ExportError, match=r"the model fails on inputs of shape \[\[1, 4, 2, 2\]\]: RuntimeError"):
        export(model, torch.randn(1, 4, 2, 2), tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_foreign_output_folder_is_left_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match=r"output folder .*out exists and holds files other than a kiln export's"):
        export(nn.Sequential(nn.Conv2d(3, 2, 1)), torch.randn(1, 3, 2, 2), out)
    assert os.listdir(out) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    export(nn.Sequential(nn.Conv2d(3, 2, 1)), torch.randn(1, 3, 2, 2), empty)
    assert (empty / "model.yaml").exists()
