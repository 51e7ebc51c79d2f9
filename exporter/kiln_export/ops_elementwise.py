"""Lowering of elementwise arithmetic (+, -, *, /: operator, torch and Tensor-method forms, in place or not)
to kiln's add, sub, mul and div (formats/README.md, "Ops"). FUNCTIONS and METHODS use ops_functions.py's
table format.

Each operand is one of: a tensor the model computes (an fx node of kind tensor), a number (a Python
scalar or shape arithmetic folded to one), or a parameter/buffer (a get_attr node). kiln's forms:
  tensor op tensor      two inputs, shapes broadcast over equal ranks with the batch equal;
  tensor op number      attribute `scalar` (`reverse: true` when the number is on the left of - or /);
  tensor op parameter   weight `other`, which PyTorch broadcasts right-aligned against the tensor: kiln
                        takes one value per channel (`other_per: channel`, stored [C, 1, ...]) or one per
                        element of a sample (`other_per: sample`, the tensor's shape without the batch);
                        a parameter holding one value becomes `scalar`.
`x.expand_as(y)` read only by these ops is the broadcast itself: the op reads x.
"""
import operator

import torch
from torch import fx

from .graph import TENSOR
from .ops_common import REQ, require

X = ("input", REQ)
_NAMES = {"add": "adding", "sub": "subtracting", "mul": "multiplying", "div": "dividing"}
_EXPANDS = ("expand_as",)


def _source(arg):
    """The tensor an expand_as node broadcasts (the op broadcasts it itself), else `arg`."""
    while isinstance(arg, fx.Node) and arg.op == "call_method" and arg.target in _EXPANDS:
        arg = arg.args[0]
    return arg


def _operand(cx, node, op, arg):
    """('tensor', fx node) | ('number', float) | ('parameter', torch.Tensor) for one operand."""
    arg = _source(arg)
    if isinstance(arg, fx.Node):
        if arg.op == "get_attr":
            return "parameter", cx.parameter(node, arg, "operand")
        if cx.kind(arg) == TENSOR:
            return "tensor", arg
        value = cx.const(node, arg, "operand")
    else:
        value = arg
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise cx.error(node, "%s the constant %r is not supported; kiln's %s takes tensors, numbers and parameters"
                       % (_NAMES[op], value, op))
    return "number", float(value)


def _number_attrs(cx, node, value, reverse):
    require(cx, node, abs(value) <= 3.4028234663852886e38 and value == value,
            "the constant %r is not a finite float32 number" % value)
    attrs = {"scalar": value}
    if reverse:
        attrs["reverse"] = True
    return attrs


def _two_tensors(cx, node, op, a, b):
    sa, sb = list(cx.shape(a)), list(cx.shape(b))
    require(cx, node, len(sa) == len(sb),
            "%s shapes %s and %s (different ranks) is not supported; kiln broadcasts tensors of equal rank"
            % (_NAMES[op], sa, sb))
    require(cx, node, sa[0] == sb[0],
            "%s shapes %s and %s broadcasts the batch (dimension 0); kiln needs it equal" % (_NAMES[op], sa, sb))
    cx.emit(node, op, [a, b])


def _with_parameter(cx, node, op, x, p, reverse):
    shape = list(cx.shape(x))
    ps = list(p.shape)
    aligned = [1] * (len(shape) - len(ps)) + ps
    fail = ("a parameter of shape %s against the tensor of shape %s is not supported; kiln takes a parameter with "
            "one value, one value per channel (dimension 1) or one per element of a sample (the batch excluded)"
            % (ps, shape))
    require(cx, node, len(ps) <= len(shape) and aligned[0] == 1, fail)
    values = p.detach().to(torch.float32)
    if all(d == 1 for d in aligned):
        cx.emit(node, op, [x], _number_attrs(cx, node, float(values.reshape(-1)[0]), reverse))
        return
    per = None
    if aligned[1:] == shape[1:]:
        per = "sample"
    elif aligned[1] == shape[1] and all(d == 1 for d in aligned[2:]):
        per = "channel"
    require(cx, node, per is not None, fail)
    stored = shape[1:] if per == "sample" else [shape[1]] + [1] * (len(shape) - 2)
    attrs = {"other_per": "sample"} if per == "sample" else {}
    if reverse:
        attrs["reverse"] = True
    cx.emit(node, op, [x], attrs, {"other": values.reshape(stored).contiguous()})


def arith(cx, node, op, left, right, inplace=False):
    """Lowers `left op right` (op: add, sub, mul, div) computed by `node`; `inplace`: it overwrites `left`."""
    (ka, a), (kb, b) = _operand(cx, node, op, left), _operand(cx, node, op, right)
    if inplace:
        require(cx, node, ka == "tensor", "an in-place %s must overwrite a tensor computed by the model" % op)
    if ka == "tensor" and kb == "tensor":
        _two_tensors(cx, node, op, a, b)
    elif "tensor" not in (ka, kb):
        raise cx.error(node, "%s two constants (numbers or parameters) is not supported; kiln's %s needs a tensor "
                             "computed from the model's inputs" % (_NAMES[op], op))
    else:
        x, (kc, c), reverse = (a, (kb, b), False) if ka == "tensor" else (b, (ka, a), op in ("sub", "div"))
        if kc == "number":
            cx.emit(node, op, [x], _number_attrs(cx, node, c, reverse))
        else:
            _with_parameter(cx, node, op, x, c, reverse)
    out = cx.shape(node)
    layer_inputs = [i for i in (a, b) if isinstance(i, fx.Node) and cx.kind(i) == TENSOR and i.op != "get_attr"]
    expect = tuple(torch.broadcast_shapes(*[cx.shape(i) for i in layer_inputs]))
    require(cx, node, expect == tuple(out),
            "the result's shape %s is not the broadcast of its tensor operands %s" % (list(out), list(expect)))
    if inplace:
        cx.overwrote(node, a)


