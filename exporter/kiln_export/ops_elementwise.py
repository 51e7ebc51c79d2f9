"""Lowering of elementwise arithmetic between tensors (add) to kiln ops. FUNCTIONS and METHODS use
ops_functions.py's table format."""
from torch import fx

from .ops_common import REQ, require

X = ("input", REQ)


def add_tensors(cx, node, a, b, alpha=1, inplace=False):
    for arg in (a, b):
        if not isinstance(arg, fx.Node) or cx.kind(arg) != "tensor":
            raise cx.error(node, "adding the constant %r is not supported; kiln's add sums tensors" % (arg,))
    require(cx, node, cx.const(node, alpha, "alpha") == 1, "alpha other than 1 is not supported")
    require(cx, node, cx.shape(a) == cx.shape(b),
            "adding shapes %s and %s (broadcasting) is not supported; kiln adds equal shapes"
            % (list(cx.shape(a)), list(cx.shape(b))))
    cx.emit(node, "add", [a, b])
    if inplace:
        cx.overwrote(node, a)


def _add(inplace):
    return lambda cx, node, a: add_tensors(cx, node, a["input"], a["other"], a.get("alpha", 1), inplace)


FUNCTIONS = [
    ("operator.add", [X, ("other", REQ)], _add(False)),
    ("operator.iadd", [X, ("other", REQ)], _add(True)),
    ("torch.add", [X, ("other", REQ), ("alpha", 1)], _add(False)),
]

# Tensor methods: the tensor itself is the first parameter, "input".
METHODS = [
    ("add", [X, ("other", REQ), ("alpha", 1)], _add(False)),
    ("add_", [X, ("other", REQ), ("alpha", 1)], _add(True)),
    ("__add__", [X, ("other", REQ)], _add(False)),
    ("__iadd__", [X, ("other", REQ)], _add(True)),
]
