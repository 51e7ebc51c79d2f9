"""Lowering of channels-last code (x.permute(0, 2, 3, 1), then ops on the last dim) to kiln's channel ops.
FUNCTIONS and METHODS use ops_functions.py's table format.

Note [channels-last views]: kiln tensors are NCHW. ConvNeXt and its kin permute a 4-D tensor to NHWC,
normalise and mix its last dim (nn.LayerNorm, nn.Linear) and permute back. The permute(0, 2, 3, 1) emits
nothing: its fx node becomes a *view*, Converter.channels_last[node] = the NCHW kiln tensor it holds as
NHWC. Ops on a view that act on the last dim are channel ops on that tensor, and their result is a view
again:
  LayerNorm / F.layer_norm over (C,)     -> layer_norm;
  Linear / F.linear (weight [out, C])    -> conv2d 1x1 (weight [out, C, 1, 1]), a view of `out` channels;
  elementwise activations, arithmetic with a number or with another view of the same shape -> the same op
                                            (Converter.emit routes them here: emit_on_views);
  arithmetic with a parameter of shape [C] (right-aligned; a layer scale) -> the op with weight `other`
                                            [C, 1, 1], one value per channel;
  identities (dropout, contiguous, clone) keep the view (Converter.alias);
  permute(0, 3, 1, 2)                     -> the NCHW tensor itself.
Anything else that reads a view (a reshape, a reduction, a slice, a model output, an op kiln cannot
express on the last dim) goes through Converter.name_of, which refuses it with refusal()'s message.
Golden layer values (export --golden-layers) of layers computed on a view are written permuted to kiln's NCHW.
"""
from collections import OrderedDict

from . import ops_channels, ops_common as c, ops_elementwise
from .graph import TENSOR
from .ops_common import REQ

X = ("input", REQ)
TO_NHWC, TO_NCHW, SAME = (0, 2, 3, 1), (0, 3, 1, 2), (0, 1, 2, 3)

_POINTWISE = {"relu", "leaky_relu", "sigmoid", "tanh", "elu", "relu6", "hardtanh", "hardswish", "hardsigmoid",
              "silu", "gelu", "softplus", "mish"}
_ARITH_OPS = {"add", "sub", "mul", "div"}


def refusal(view):
    """What kiln says when an op it cannot map to channels reads the channels-last view `view`."""
    return ("reads `%s`, a channels-last view (x.permute(0, 2, 3, 1)) of an NCHW tensor; on such a view kiln "
            "supports only LayerNorm over the last dim, Linear on the last dim, elementwise activations, "
            "arithmetic with numbers, with parameters of shape [C] or with another view of the same shape, and "
            "permute(0, 3, 1, 2) back to NCHW" % view.name)


def is_view(cx, x):
    return x in cx.channels_last


def _emit_view(cx, node, op, views, attributes=None, weights=None):
    """Emits `op` on the NCHW sources of `views`; `node`'s value is its output viewed as NHWC."""
    layer = cx.emit_names(node, op, [cx.view_source(node, v) for v in views], attributes, weights)
    cx.view(node, layer.name)
    layer.golden_permute = TO_NCHW  # its golden value: PyTorch's NHWC as kiln's NCHW
    return layer


def emit_on_views(cx, node, op, inputs, attributes, weights):
    """Converter.emit of a layer reading a view: ops that treat every element alike keep the view."""
    first = next(x for x in inputs if is_view(cx, x))
    views = all(is_view(cx, x) for x in inputs)
    n = attributes.get("num_parameters", 1) if attributes else 1
    pointwise = op in _POINTWISE or (op == "prelu" and n == 1)
    same_shapes = len({tuple(cx.shape(x)) for x in inputs}) == 1
    if not views or weights and op != "prelu" or not (pointwise and len(inputs) == 1 or
                                                     op in _ARITH_OPS and same_shapes):
        raise cx.error(node, refusal(first))
    return _emit_view(cx, node, op, inputs, attributes, weights)


