"""A small convolutional net using every activation kiln added for the standard CNN families (ReLU6,
Hardtanh, Hardswish, Hardsigmoid, SiLU, GELU in both forms, PReLU shared and per channel, Softplus,
Mish), in module and functional form, for the end-to-end CPU comparison (tests/e2e/CMakeLists.txt).
Its convolutions have large weights so the activations see inputs across their kinks and thresholds."""
import torch
import torch.nn.functional as F
from torch import nn


def _wide(cin, cout, gain):
    conv = nn.Conv2d(cin, cout, 3, padding=1)
    with torch.no_grad():
        conv.weight.mul_(gain)
        conv.bias.uniform_(-gain / 2, gain / 2)
    return conv


class ActivationsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = _wide(5, 8, 4.0)
        self.relu6 = nn.ReLU6(inplace=True)
        self.c1 = _wide(8, 7, 2.0)
        self.hardswish = nn.Hardswish()
        self.c2 = _wide(7, 6, 1.5)
        self.hardtanh = nn.Hardtanh(-2.0, 2.5)
        self.c3 = _wide(6, 6, 1.5)
        self.prelu = nn.PReLU(6)
        self.prelu_shared = nn.PReLU()
        self.c4 = _wide(6, 5, 2.0)
        self.silu = nn.SiLU()
        self.gelu = nn.GELU()
        self.c5 = _wide(5, 4, 0.6)
        self.softplus = nn.Softplus(beta=2.0, threshold=3.0)
        self.mish = nn.Mish()
        self.slope = nn.Parameter(torch.rand(4) - 0.5)
        self.head = nn.Conv2d(4, 3, 1)
        with torch.no_grad():
            self.prelu.weight.uniform_(-0.5, 0.5)

    def forward(self, x):
        y = self.relu6(self.stem(x))
        y = self.hardswish(self.c1(y)) + F.hardsigmoid(self.c1(y))
        y = self.hardtanh(self.c2(y)) + F.relu6(self.c2(y)) + F.hardtanh(self.c2(y), -0.5, 0.5)
        y = self.prelu_shared(self.prelu(self.c3(y)))
        z = self.c4(y)
        y = self.silu(z) + self.gelu(z) + F.gelu(z, approximate="tanh") + F.silu(z)
        z = self.c5(y)
        y = self.softplus(z) + F.softplus(z) + self.mish(z) + F.mish(z) + F.prelu(z, self.slope)
        return self.head(F.hardswish(y))


def build():
    return ActivationsNet()
