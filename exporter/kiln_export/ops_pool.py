"""Lowering of pooling and upsampling (modules, functions and Tensor methods) to kiln's pool and
upsample ops. FUNCTIONS and METHODS use ops_functions.py's table format, MODULES maps an nn module's
class name to its handler (ops_modules.py)."""
from .ops_common import REQ, module_input, need_rank, pair, put_pair, require

X = ("input", REQ)


def max_pool(cx, node, x, kernel, stride, padding, dilation, ceil_mode, return_indices):
    require(cx, node, not return_indices, "return_indices=True is not supported (kiln's max_pool2d has one output)")
    require(cx, node, not ceil_mode, "ceil_mode=True is not supported (kiln pools in floor mode)")
    kernel = pair(cx, node, kernel, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(cx, node, stride, "stride")
    padding = pair(cx, node, padding, "padding")
    require(cx, node, pair(cx, node, dilation, "dilation") == [1, 1], "dilation other than 1 is not supported")
    require(cx, node, all(2 * p <= k for p, k in zip(padding, kernel)),
            "padding %s is more than half the kernel %s" % (padding, kernel))
    need_rank(cx, node, x, (4,), "max_pool2d")
    attrs = {"kernel_size": kernel}
    if stride != kernel:
        attrs["stride"] = stride
    put_pair(attrs, "padding", padding, 0)
    cx.emit(node, "max_pool2d", [x], attrs)


def avg_pool(cx, node, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    require(cx, node, not cx.const(node, ceil_mode, "ceil_mode"),
            "ceil_mode=True is not supported (kiln pools in floor mode)")
    require(cx, node, cx.const(node, divisor_override, "divisor_override") is None,
            "divisor_override is not supported")
    kernel = pair(cx, node, kernel, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(cx, node, stride, "stride")
    padding = pair(cx, node, padding, "padding")
    need_rank(cx, node, x, (4,), "avg_pool2d")
    attrs = {"kernel_size": kernel}
    if stride != kernel:
        attrs["stride"] = stride
    put_pair(attrs, "padding", padding, 0)
    if not cx.const(node, count_include_pad, "count_include_pad"):
        attrs["count_include_pad"] = False
    cx.emit(node, "avg_pool2d", [x], attrs)


def adaptive_avg_pool(cx, node, x):
    shape = need_rank(cx, node, x, (4,), "global_avg_pool2d")
    out = cx.shape(node)
    if tuple(out) == tuple(shape):
        cx.alias(node, x)  # output size equal to the input's: an identity
    elif tuple(out[2:]) == (1, 1):
        cx.emit(node, "global_avg_pool2d", [x])
    else:
        raise cx.error(node, "adaptive average pooling to %s is not supported; only output size 1 "
                             "(global_avg_pool2d)" % list(out[2:]))


def upsample(cx, node, x, mode, scale_factor, align_corners):
    mode = cx.const(node, mode, "mode")
    require(cx, node, mode in ("nearest", "nearest-exact"),
            "upsampling mode '%s' is not supported; kiln upsamples with mode='nearest'" % mode)
    require(cx, node, cx.const(node, align_corners, "align_corners") in (None, False), "align_corners is not supported")
    shape = need_rank(cx, node, x, (4,), "upsample_nearest")
    out = cx.shape(node)
    scale = [o // i for o, i in zip(out[2:], shape[2:])]
    require(cx, node, all(o == s * i for o, s, i in zip(out[2:], scale, shape[2:])) and min(scale) >= 1,
            "upsampling %s to %s is not by an integer factor" % (list(shape[2:]), list(out[2:])))
    factors = cx.const(node, scale_factor, "scale_factor")
    if factors is not None:
        factors = list(factors) if isinstance(factors, (list, tuple)) else [factors, factors]
        require(cx, node, all(float(f).is_integer() for f in factors),
                "scale_factor %r is not an integer; kiln upsamples by integer factors" % (factors,))
    cx.emit(node, "upsample_nearest", [x], {"scale": scale})


def _max_pool(cx, node, a):
    max_pool(cx, node, cx.tensor_arg(node, a["input"]), a["kernel_size"], cx.const(node, a["stride"], "stride"),
               a["padding"], a["dilation"], cx.const(node, a["ceil_mode"], "ceil_mode"),
               cx.const(node, a.get("return_indices", False), "return_indices"))


def _avg_pool(cx, node, a):
    avg_pool(cx, node, cx.tensor_arg(node, a["input"]), a["kernel_size"], cx.const(node, a["stride"], "stride"),
               a["padding"], a["ceil_mode"], a["count_include_pad"], a["divisor_override"])


def _upsample(cx, node, a):
    upsample(cx, node, cx.tensor_arg(node, a["input"]), a.get("mode", "nearest"), a["scale_factor"],
               a.get("align_corners"))


def _max_pool2d_module(cx, node, m):
    max_pool(cx, node, module_input(cx, node), m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode,
               m.return_indices)


def _avg_pool2d_module(cx, node, m):
    avg_pool(cx, node, module_input(cx, node), m.kernel_size, m.stride, m.padding, m.ceil_mode,
               m.count_include_pad, m.divisor_override)


def _upsample_module(cx, node, m):
    upsample(cx, node, module_input(cx, node), m.mode, m.scale_factor, getattr(m, "align_corners", None))


_INTERP = [X, ("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
           ("recompute_scale_factor", None), ("antialias", False)]
_AVG = [X, ("kernel_size", REQ), ("stride", None), ("padding", 0), ("ceil_mode", False),
        ("count_include_pad", True), ("divisor_override", None)]


FUNCTIONS = [
    ("F.max_pool2d", [X, ("kernel_size", REQ), ("stride", None), ("padding", 0), ("dilation", 1),
                      ("ceil_mode", False), ("return_indices", False)], _max_pool),
    ("torch.max_pool2d", [X, ("kernel_size", REQ), ("stride", ()), ("padding", 0), ("dilation", 1),
                          ("ceil_mode", False)], _max_pool),
    ("F.avg_pool2d", _AVG, _avg_pool),
    ("F.adaptive_avg_pool2d", [X, ("output_size", REQ)],
     lambda cx, node, a: adaptive_avg_pool(cx, node, cx.tensor_arg(node, a["input"]))),
    ("torch._C._nn.adaptive_avg_pool2d", [X, ("output_size", REQ)],
     lambda cx, node, a: adaptive_avg_pool(cx, node, cx.tensor_arg(node, a["input"]))),
    ("F.interpolate", _INTERP, _upsample),
    ("F.upsample", _INTERP[:5], _upsample),
    ("F.upsample_nearest", [X, ("size", None), ("scale_factor", None)], _upsample),
]

METHODS = []

MODULES = {
    "MaxPool2d": _max_pool2d_module,
    "AvgPool2d": _avg_pool2d_module,
    "AdaptiveAvgPool2d": lambda cx, n, m: adaptive_avg_pool(cx, n, module_input(cx, n)),
    "Upsample": _upsample_module,
    "UpsamplingNearest2d": _upsample_module,
}