# --- permute ------------------------------------------------------------------------------------------

def _permutation(cx, node, dims, rank):
    dims = cx.const(node, dims, "dims")
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return tuple(c.as_int(cx, node, d, "dims") % rank for d in dims)


def _permute(cx, node, x, dims, fallback):
    rank = len(cx.shape(x))
    perm = _permutation(cx, node, dims, rank)
    if is_view(cx, x):
        if perm == TO_NCHW:
            cx.value[node] = cx.view_source(node, x)
        elif perm == SAME:
            cx.alias(node, x)
        else:
            raise cx.error(node, "permute%s of a channels-last view is not supported; kiln takes only "
                                 "permute(0, 3, 1, 2) back to NCHW" % (perm,))
    elif rank == 4 and perm == TO_NHWC:
        cx.view(node, cx.name_of(node, x))
    else:
        fallback()  # a step of a channel shuffle (ops_channels), or its error


def permute_method(cx, node, a):
    """x.permute(*dims) or x.permute(dims)."""
    x = cx.tensor_arg(node, a["input"])
    dims = list(node.args[1:]) or [node.kwargs.get("dims", ())]
    _permute(cx, node, x, dims, lambda: ops_channels.permute_method(cx, node, a))


_CHANNEL_FUNCTIONS = {path: handler for path, _, handler in ops_channels.FUNCTIONS}


def _permute_function(cx, node, a):
    x = cx.tensor_arg(node, a["input"])
    _permute(cx, node, x, [a["dims"]], lambda: _CHANNEL_FUNCTIONS["torch.permute"](cx, node, a))


# --- layer_norm and linear ----------------------------------------------------------------------------

def layer_norm(cx, node, x, normalized_shape, weight, bias, eps):
    """LayerNorm over the last dim of a view (or of [N, C]) -> layer_norm on the channels."""
    shape = cx.shape(x)
    if not is_view(cx, x) and len(shape) != 2:
        raise cx.error(node, "LayerNorm of a tensor of shape %s is not supported: kiln's layer_norm normalises "
                             "channels, i.e. the last dim of a channels-last view x.permute(0, 2, 3, 1) of a 4-D "
                             "tensor or of a 2-D [N, C] tensor (over the last dim of an NCHW tensor it would "
                             "normalise the width)" % list(shape))
    ns = cx.const(node, normalized_shape, "normalized_shape")
    ns = tuple(ns) if isinstance(ns, (list, tuple)) else (ns,)
    ns = tuple(c.as_int(cx, node, d, "normalized_shape") for d in ns)
    channels = shape[-1]
    c.require(cx, node, ns == (channels,), "normalized_shape %s is not supported; kiln's layer_norm normalises "
                                           "the last dim only, normalized_shape (%d,)" % (list(ns), channels))
    eps = c.as_float(cx, node, eps, "eps")
    c.require(cx, node, eps > 0, "eps=%r is not supported; kiln's layer_norm needs eps > 0" % eps)
    weights = OrderedDict()
    for role, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            c.require(cx, node, list(t.shape) == [channels], "%s of shape %s does not fit %d channels"
                      % (role, list(t.shape), channels))
            weights[role] = t
    if is_view(cx, x):
        _emit_view(cx, node, "layer_norm", [x], {"eps": eps}, weights)
    else:
        cx.emit(node, "layer_norm", [x], {"eps": eps}, weights)


def layer_norm_module(cx, node, m):
    layer_norm(cx, node, c.module_input(cx, node), m.normalized_shape, m.weight, m.bias, m.eps)


def _layer_norm_function(cx, node, a):
    weight = None if a["weight"] is None else cx.parameter(node, a["weight"], "weight")
    bias = None if a["bias"] is None else cx.parameter(node, a["bias"], "bias")
    layer_norm(cx, node, cx.tensor_arg(node, a["input"]), a["normalized_shape"], weight, bias, a["eps"])


