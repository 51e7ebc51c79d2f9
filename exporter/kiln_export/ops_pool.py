"""Lowering of pooling, spatial reductions (mean/amax over H and W) and upsampling (modules, functions and
Tensor methods) to kiln's pool and upsample ops. FUNCTIONS and METHODS use ops_functions.py's table format,
MODULES maps an nn module's class name to its handler (ops_modules.py).

Every lowering checks that kiln's output shape (formats/README.md) is the one PyTorch computed, so a
difference in PyTorch's size rules fails at export, naming the node, instead of giving wrong tensors."""
import math
import operator

import numpy as np
from torch import fx

from .graph import TENSOR
from .ops_common import REQ, as_int, module_input, need_rank, pair, put_pair, require

X = ("input", REQ)
MAX_SIZE = 1 << 20  # kiln's bound on output_size and size (layers/common.h, kMaxSpatial)
UPSAMPLE_MODES = ("nearest", "nearest-exact", "bilinear")


def _stride(cx, node, stride, kernel):
    return kernel if stride is None or stride == () or stride == [] else pair(cx, node, stride, "stride")


def _pooled(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape, as kiln computes it (layers/pool/pool_window.h)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_shape(cx, node, x, kernel, stride, padding, dilation, ceil_mode):
    shape, out = cx.shape(x), cx.shape(node)
    want = [_pooled(shape[2 + i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(2)]
    require(cx, node, list(out[2:]) == want,
            "PyTorch computed an output of %s, kiln's pooling rules give %s" % (list(out[2:]), want))


def max_pool(cx, node, x, kernel, stride, padding, dilation, ceil_mode, return_indices):
    require(cx, node, not cx.const(node, return_indices, "return_indices"),
            "return_indices=True is not supported (kiln's max_pool2d has one output)")
    ceil_mode = bool(cx.const(node, ceil_mode, "ceil_mode"))
    kernel = pair(cx, node, kernel, "kernel_size")
    stride = _stride(cx, node, cx.const(node, stride, "stride"), kernel)
    padding = pair(cx, node, padding, "padding")
    dilation = pair(cx, node, dilation, "dilation")
    require(cx, node, all(2 * p <= k for p, k in zip(padding, kernel)),
            "padding %s is more than half the kernel %s" % (padding, kernel))
    need_rank(cx, node, x, (4,), "max_pool2d")
    _check_shape(cx, node, x, kernel, stride, padding, dilation, ceil_mode)
    attrs = {"kernel_size": kernel}
    if stride != kernel:
        attrs["stride"] = stride
    put_pair(attrs, "padding", padding, 0)
    put_pair(attrs, "dilation", dilation, 1)
    if ceil_mode:
        attrs["ceil_mode"] = True
    cx.emit(node, "max_pool2d", [x], attrs)


def avg_pool(cx, node, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    ceil_mode = bool(cx.const(node, ceil_mode, "ceil_mode"))
    divisor = cx.const(node, divisor_override, "divisor_override")
    if divisor is not None:
        divisor = as_int(cx, node, divisor, "divisor_override")
        require(cx, node, 1 <= divisor < 2 ** 31,
                "divisor_override=%d is not supported; kiln takes 1 <= divisor_override < 2^31" % divisor)
    kernel = pair(cx, node, kernel, "kernel_size")
    stride = _stride(cx, node, cx.const(node, stride, "stride"), kernel)
    padding = pair(cx, node, padding, "padding")
    need_rank(cx, node, x, (4,), "avg_pool2d")
    _check_shape(cx, node, x, kernel, stride, padding, [1, 1], ceil_mode)
    attrs = {"kernel_size": kernel}
    if stride != kernel:
        attrs["stride"] = stride
    put_pair(attrs, "padding", padding, 0)
    if ceil_mode:
        attrs["ceil_mode"] = True
    if not cx.const(node, count_include_pad, "count_include_pad"):
        attrs["count_include_pad"] = False
    if divisor is not None:
        attrs["divisor_override"] = divisor
    cx.emit(node, "avg_pool2d", [x], attrs)


def adaptive_pool(cx, node, x, kind, return_indices=False):
    """adaptive_{avg,max}_pool2d to any size; output_size (None entries keep the input's) is read from the
    node's shape. Equal sizes are an identity, 1x1 is global_{avg,max}_pool2d."""
    require(cx, node, not cx.const(node, return_indices, "return_indices"),
            "return_indices=True is not supported (kiln's adaptive_max_pool2d has one output)")
    shape = need_rank(cx, node, x, (4,), "adaptive_%s_pool2d" % kind)
    out = cx.shape(node)
    require(cx, node, all(1 <= o <= MAX_SIZE for o in out[2:]),
            "output size %s is not supported; kiln's adaptive pooling takes sizes 1..2^20" % list(out[2:]))
    if tuple(out) == tuple(shape):
        cx.alias(node, x)  # every window is one position: an identity
    elif tuple(out[2:]) == (1, 1):
        cx.emit(node, "global_%s_pool2d" % kind, [x])
    else:
        cx.emit(node, "adaptive_%s_pool2d" % kind, [x], {"output_size": [int(o) for o in out[2:]]})


def reduce_hw(cx, node, x, kind, dim, keepdim, dtype=None):
    """torch.mean / torch.amax over dims (2, 3) of a 4-D tensor: global pooling, then a flatten to [N, C]
    when keepdim is False."""
    shape = need_rank(cx, node, x, (4,), "global_%s_pool2d" % kind)
    require(cx, node, cx.const(node, dtype, "dtype") is None, "dtype= is not supported")
    dim = cx.const(node, dim, "dim")
    dims = list(dim) if isinstance(dim, (list, tuple)) else [dim]
    require(cx, node, dim is not None and len(dims) == 2 and all(isinstance(d, int) for d in dims) and
            sorted(d % 4 for d in dims) == [2, 3],
            "reducing over dim=%r is not supported; kiln reduces a 4-D tensor over its spatial dims (2, 3)"
            % (dim,))
    pooled = cx.emit(node, "global_%s_pool2d" % kind, [x])
    if not cx.const(node, keepdim, "keepdim"):
        require(cx, node, tuple(cx.shape(node)) == (shape[0], shape[1]), "unexpected output shape")
        pooled.golden_shape = (shape[0], shape[1], 1, 1)  # PyTorch computed [N, C]; kiln's layer holds this
        cx.emit(node, "flatten", [node])  # the pooled [N, C, 1, 1] as PyTorch's [N, C]


# --- upsampling -------------------------------------------------------------------------------------

def _nearest_map(mode, n_in, n_out, scale):
    """PyTorch's source index of every output position on one axis, in its float32 arithmetic (its kernel
    for contiguous NCHW tensors, as kiln: layers/upsample/upsample_math.h); `scale` is the float ratio
    (1/scale_factor or in/out)."""
    s = np.float32(scale)
    idx = []
    for d in range(n_out):
        if mode == "nearest":
            src = int(math.floor(np.float32(d) * s))
        else:
            src = int(math.floor(np.float32((d + 0.5) * float(s))))
        idx.append(min(src, n_in - 1))
    return idx


def _float_ratio(n_in, n_out, factor):
    """PyTorch's compute_scales_value: float32 1/scale_factor when one is kept, else in/out."""
    if factor is not None and factor > 0:
        return np.float32(1.0 / factor)
    return np.float32(n_in) / np.float32(n_out)


def _factor_matters(mode, n_in, n_out, factor):
    """True when PyTorch's kept scale_factor picks other source positions than the sizes alone."""
    if factor is None:
        return False
    if mode == "bilinear":
        return n_out != n_in and _float_ratio(n_in, n_out, factor) != _float_ratio(n_in, n_out, None)
    return _nearest_map(mode, n_in, n_out, _float_ratio(n_in, n_out, factor)) != \
        _nearest_map(mode, n_in, n_out, _float_ratio(n_in, n_out, None))


def _factors(cx, node, scale_factor):
    factors = cx.const(node, scale_factor, "scale_factor")
    if factors is None:
        return None
    factors = list(factors) if isinstance(factors, (list, tuple)) else [factors, factors]
    require(cx, node, len(factors) == 2 and all(isinstance(f, (int, float)) and not isinstance(f, bool) and
                                                math.isfinite(f) and f > 0 for f in factors),
            "scale_factor %r is not supported; kiln takes one or two finite factors > 0" % (factors,))
    return [float(f) for f in factors]


def _spatial_of(arg, index):
    """The tensor node t when `arg` is t.shape[index] or t.size(index) (index 2/-2 for the height, 3/-1
    for the width), else None."""
    if not isinstance(arg, fx.Node):
        return None
    if arg.op == "call_function" and arg.target is operator.getitem and len(arg.args) == 2:
        base, i = arg.args
        if i not in index:
            return None
        if isinstance(base, fx.Node) and base.op == "call_function" and base.target is getattr and \
                base.args[1:] == ("shape",):
            return base.args[0]
        if isinstance(base, fx.Node) and base.op == "call_method" and base.target == "size" and len(base.args) == 1:
            return base.args[0]
    if arg.op == "call_method" and arg.target == "size" and len(arg.args) == 2 and arg.args[1] in index:
        return arg.args[0]
    return None


def size_source(cx, size):
    """The 4-D tensor node whose height and width `size` (an interpolate size= argument) was read from:
    t.shape[-2:], t.shape[2:], t.size()[2:], (t.shape[2], t.shape[3]), (t.size(2), t.size(3)) and their
    negative indices; None for anything else (a constant size). Recording the tensor rather than the size
    it had keeps the resize right at every input size (Note [size-agnostic graphs] in dynamic.py)."""
    t = None
    if isinstance(size, fx.Node) and size.op == "call_function" and size.target is operator.getitem:
        base, i = size.args
        if isinstance(i, slice) and i.step is None and i.stop is None and i.start in (2, -2):
            if isinstance(base, fx.Node) and base.op == "call_function" and base.target is getattr and \
                    base.args[1:] == ("shape",):
                t = base.args[0]
            elif isinstance(base, fx.Node) and base.op == "call_method" and base.target == "size" and \
                    len(base.args) == 1:
                t = base.args[0]
    elif isinstance(size, (list, tuple)) and len(size) == 2:
        h, w = _spatial_of(size[0], (2, -2)), _spatial_of(size[1], (3, -1))
        t = h if h is not None and h is w else None
    if t is None or cx.kind(t) != TENSOR or len(cx.shape(t)) != 4:
        return None
    return t


def upsample(cx, node, x, mode, scale_factor, align_corners, recompute_scale_factor=None, antialias=False,
             size=None):
    """F.interpolate and its module/function forms: nearest, nearest-exact and bilinear to the size PyTorch
    computed; a scale_factor PyTorch keeps (recompute_scale_factor not True) is written when it changes the
    source positions (formats/README.md, upsample_nearest)."""
    mode = cx.const(node, mode, "mode")
    require(cx, node, mode in UPSAMPLE_MODES,
            "upsampling mode %r is not supported; kiln upsamples with mode 'nearest', 'nearest-exact' or "
            "'bilinear'" % (mode,))
    require(cx, node, not cx.const(node, antialias, "antialias"), "antialias=True is not supported")
    align = bool(cx.const(node, align_corners, "align_corners"))
    require(cx, node, mode == "bilinear" or not align, "align_corners is only taken with mode='bilinear'")
    shape = need_rank(cx, node, x, (4,), "upsample_%s" % ("bilinear" if mode == "bilinear" else "nearest"))
    n_in, n_out = [int(d) for d in shape[2:]], [int(d) for d in cx.shape(node)[2:]]
    require(cx, node, all(1 <= o <= MAX_SIZE for o in n_out),
            "output size %s is not supported; kiln upsamples to sizes 1..2^20" % n_out)
    factors = _factors(cx, node, scale_factor)
    # Bilinear by whole factors (nn.Upsample(scale_factor=2, mode='bilinear')): written as `scale`, so the
    # output follows the input's size (a dynamic export); PyTorch's mapping is then that of the size.
    whole = factors is not None and all(float(f).is_integer() and f >= 1 for f in factors) and \
        all(o == i * int(f) for i, o, f in zip(n_in, n_out, factors))
    if mode == "bilinear" and whole:
        attrs = {"scale": [int(f) for f in factors]}
        if align:
            attrs["align_corners"] = True
        cx.emit(node, "upsample_bilinear", [x], attrs)
        return
    if cx.const(node, recompute_scale_factor, "recompute_scale_factor") or (mode == "bilinear" and align):
        factors = None  # PyTorch recomputes the ratio from the sizes (or align_corners ignores it)
    kept = None
    if factors is not None:
        matters = [_factor_matters(mode, i, o, f) for i, o, f in zip(n_in, n_out, factors)]
        if any(matters):
            require(cx, node, factors[0] == factors[1],
                    "scale_factor %r differs per axis and changes PyTorch's source pixels; kiln's upsample takes "
                    "one scale_factor for both axes (pass recompute_scale_factor=True or size=)" % (factors,))
            kept = factors[0]
    like = size_source(cx, size) if factors is None else None
    if like is not None and [int(d) for d in cx.shape(like)[2:]] != n_out:
        like = None
    if mode == "bilinear":
        attrs = {} if like is not None else {"size": n_out}
        if align:
            attrs["align_corners"] = True
        if kept is not None:
            attrs["scale_factor"] = kept
        cx.emit(node, "upsample_bilinear", [x] if like is None else [x, like], attrs)
        return
    if like is not None:  # the size of another tensor: kept as a reference, whatever the input size
        cx.emit(node, "upsample_nearest", [x, like], {} if mode == "nearest" else {"mode": mode})
        return
    ratios = [_float_ratio(i, o, kept) for i, o in zip(n_in, n_out)]
    maps = [_nearest_map(mode, i, o, r) for i, o, r in zip(n_in, n_out, ratios)]
    if all(o % i == 0 and m == [d // (o // i) for d in range(o)] for i, o, m in zip(n_in, n_out, maps)):
        cx.emit(node, "upsample_nearest", [x], {"scale": [o // i for i, o in zip(n_in, n_out)]})
        return
    attrs = {"size": n_out}
    if mode != "nearest":
        attrs["mode"] = mode
    if kept is not None:
        attrs["scale_factor"] = kept
    cx.emit(node, "upsample_nearest", [x], attrs)


# --- table entries ----------------------------------------------------------------------------------

def _max_pool(cx, node, a):
    max_pool(cx, node, cx.tensor_arg(node, a["input"]), a["kernel_size"], a["stride"], a["padding"], a["dilation"],
             a["ceil_mode"], a.get("return_indices", False))


def _avg_pool(cx, node, a):
    avg_pool(cx, node, cx.tensor_arg(node, a["input"]), a["kernel_size"], a["stride"], a["padding"],
             a["ceil_mode"], a["count_include_pad"], a["divisor_override"])


def _adaptive(kind):
    return lambda cx, node, a: adaptive_pool(cx, node, cx.tensor_arg(node, a["input"]), kind,
                                             a.get("return_indices", False))


def _reduce(kind):
    return lambda cx, node, a: reduce_hw(cx, node, cx.tensor_arg(node, a["input"]), kind, a["dim"], a["keepdim"],
                                         a.get("dtype"))


def _upsample(mode=None, align_corners=None):
    """F.interpolate-like entries; `mode` / `align_corners` fix what F.upsample_nearest and
    F.upsample_bilinear imply."""
    def handle(cx, node, a):
        upsample(cx, node, cx.tensor_arg(node, a["input"]), mode or a.get("mode", "nearest"), a["scale_factor"],
                 align_corners if align_corners is not None else a.get("align_corners"),
                 a.get("recompute_scale_factor"), a.get("antialias", False), a.get("size"))
    return handle


def _max_pool2d_module(cx, node, m):
    max_pool(cx, node, module_input(cx, node), m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode,
             m.return_indices)


def _avg_pool2d_module(cx, node, m):
    avg_pool(cx, node, module_input(cx, node), m.kernel_size, m.stride, m.padding, m.ceil_mode,
             m.count_include_pad, m.divisor_override)


def _upsample_module(cx, node, m):
    upsample(cx, node, module_input(cx, node), m.mode, m.scale_factor, getattr(m, "align_corners", None),
             getattr(m, "recompute_scale_factor", None))


_INTERP = [X, ("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
           ("recompute_scale_factor", None), ("antialias", False)]
_AVG = [X, ("kernel_size", REQ), ("stride", None), ("padding", 0), ("ceil_mode", False),
        ("count_include_pad", True), ("divisor_override", None)]
_MEAN = [X, ("dim", None), ("keepdim", False), ("dtype", None)]
_AMAX = [X, ("dim", ()), ("keepdim", False)]


FUNCTIONS = [
    ("F.max_pool2d", [X, ("kernel_size", REQ), ("stride", None), ("padding", 0), ("dilation", 1),
                      ("ceil_mode", False), ("return_indices", False)], _max_pool),
    ("torch.max_pool2d", [X, ("kernel_size", REQ), ("stride", ()), ("padding", 0), ("dilation", 1),
                          ("ceil_mode", False)], _max_pool),
    ("F.avg_pool2d", _AVG, _avg_pool),
    ("F.adaptive_avg_pool2d", [X, ("output_size", REQ)], _adaptive("avg")),
    ("torch._C._nn.adaptive_avg_pool2d", [X, ("output_size", REQ)], _adaptive("avg")),
    ("F.adaptive_max_pool2d", [X, ("output_size", REQ), ("return_indices", False)], _adaptive("max")),
    ("torch.mean", _MEAN, _reduce("avg")),
    ("torch.amax", _AMAX, _reduce("max")),
    ("F.interpolate", _INTERP, _upsample()),
    ("F.upsample", _INTERP[:5], _upsample()),
    ("F.upsample_nearest", [X, ("size", None), ("scale_factor", None)], _upsample("nearest")),
    ("F.upsample_bilinear", [X, ("size", None), ("scale_factor", None)], _upsample("bilinear", True)),
]

METHODS = [
    ("mean", _MEAN, _reduce("avg")),
    ("amax", _AMAX, _reduce("max")),
]

MODULES = {
    "MaxPool2d": _max_pool2d_module,
    "AvgPool2d": _avg_pool2d_module,
    "AdaptiveAvgPool2d": lambda cx, n, m: adaptive_pool(cx, n, module_input(cx, n), "avg"),
    "AdaptiveMaxPool2d": lambda cx, n, m: adaptive_pool(cx, n, module_input(cx, n), "max", m.return_indices),
    "Upsample": _upsample_module,
    "UpsamplingNearest2d": _upsample_module,
    "UpsamplingBilinear2d": _upsample_module,
}