def expand(cx, node, a):
    """expand_as: only as the broadcast of an elementwise op (which reads the source itself)."""
    readers = [u for u in node.users if not _is_arith(u)]
    if readers:
        raise cx.error(node, "is read by `%s`; kiln supports expand_as only as an operand of +, -, * or /, "
                             "which broadcast it themselves" % readers[0].name)
    cx.alias(node, cx.tensor_arg(node, a["input"]))


def _check_alpha(cx, node, a):
    require(cx, node, cx.const(node, a.get("alpha", 1), "alpha") == 1,
            "alpha other than 1 is not supported (kiln's add and sub take no alpha; write x + alpha * y)")


def _check_rounding(cx, node, a):
    mode = cx.const(node, a.get("rounding_mode"), "rounding_mode")
    require(cx, node, mode is None,
            "rounding_mode=%r is not supported; kiln's div is true division (rounding_mode=None)" % (mode,))


def _h(op, inplace=False, swap=False):
    """A table handler: input op other (other op input when `swap`: __radd__, __rsub__, torch.rsub, ...)."""
    def handler(cx, node, a):
        _check_alpha(cx, node, a)
        _check_rounding(cx, node, a)
        left, right = (a["other"], a["input"]) if swap else (a["input"], a["other"])
        arith(cx, node, op, left, right, inplace)
    return handler


_BIN = [X, ("other", REQ)]
_ALPHA = _BIN + [("alpha", 1)]
_ROUND = _BIN + [("rounding_mode", None)]

FUNCTIONS = [
    ("operator.add", _BIN, _h("add")),
    ("operator.sub", _BIN, _h("sub")),
    ("operator.mul", _BIN, _h("mul")),
    ("operator.truediv", _BIN, _h("div")),
    ("operator.iadd", _BIN, _h("add", inplace=True)),
    ("operator.isub", _BIN, _h("sub", inplace=True)),
    ("operator.imul", _BIN, _h("mul", inplace=True)),
    ("operator.itruediv", _BIN, _h("div", inplace=True)),
    ("torch.add", _ALPHA, _h("add")),
    ("torch.sub", _ALPHA, _h("sub")),
    ("torch.subtract", _ALPHA, _h("sub")),
    ("torch.rsub", _ALPHA, _h("sub", swap=True)),
    ("torch.mul", _BIN, _h("mul")),
    ("torch.multiply", _BIN, _h("mul")),
    ("torch.div", _ROUND, _h("div")),
    ("torch.divide", _ROUND, _h("div")),
    ("torch.true_divide", _BIN, _h("div")),
]

# Tensor methods: the tensor itself is the first parameter, "input".
METHODS = [
    ("add", _ALPHA, _h("add")),
    ("add_", _ALPHA, _h("add", inplace=True)),
    ("sub", _ALPHA, _h("sub")),
    ("sub_", _ALPHA, _h("sub", inplace=True)),
    ("subtract", _ALPHA, _h("sub")),
    ("subtract_", _ALPHA, _h("sub", inplace=True)),
    ("mul", _BIN, _h("mul")),
    ("mul_", _BIN, _h("mul", inplace=True)),
    ("multiply", _BIN, _h("mul")),
    ("multiply_", _BIN, _h("mul", inplace=True)),
    ("div", _ROUND, _h("div")),
    ("div_", _ROUND, _h("div", inplace=True)),
    ("divide", _ROUND, _h("div")),
    ("divide_", _ROUND, _h("div", inplace=True)),
    ("true_divide", _BIN, _h("div")),
    ("true_divide_", _BIN, _h("div", inplace=True)),
    ("__add__", _BIN, _h("add")),
    ("__radd__", _BIN, _h("add", swap=True)),
    ("__iadd__", _BIN, _h("add", inplace=True)),
    ("__sub__", _BIN, _h("sub")),
    ("__rsub__", _BIN, _h("sub", swap=True)),
    ("__isub__", _BIN, _h("sub", inplace=True)),
    ("__mul__", _BIN, _h("mul")),
    ("__rmul__", _BIN, _h("mul", swap=True)),
    ("__imul__", _BIN, _h("mul", inplace=True)),
    ("__truediv__", _BIN, _h("div")),
    ("__rtruediv__", _BIN, _h("div", swap=True)),
    ("__itruediv__", _BIN, _h("div", inplace=True)),
    ("expand_as", [X, ("other", REQ)], expand),
]


def _resolve(path):
    root, _, name = path.partition(".")
    return getattr({"operator": operator, "torch": torch}[root], name, None)


_ARITH_FUNCTIONS = {_resolve(p) for p, _, _ in FUNCTIONS} - {None}
_ARITH_METHODS = {m for m, _, _ in METHODS if m not in _EXPANDS}


def _is_arith(node):
    if node.op == "call_method":
        return node.target in _ARITH_METHODS
    return node.op == "call_function" and node.target in _ARITH_FUNCTIONS
