"""kiln_ref's part for pooling and upsampling: the ops' attributes and weights (OPS, as in kiln_ref.OPS), a
check of attribute values kiln_ref's generic checks do not know (check_attribute returns True when it
checked one), and the reference run of a layer (run_layer), written from formats/README.md."""
import math

import torch.nn.functional as F

import kiln_ref

MAX_SIZE = 1 << 20
OPS = {
    "max_pool2d": ({"kernel_size", "stride", "padding", "dilation", "ceil_mode"}, set(), set()),
    "avg_pool2d": ({"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"},
                   set(), set()),
    "global_avg_pool2d": (set(), set(), set()),
    "global_max_pool2d": (set(), set(), set()),
    "adaptive_avg_pool2d": ({"output_size"}, set(), set()),
    "adaptive_max_pool2d": ({"output_size"}, set(), set()),
    "upsample_nearest": ({"scale", "size", "mode", "scale_factor"}, set(), set()),
    "upsample_bilinear": ({"scale", "size", "align_corners", "scale_factor"}, set(), set()),
}


def _sizes(v):
    return isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and
                                                       1 <= x <= MAX_SIZE for x in v)


def check_attribute(op, key, value):
    if op not in OPS:
        return False
    if key in ("ceil_mode", "align_corners"):
        assert isinstance(value, bool), (op, key, value)
    elif key == "divisor_override":
        assert isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2 ** 31, (op, key, value)
    elif key in ("output_size", "size"):
        assert _sizes(value) or (isinstance(value, int) and _sizes([value, value])), (op, key, value)
    elif key == "mode":
        assert value in ("nearest", "nearest-exact"), (op, key, value)
    elif key == "scale_factor":
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (op, key, value)
    else:
        return False
    return True


def _upsample(op, a, x, like=None):
    # A second input gives only its height and width (interpolate(x, size=like.shape[-2:])); bilinear's
    # `scale` multiplies the input's.
    assert sum([like is not None, "size" in a, "scale" in a]) == 1, a
    if like is not None:
        size = [int(d) for d in like.shape[2:]]
    elif "scale" in a:
        assert op == "upsample_bilinear" and "scale_factor" not in a
        size = [int(d) * s for d, s in zip(x.shape[2:], kiln_ref.pair(a["scale"]))]
    else:
        size = kiln_ref.pair(a["size"])
    mode = "bilinear" if op == "upsample_bilinear" else a.get("mode", "nearest")
    corners = a.get("align_corners", False) if op == "upsample_bilinear" else None
    assert op == "upsample_bilinear" or "align_corners" not in a
    if "scale_factor" in a:
        # The spec: the source positions use 1/scale_factor, and size is floor(in * scale_factor).
        assert not corners
        sf = a["scale_factor"]
        assert size == [math.floor(float(d) * sf) for d in x.shape[2:]], (size, sf, list(x.shape))
        y = F.interpolate(x, scale_factor=sf, mode=mode, align_corners=corners, recompute_scale_factor=False)
    else:
        y = F.interpolate(x, size=size, mode=mode, align_corners=corners)
    assert list(y.shape[2:]) == size
    return y


def run_layer(op, a, xs, w):  # noqa: ARG001 - no weights
    x = xs[0]
    assert x.dim() == 4
    if op in ("max_pool2d", "avg_pool2d"):
        k = kiln_ref.pair(a["kernel_size"])
        s, p = kiln_ref.pair(a.get("stride", k)), kiln_ref.pair(a.get("padding", 0))
        assert all(2 * pi <= ki for pi, ki in zip(p, k))
        ceil = a.get("ceil_mode", False)
        if op == "max_pool2d":
            return F.max_pool2d(x, k, s, p, kiln_ref.pair(a.get("dilation", 1)), ceil_mode=ceil)
        return F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=a.get("count_include_pad", True),
                            divisor_override=a.get("divisor_override"))
    if op == "global_avg_pool2d":
        return x.mean(dim=(2, 3), keepdim=True)
    if op == "global_max_pool2d":
        return x.amax(dim=(2, 3), keepdim=True)
    if op == "adaptive_avg_pool2d":
        return F.adaptive_avg_pool2d(x, kiln_ref.pair(a["output_size"]))
    if op == "adaptive_max_pool2d":
        return F.adaptive_max_pool2d(x, kiln_ref.pair(a["output_size"]))
    if op == "upsample_nearest" and "size" not in a and len(xs) == 1:
        assert "mode" not in a and "scale_factor" not in a
        sh, sw = kiln_ref.pair(a.get("scale", 2))
        return x.repeat_interleave(sh, 2).repeat_interleave(sw, 3)
    if op in ("upsample_nearest", "upsample_bilinear"):
        assert "scale" not in a or op == "upsample_bilinear"
        return _upsample(op, a, x, xs[1] if len(xs) == 2 else None)
    raise AssertionError("no reference for op " + op)
