"""kiln_ref's part for pooling and upsampling: the ops' attributes and weights (OPS, as in kiln_ref.OPS), a
check of attribute values kiln_ref's generic checks do not know (check_attribute returns True when it
checked one), and the reference run of a layer (run_layer), written from formats/README.md."""
import torch.nn.functional as F

import kiln_ref

OPS = {
    "max_pool2d": ({"kernel_size", "stride", "padding"}, set(), set()),
    "avg_pool2d": ({"kernel_size", "stride", "padding", "count_include_pad"}, set(), set()),
    "global_avg_pool2d": (set(), set(), set()),
    "upsample_nearest": ({"scale"}, set(), set()),
}


def check_attribute(op, key, value):  # noqa: ARG001 - the generic checks cover today's attributes
    return False


def run_layer(op, a, xs, w):  # noqa: ARG001 - no weights
    x = xs[0]
    if op in ("max_pool2d", "avg_pool2d"):
        k = kiln_ref.pair(a["kernel_size"])
        s, p = kiln_ref.pair(a.get("stride", k)), kiln_ref.pair(a.get("padding", 0))
        if op == "max_pool2d":
            return F.max_pool2d(x, k, s, p)
        return F.avg_pool2d(x, k, s, p, count_include_pad=a.get("count_include_pad", True))
    if op == "global_avg_pool2d":
        return x.mean(dim=(2, 3), keepdim=True)
    if op == "upsample_nearest":
        sh, sw = kiln_ref.pair(a.get("scale", 2))
        return x.repeat_interleave(sh, 2).repeat_interleave(sw, 3)
    raise AssertionError("no reference for op " + op)
