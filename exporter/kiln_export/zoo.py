"""Reference models of /work/shared/anchors.md section 1, as functions returning an nn.Module.

Weights are PyTorch's default random initialisation (seed torch before calling for reproducible ones).
The autoencoder and U-Net layouts reproduce the anchors' FLOP counts exactly: 33.2 GFLOP per 3x512x512
image and 18.4 GFLOP per 3x256x256 image (2 x multiply-adds of the convolutions).
"""
import torch
from torch import nn


def _conv_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]


def autoencoder():
    """Encoder: 4 stages of [conv3x3+ReLU, conv3x3+ReLU, maxpool2], widths 32, 64, 128, 256.
    Decoder: 4 stages of [ConvTranspose2d k2 s2 + ReLU, conv3x3+ReLU], 256 -> 128 -> 64 -> 32 -> 16.
    Head: conv3x3 -> 3 channels + Sigmoid. Input 3xHxW with H, W multiples of 16; output the same shape."""
    enc, cin = [], 3
    for width in (32, 64, 128, 256):
        enc += _conv_relu(cin, width) + _conv_relu(width, width) + [nn.MaxPool2d(2)]
        cin = width
    dec = []
    for width in (128, 64, 32, 16):
        dec += [nn.ConvTranspose2d(cin, width, 2, stride=2), nn.ReLU(inplace=True)] + _conv_relu(width, width)
        cin = width
    model = nn.Sequential()
    model.add_module("enc", nn.Sequential(*enc))
    model.add_module("dec", nn.Sequential(*dec))
    model.add_module("head", nn.Sequential(nn.Conv2d(16, 3, 3, padding=1), nn.Sigmoid()))
    return model


def _double_conv(cin, cout):
    """[conv3x3 - BatchNorm - ReLU] x 2; the convs have no bias since BatchNorm follows."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Three levels (32, 64, 128) of double conv, each followed by a 2x2 max pool, a 256-wide bottleneck,
    then per level a ConvTranspose2d (k2 s2) up, a channel concat with the skip and a double conv;
    a 1x1 head to `out_channels` and a sigmoid. H and W must be multiples of 8."""

    def __init__(self, in_channels=3, out_channels=1, widths=(32, 64, 128)):
        super().__init__()
        self.down = nn.ModuleList()
        cin = in_channels
        for w in widths:
            self.down.append(_double_conv(cin, w))
            cin = w
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = _double_conv(cin, 2 * cin)
        cin = 2 * cin
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for w in reversed(widths):
            self.up.append(nn.ConvTranspose2d(cin, w, 2, stride=2))
            self.dec.append(_double_conv(2 * w, w))
            cin = w
        self.head = nn.Conv2d(cin, out_channels, 1)

    def forward(self, x):
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        return torch.sigmoid(self.head(x))


def unet():
    return UNet()


def _torchvision(name, segmentation=False):
    """torchvision's model `name` with random weights, never downloading (segmentation models' backbones
    too). Imported here: only these models need torchvision."""
    import torchvision.models as models
    import torchvision.models.segmentation as seg

    factory = getattr(seg if segmentation else models, name)
    kwargs = {"weights_backbone": None} if segmentation else {}
    try:
        return factory(weights=None, **kwargs)  # torchvision >= 0.13
    except TypeError:
        return factory(pretrained=False, **({"pretrained_backbone": False} if segmentation else {}))


def resnet18():
    """torchvision's resnet18 with random weights (input 3x224x224 in the anchors)."""
    return _torchvision("resnet18")


def resnet50():
    """torchvision's resnet50 with random weights (input 3x224x224 in the anchors)."""
    return _torchvision("resnet50")


MODELS = {"autoencoder": autoencoder, "unet": unet, "resnet18": resnet18, "resnet50": resnet50}


def _named(name, segmentation=False):
    def build():
        return _torchvision(name, segmentation)
    build.__name__ = name
    build.__doc__ = "torchvision's %s with random weights (eval mode is set by export)." % name
    return build


# torchvision's standard CNN families (issue: real models), for `--model kiln_export.zoo:<name>`, the
# model-zoo tests and the benchmarks. Inputs 3x224x224 (any size from 64x64 works for these).
TORCHVISION = {name: _named(name) for name in (
    "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x1_0", "densenet121",
    "convnext_tiny")}
TORCHVISION.update({name: _named(name, segmentation=True) for name in ("fcn_resnet50", "deeplabv3_mobilenet_v3_large")})
globals().update(TORCHVISION)


def calibrate_batchnorm(model, example, passes=2):
    """Sets every BatchNorm's running statistics to those of `example` (its cumulative mean and variance
    over `passes` forward passes in train mode), then returns the model in eval mode.

    Why: torchvision's random initialisation shrinks activations layer after layer (its Kaiming fan-out
    init gives depthwise convolutions a std ~sqrt(C) too small), so a fresh mobilenet_v2 ends at logits of
    ~1e-15, below float16's range: a fp16 comparison would test nothing. With calibrated statistics each
    BatchNorm normalises what it really sees, as in a trained network, and every layer's output is of
    order 1. The weights stay PyTorch's random ones."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the passes
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(example)
    return model.eval()
