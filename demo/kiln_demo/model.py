"""The demo's autoencoder: conv/ReLU/max-pool encoder, transposed-convolution decoder, sigmoid output.

Every op is one kiln supports (conv2d, relu, max_pool2d, conv_transpose2d, sigmoid); each BatchNorm
follows a conv, so kiln_export folds it into that conv's weights and bias. BatchNorm is there because
it lets a few hundred CPU steps reach a recognisable reconstruction. The module tree gives kiln readable
layer names (enc.0, enc.2, ..., dec.0, ..., head.0, head.1).
"""
import torch
from torch import nn

# Channel widths of the encoder's levels, each followed by a 2x2 max-pool: an input side must be a
# multiple of 2 ** len(WIDTHS) = 8. The 64-channel code at 1/8 of the side is 1/3 of the input's size;
# a fourth level (1/16) made the reconstructions of a short CPU training a blur.
WIDTHS = (16, 32, 64)


class Autoencoder(nn.Module):
    """[N, 3, H, W] in [0, 1] -> [N, 3, H, W] in (0, 1); H and W multiples of 2 ** len(widths)."""

    def __init__(self, widths=WIDTHS):
        super().__init__()
        self.widths = tuple(widths)
        enc, c = [], 3
        for w in self.widths:
            enc += [nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        dec = []
        for w in list(self.widths[-2::-1]) + [self.widths[0]]:
            # A 2x2 stride-2 transposed conv doubles the size without overlapping kernels (no checkerboard);
            # the 3x3 conv after it blends neighbouring blocks.
            dec += [nn.ConvTranspose2d(c, w, 2, stride=2), nn.BatchNorm2d(w), nn.ReLU(),
                    nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        self.enc = nn.Sequential(*enc)
        self.dec = nn.Sequential(*dec)
        self.head = nn.Sequential(nn.Conv2d(c, 3, 3, padding=1), nn.Sigmoid())

    @property
    def size_multiple(self):
        return 2 ** len(self.widths)

    def forward(self, x):
        return self.head(self.dec(self.enc(x)))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def flops_per_image(model, height, width):
    """2 x the multiply-adds of the convolutions for one height x width image (for the report)."""
    total, hooks = 0, []

    def count(module, inputs, output):
        nonlocal total
        k = module.weight.shape[2] * module.weight.shape[3] // module.groups
        if isinstance(module, nn.ConvTranspose2d):  # each input element meets out_channels x k weights
            total += 2 * inputs[0][0].numel() * module.out_channels * k
        else:  # each output element meets in_channels x k weights
            total += 2 * output[0].numel() * module.in_channels * k
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            hooks.append(m.register_forward_hook(count))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, height, width, device=next(model.parameters()).device))
    for h in hooks:
        h.remove()
    model.train(was_training)
    return total