def linear(cx, node, x, weight, bias):
    """Linear on the last dim of the view `x` -> a 1x1 conv2d; its output is a view of `out` channels."""
    channels = cx.shape(x)[-1]
    c.require(cx, node, weight.dim() == 2 and weight.shape[1] == channels,
              "weight of shape %s does not fit a channels-last view of %d channels" % (list(weight.shape), channels))
    out = int(weight.shape[0])
    attrs = OrderedDict([("out_channels", out), ("kernel_size", [1, 1])])
    weights = OrderedDict([("weight", weight.detach().reshape(out, channels, 1, 1)), ("bias", bias)])
    _emit_view(cx, node, "conv2d", [x], attrs, weights)


# --- arithmetic with a [C] parameter --------------------------------------------------------------------

def _with_parameter(op, swap, handler):
    """Wraps ops_elementwise's handler: a view (op) a parameter of shape [C] is the op with one value per
    channel; everything else is the handler's."""
    def handle(cx, node, a):
        left, right = (a["other"], a["input"]) if swap else (a["input"], a["other"])
        kinds = [(x, getattr(x, "op", None) == "get_attr") for x in (left, right)]
        views = [x for x, _ in kinds if cx.kind(x) == TENSOR and is_view(cx, x)]
        params = [x for x, is_param in kinds if is_param]
        if len(views) != 1 or len(params) != 1 or a.get("alpha", 1) != 1:
            return handler(cx, node, a)
        x, p = views[0], cx.parameter(node, params[0], "operand")
        shape, ps = list(cx.shape(x)), list(p.shape)
        if p.numel() == 1:
            return handler(cx, node, a)  # a number: Converter.emit keeps the view
        aligned = [1] * (len(shape) - len(ps)) + ps
        c.require(cx, node, len(ps) <= len(shape) and aligned[-1] == shape[-1] and all(d == 1 for d in aligned[:-1]),
                  "a parameter of shape %s against a channels-last view of shape %s is not supported; kiln takes "
                  "one value per channel (shape [C], the last dim) or a single value" % (ps, shape))
        attrs = {"reverse": True} if params[0] is left and op in ("sub", "div") else {}
        values = p.detach().float().reshape(shape[-1], 1, 1).contiguous()
        _emit_view(cx, node, op, [x], attrs, {"other": values})
    return handle


_ARITH_FUNCTIONS = {"operator.add": ("add", False), "operator.sub": ("sub", False), "operator.mul": ("mul", False),
                    "operator.truediv": ("div", False), "torch.add": ("add", False), "torch.sub": ("sub", False),
                    "torch.mul": ("mul", False), "torch.multiply": ("mul", False), "torch.div": ("div", False)}
_ARITH_METHODS = {"add": ("add", False), "sub": ("sub", False), "mul": ("mul", False), "div": ("div", False),
                  "__add__": ("add", False), "__radd__": ("add", True), "__sub__": ("sub", False),
                  "__rsub__": ("sub", True), "__mul__": ("mul", False), "__rmul__": ("mul", True),
                  "__truediv__": ("div", False), "__rtruediv__": ("div", True)}

# FUNCTIONS are merged before ops_elementwise's and ops_channels' (the first entry of a target wins), so
# the arithmetic and torch.permute entries here wrap theirs; METHODS after them (the last wins).
FUNCTIONS = [
    ("F.layer_norm", [X, ("normalized_shape", REQ), ("weight", None), ("bias", None), ("eps", 1e-5)],
     _layer_norm_function),
    ("torch.permute", [X, ("dims", REQ)], _permute_function),
] + [(path, params, _with_parameter(*_ARITH_FUNCTIONS[path], handler))
     for path, params, handler in ops_elementwise.FUNCTIONS if path in _ARITH_FUNCTIONS]

METHODS = [(name, params, _with_parameter(*_ARITH_METHODS[name], handler))
           for name, params, handler in ops_elementwise.METHODS if name in _ARITH_METHODS]
