"""kiln_ref's part for layer_norm: its attributes and weights (OPS, as in kiln_ref.OPS), the check of eps
(check_attribute returns True when it checked one), and the reference run of a layer (run_layer), written
from formats/README.md: normalise the channels (dim 1) of a 2-D or 4-D tensor at every position, in
float64 with two passes, then scale and shift by the optional weight and bias."""
import math

import torch

OPS = {"layer_norm": ({"eps"}, set(), {"weight", "bias"})}


def check_attribute(op, key, value):
    if op not in OPS:
        return False
    assert key == "eps" and isinstance(value, float) and math.isfinite(value) and value > 0, (op, key, value)
    return True


def run_layer(op, a, xs, w):
    assert op == "layer_norm" and len(xs) == 1
    x = xs[0]
    assert x.dim() in (2, 4), x.shape
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.dim() - 2)
    d = x.double()
    mean = d.mean(1, keepdim=True)
    var = ((d - mean) ** 2).mean(1, keepdim=True)
    y = (d - mean) / torch.sqrt(var + a.get("eps", 1e-5))
    if "weight" in w:
        assert list(w["weight"].shape) == [c]
        y = y * w["weight"].double().view(shape)
    if "bias" in w:
        assert list(w["bias"].shape) == [c]
        y = y + w["bias"].double().view(shape)
    return y.float()
