"""The reference models: their size matches the anchors, and each exports and runs like PyTorch."""
import pytest
import torch
from torch import nn

import kiln_ref
from conftest import randomize_batchnorm
from kiln_export import export, zoo


def conv_flops(model, shape):
    """2 x multiply-adds of every Conv2d / ConvTranspose2d for one forward pass of `shape`."""
    total = [0]

    def hook(m, inputs, out):
        if isinstance(m, nn.Conv2d):
            total[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.ConvTranspose2d):
            total[0] += 2 * inputs[0].numel() * (m.out_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.eval()(torch.zeros(*shape))
    for h in handles:
        h.remove()
    return total[0]


def test_sizes_match_the_anchors():
    # Every layer's work scales with the image area, so a small input times the area ratio is exact.
    assert round(conv_flops(zoo.autoencoder(), (1, 3, 64, 64)) * 64 / 1e9, 1) == 33.2  # 3x512x512
    assert round(conv_flops(zoo.unet(), (1, 3, 64, 64)) * 16 / 1e9, 1) == 18.4  # 3x256x256


def test_autoencoder_structure():
    model = zoo.autoencoder()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    ups = [m for m in model.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64, 128, 128, 256, 256, 128, 64, 32, 16, 3]
    assert [(u.in_channels, u.out_channels, u.kernel_size, u.stride) for u in ups] == [
        (256, 128, (2, 2), (2, 2)), (128, 64, (2, 2), (2, 2)), (64, 32, (2, 2), (2, 2)), (32, 16, (2, 2), (2, 2))]
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 4
    assert isinstance(model.head[1], nn.Sigmoid)
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)


@pytest.mark.parametrize("name,shape,layers", [
    ("autoencoder", (1, 3, 32, 32), True),
    ("unet", (2, 3, 32, 32), True),
    ("resnet18", (1, 3, 64, 64), True),
    ("resnet50", (1, 3, 32, 32), False),
])
def test_zoo_model_exports_and_matches(name, shape, layers, tmp_path):
    torch.manual_seed(0)
    model = randomize_batchnorm(zoo.MODELS[name]())
    export(model, torch.randn(*shape), tmp_path / name, golden_layers=layers)
    m = kiln_ref.check_against_golden(str(tmp_path / name), tol=1e-5)
    ops = [layer["op"] for layer in m["layers"]]
    assert "batch_norm" not in ops, "every BatchNorm of the zoo follows a conv and must be folded"
    if name == "unet":
        assert ops.count("concat") == 3 and ops.count("conv_transpose2d") == 3 and ops[-1] == "sigmoid"
    if name.startswith("resnet"):
        assert ops.count("add") == (8 if name == "resnet18" else 16) and ops[-1] == "linear"
