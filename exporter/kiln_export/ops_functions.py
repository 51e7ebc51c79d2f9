"""Lowering of functional forms (torch.*, torch.nn.functional.*, operator.*) and Tensor methods to kiln ops.

Each entry gives the function's parameters as PyTorch declares them, so positional and keyword calls
bind the same way, and a lowering from ops_common.py.
"""
import operator

import torch
import torch.nn.functional as F

from . import ops_common as c
from . import ops_channels, ops_channels_last, ops_elementwise, ops_pool
from .ops_common import REQ

X = ("input", REQ)


def _act(op, inplace=False, attr=None):
    def handle(cx, node, a):
        attrs = {attr[0]: c.as_float(cx, node, a[attr[0]], attr[0])} if attr else None
        c.unary(cx, node, op, cx.tensor_arg(node, a["input"]), attrs,
                inplace or bool(cx.const(node, a.get("inplace", False), "inplace")))
    return handle


def _hardtanh(inplace=False, bounds=None):
    """F.hardtanh and its forms; `bounds` fixes (min_val, max_val) for relu6."""
    def handle(cx, node, a):
        lo, hi = bounds or (a["min_val"], a["max_val"])
        c.hardtanh(cx, node, cx.tensor_arg(node, a["input"]), lo, hi,
                   inplace or bool(cx.const(node, a.get("inplace", False), "inplace")))
    return handle


def _gelu(cx, node, a):
    c.gelu(cx, node, cx.tensor_arg(node, a["input"]), a["approximate"])


def _softplus(cx, node, a):
    c.softplus(cx, node, cx.tensor_arg(node, a["input"]), a["beta"], a["threshold"])


def _prelu(cx, node, a):
    c.prelu(cx, node, cx.tensor_arg(node, a["input"]), cx.parameter(node, a["weight"], "weight"))


def _dropout(cx, node, a):
    c.dropout(cx, node, cx.tensor_arg(node, a["input"]), a["p"], a["training"])


def _identity(cx, node, a):
    cx.alias(node, cx.tensor_arg(node, a["input"]))


def _linear(cx, node, a):
    bias = None if a["bias"] is None else cx.parameter(node, a["bias"], "bias")
    x = cx.tensor_arg(node, a["input"])
    lower = ops_channels_last.linear if ops_channels_last.is_view(cx, x) else c.linear  # on the last dim
    lower(cx, node, x, cx.parameter(node, a["weight"], "weight"), bias)


def _reshape(cx, node, a):
    c.reshape(cx, node, cx.tensor_arg(node, a["input"]))


_ACT_INPLACE = [X, ("inplace", False)]
_DROPOUT = [X, ("p", 0.5), ("training", True), ("inplace", False)]


def _SOFTMAX(cx, node, a):  # noqa: N802 - named like the parameter tables it sits with
    c.softmax(cx, node, cx.tensor_arg(node, a["input"]), a["dim"], a.get("dtype"))


