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


def test_stochastic_depth_is_the_identity_in_eval(tmp_path):
    torchvision = pytest.importorskip("torchvision")

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.drop = torchvision.ops.StochasticDepth(0.3, "row")

        def forward(self, x):
            return x + self.drop(self.conv(x))

    torch.manual_seed(0)
    result = export(Residual(), torch.randn(2, 4, 6, 6), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [layer["op"] for layer in m["layers"]] == ["conv2d", "add"] and result.outputs == ["add"]


def test_torchvision_models_are_built_without_downloading():
    pytest.importorskip("torchvision")
    assert sorted(zoo.TORCHVISION) == sorted([
        "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x1_0",
        "densenet121", "convnext_tiny", "fcn_resnet50", "deeplabv3_mobilenet_v3_large"])
    model = zoo.TORCHVISION["fcn_resnet50"]()
    assert model.aux_classifier is None and isinstance(model.backbone.conv1, nn.Conv2d)


def test_calibrated_batchnorm_keeps_activations_of_order_one():
    pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = zoo.TORCHVISION["mobilenet_v2"]()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        raw = model.eval()(x).abs().max().item()
        calibrated = zoo.calibrate_batchnorm(model, torch.randn(2, 3, 64, 64))(x).abs().max().item()
    assert not model.training
    assert raw < 1e-6 < 1e-2 < calibrated < 1e3