# (object path, parameters, handler); paths missing from this torch version are skipped.
_FUNCTIONS = [
    ("F.relu", _ACT_INPLACE, _act("relu")),
    ("torch.relu", [X], _act("relu")),
    ("torch.relu_", [X], _act("relu", inplace=True)),
    ("F.leaky_relu", [X, ("negative_slope", 0.01), ("inplace", False)], _act("leaky_relu", attr=("negative_slope",))),
    ("F.leaky_relu_", [X, ("negative_slope", 0.01)], _act("leaky_relu", True, ("negative_slope",))),
    ("F.elu", [X, ("alpha", 1.0), ("inplace", False)], _act("elu", attr=("alpha",))),
    ("F.elu_", [X, ("alpha", 1.0)], _act("elu", True, ("alpha",))),
    ("torch.sigmoid", [X], _act("sigmoid")),
    ("F.sigmoid", [X], _act("sigmoid")),
    ("torch.sigmoid_", [X], _act("sigmoid", inplace=True)),
    ("torch.tanh", [X], _act("tanh")),
    ("F.tanh", [X], _act("tanh")),
    ("torch.tanh_", [X], _act("tanh", inplace=True)),
    ("F.relu6", _ACT_INPLACE, _hardtanh(bounds=(0.0, 6.0))),
    ("torch._C._nn.relu6", [X], _hardtanh(bounds=(0.0, 6.0))),
    ("torch._C._nn.relu6_", [X], _hardtanh(True, (0.0, 6.0))),
    ("F.hardtanh", [X, ("min_val", -1.0), ("max_val", 1.0), ("inplace", False)], _hardtanh()),
    ("F.hardtanh_", [X, ("min_val", -1.0), ("max_val", 1.0)], _hardtanh(True)),
    ("F.hardswish", _ACT_INPLACE, _act("hardswish")),
    ("torch._C._nn.hardswish_", [X], _act("hardswish", inplace=True)),
    ("F.hardsigmoid", _ACT_INPLACE, _act("hardsigmoid")),
    ("torch._C._nn.hardsigmoid_", [X], _act("hardsigmoid", inplace=True)),
    ("F.silu", _ACT_INPLACE, _act("silu")),
    ("torch._C._nn.silu_", [X], _act("silu", inplace=True)),
    ("F.mish", _ACT_INPLACE, _act("mish")),
    ("torch._C._nn.mish_", [X], _act("mish", inplace=True)),
    ("F.gelu", [X, ("approximate", "none")], _gelu),
    ("F.softplus", [X, ("beta", 1.0), ("threshold", 20.0)], _softplus),
    ("F.prelu", [X, ("weight", REQ)], _prelu),
    ("torch.prelu", [X, ("weight", REQ)], _prelu),
    ("F.dropout", _DROPOUT, _dropout),
    ("F.dropout1d", _DROPOUT, _dropout),
    ("F.dropout2d", _DROPOUT, _dropout),
    ("F.dropout3d", _DROPOUT, _dropout),
    ("F.alpha_dropout", _DROPOUT, _dropout),
    ("F.feature_alpha_dropout", _DROPOUT, _dropout),
    # torchvision's StochasticDepth (EfficientNet, ConvNeXt): a dropout of whole residual branches, the
    # identity in eval mode.
    ("torchvision.ops.stochastic_depth", [X, ("p", REQ), ("mode", REQ), ("training", True)],
     lambda cx, node, a: c.dropout(cx, node, cx.tensor_arg(node, a["input"]), a["p"], a["training"])),
    ("torch.dropout", [X, ("p", REQ), ("train", REQ)],
     lambda cx, node, a: c.dropout(cx, node, cx.tensor_arg(node, a["input"]), a["p"], a["train"])),
    ("F.local_response_norm", [X, ("size", REQ), ("alpha", 1e-4), ("beta", 0.75), ("k", 1.0)],
     lambda cx, node, a: c.lrn(cx, node, cx.tensor_arg(node, a["input"]), a["size"], a["alpha"], a["beta"], a["k"])),
    ("F.softmax", [X, ("dim", None), ("_stacklevel", 3), ("dtype", None)], _SOFTMAX),
    ("torch.softmax", [X, ("dim", REQ), ("dtype", None)], _SOFTMAX),
    ("torch.cat", [("tensors", REQ), ("dim", 0)], lambda cx, node, a: c.concat(cx, node, a["tensors"], a["dim"])),
    ("torch.concat", [("tensors", REQ), ("dim", 0)], lambda cx, node, a: c.concat(cx, node, a["tensors"], a["dim"])),
    ("torch.concatenate", [("tensors", REQ), ("axis", 0)],
     lambda cx, node, a: c.concat(cx, node, a["tensors"], a["axis"])),
    ("F.linear", [X, ("weight", REQ), ("bias", None)], _linear),
    ("torch.flatten", [X, ("start_dim", 0), ("end_dim", -1)], _reshape),
    ("torch.reshape", [X, ("shape", REQ)], _reshape),
]

# Tensor methods: the tensor itself is the first parameter, "input".
_METHODS = [
    ("relu", [X], _act("relu")),
    ("relu_", [X], _act("relu", inplace=True)),
    ("sigmoid", [X], _act("sigmoid")),
    ("sigmoid_", [X], _act("sigmoid", inplace=True)),
    ("tanh", [X], _act("tanh")),
    ("tanh_", [X], _act("tanh", inplace=True)),
    ("prelu", [X, ("weight", REQ)], _prelu),
    ("softmax", [X, ("dim", REQ), ("dtype", None)], _SOFTMAX),
    ("flatten", [X, ("start_dim", 0), ("end_dim", -1)], _reshape),
    ("contiguous", [X, ("memory_format", None)], ops_channels.pass_through),
    ("clone", [X, ("memory_format", None)], _identity),
    ("detach", [X], _identity),
]

# view and reshape take their shape as varargs; the handler reads the result's shape instead (permute: the
# node's own arguments).
_VARARG_METHODS = {"view": _reshape, "reshape": _reshape, "permute": ops_channels_last.permute_method}


def _resolve(path):
    root, _, rest = path.partition(".")
    if root == "torchvision":
        try:
            import torchvision  # optional: only its ops need it
        except ImportError:
            return None
        obj = torchvision
    else:
        obj = {"F": F, "torch": torch, "operator": operator}[root]
    for part in rest.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# Op families with their own lowering file add their tables here. ops_channels_last wraps some of
# ops_elementwise's and ops_channels' entries: its functions go first (the first entry of a target
# wins), its methods last (the last wins).
_FUNCTIONS += ops_channels_last.FUNCTIONS + ops_pool.FUNCTIONS + ops_elementwise.FUNCTIONS + ops_channels.FUNCTIONS
_METHODS += ops_pool.METHODS + ops_elementwise.METHODS + ops_channels.METHODS + ops_channels_last.METHODS

FUNCTION_HANDLERS = {}
for _path, _params, _handler in _FUNCTIONS:
    _target = _resolve(_path)
    if _target is not None:
        FUNCTION_HANDLERS.setdefault(_target, (_params, _handler))
METHOD_HANDLERS = {name: (params, handler) for name, params, handler in _METHODS}


def run_function(cx, node, handlers):
    params, handler = handlers
    handler(cx, node, c.bind(cx, node, params))


def run_method(cx, node):
    if node.target in _VARARG_METHODS:
        _VARARG_METHODS[node.target](cx, node, {"input": node.args[0]})
        return True
    entry = METHOD_HANDLERS.get(node.target)
    if entry is None:
        return False
    run_function(cx, node, entry)
    return True
