"""Helpers shared by the op handlers: argument binding, constant checks and the lowering of each kiln
op, written once and called from both the module forms (ops_modules.py) and the functional forms
(ops_functions.py) so the two cannot drift apart."""
import math
from collections import OrderedDict

REQ = object()  # marks a parameter without a default


def bind(cx, node, params):
    """Maps node.args/kwargs onto `params` [(name, default)]; returns {name: value}, defaults filled in."""
    names = [p for p, _ in params]
    if len(node.args) > len(params):
        raise cx.error(node, "called with %d positional arguments; kiln knows %d (%s)"
                       % (len(node.args), len(params), ", ".join(names)))
    out = dict(zip(names, node.args))
    for key, value in node.kwargs.items():
        if key not in names:
            raise cx.error(node, "keyword argument `%s` is not supported (known: %s)" % (key, ", ".join(names)))
        out[key] = value
    for pname, default in params:
        if pname not in out:
            if default is REQ:
                raise cx.error(node, "argument `%s` is missing" % pname)
            out[pname] = default
    return out


def module_input(cx, node):
    """The one tensor a leaf module is called with."""
    if len(node.args) != 1 or node.kwargs:
        raise cx.error(node, "called with %d arguments and keywords %s; kiln supports one input tensor"
                       % (len(node.args), sorted(node.kwargs)))
    return cx.tensor_arg(node, node.args[0])


def as_int(cx, node, value, what):
    value = cx.const(node, value, what)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise cx.error(node, "%s must be an integer, found %r" % (what, value))
    return value


def as_float(cx, node, value, what):
    value = cx.const(node, value, what)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise cx.error(node, "%s must be a finite number, found %r" % (what, value))
    return float(value)


def pair(cx, node, value, what):
    """[h, w] from an int or a 1- or 2-element sequence of ints."""
    value = cx.const(node, value, what)
    if isinstance(value, (list, tuple)) and len(value) in (1, 2):
        items = list(value) * (3 - len(value))
    elif isinstance(value, (list, tuple)):
        raise cx.error(node, "%s must be an integer or a pair, found %r" % (what, value))
    else:
        items = [value, value]
    return [as_int(cx, node, v, what) for v in items[:2]]


def require(cx, node, condition, what):
    if not condition:
        raise cx.error(node, what)


def need_rank(cx, node, x, ranks, op):
    shape = cx.shape(x)
    if len(shape) not in ranks:
        raise cx.error(node, "kiln's %s takes a %s-D input, found shape %s"
                       % (op, " or ".join(str(r) for r in ranks), list(shape)))
    return shape


def put_pair(attrs, key, value, default):
    """Writes an optional pair attribute only when it differs from the spec's default."""
    if value != [default, default]:
        attrs[key] = value


# --- lowerings shared by module and functional forms -----------------------------------------------

def unary(cx, node, op, x, attrs=None, inplace=False):
    cx.emit(node, op, [x], attrs)
    if inplace:
        cx.overwrote(node, x)


def hardtanh(cx, node, x, min_val, max_val, inplace=False):
    """hardtanh = clamp(x, min_val, max_val); the bounds 0 and 6 are written as relu6, its usual name."""
    lo, hi = as_float(cx, node, min_val, "min_val"), as_float(cx, node, max_val, "max_val")
    require(cx, node, lo <= hi, "min_val %r is greater than max_val %r; kiln's hardtanh needs min_val <= max_val"
            % (lo, hi))
    if (lo, hi) == (0.0, 6.0):
        unary(cx, node, "relu6", x, None, inplace)
    else:
        unary(cx, node, "hardtanh", x, OrderedDict([("min_val", lo), ("max_val", hi)]), inplace)


def gelu(cx, node, x, approximate):
    approximate = cx.const(node, approximate, "approximate")
    require(cx, node, approximate in ("none", "tanh"),
            "approximate=%r is not supported; kiln's gelu takes 'none' (erf) or 'tanh'" % (approximate,))
    unary(cx, node, "gelu", x, {"approximate": "tanh"} if approximate == "tanh" else None)


def softplus(cx, node, x, beta, threshold):
    beta, threshold = as_float(cx, node, beta, "beta"), as_float(cx, node, threshold, "threshold")
    require(cx, node, beta > 0, "beta=%r is not supported; kiln's softplus needs beta > 0" % beta)
    unary(cx, node, "softplus", x, OrderedDict([("beta", beta), ("threshold", threshold)]))


def prelu(cx, node, x, weight):
    """One slope shared by every channel, or one per channel (dim 1; a 1-D input has one channel)."""
    shape = cx.shape(x)
    channels = shape[1] if len(shape) >= 2 else 1
    n = weight.numel()
    require(cx, node, weight.dim() <= 1 and n in (1, channels),
            "weight of shape %s does not fit an input of %d channels; kiln's prelu takes 1 slope or one per channel"
            % (list(weight.shape), channels))
    cx.emit(node, "prelu", [x], {"num_parameters": n}, {"weight": weight.detach().reshape(n)})


def linear(cx, node, x, weight, bias):
    shape = cx.shape(x)
    if len(shape) != 2:
        raise cx.error(node, "kiln's linear takes a 2-D input [N, in_features], found shape %s (flatten first)"
                       % list(shape))
    require(cx, node, weight.dim() == 2 and weight.shape[1] == shape[1],
            "weight of shape %s does not fit an input of %d features" % (list(weight.shape), shape[1]))
    cx.emit(node, "linear", [x], {"out_features": int(weight.shape[0])}, {"weight": weight, "bias": bias})


def reshape(cx, node, x):
    """view/reshape/flatten: kiln keeps the flatten to [N, C*H*W], the views of a channel shuffle
    (ops_channels.shuffle_reshape) and drops reshapes that change nothing."""
    from . import ops_channels  # imports this module
    if ops_channels.shuffle_reshape(cx, node, x):
        return
    shape, out = cx.shape(x), cx.shape(node)
    rest = 1
    for d in shape[1:]:
        rest *= d
    if tuple(out) == tuple(shape):
        cx.alias(node, x)
    elif len(shape) >= 2 and tuple(out) == (shape[0], rest):
        cx.emit(node, "flatten", [x])
    else:
        raise cx.error(node, "reshape from %s to %s is not supported; kiln only flattens to [N, C*H*W] and takes "
                             "the views of a channel shuffle, x.view(N, g, C/g, H, W).transpose(1, 2).view(N, C, H, W)"
                       % (list(shape), list(out)))


def softmax(cx, node, x, dim, dtype=None):
    shape = need_rank(cx, node, x, (2, 4), "softmax")
    require(cx, node, cx.const(node, dtype, "dtype") is None, "dtype= is not supported")
    dim = cx.const(node, dim, "dim")
    dim = 1 if dim is None else as_int(cx, node, dim, "dim") % len(shape)  # dim=None means 1 for 2-D/4-D
    require(cx, node, dim == 1, "softmax over dim %d is not supported; kiln's softmax is over channels (dim 1)" % dim)
    cx.emit(node, "softmax", [x], {"axis": 1})


def concat(cx, node, tensors, dim):
    require(cx, node, isinstance(tensors, (list, tuple)) and len(tensors) >= 1,
            "concatenating %r is not supported; kiln concatenates a list of tensors" % (tensors,))
    rank = len(cx.shape(cx.tensor_arg(node, tensors[0])))
    dim = as_int(cx, node, dim, "dim") % rank
    require(cx, node, dim == 1, "concatenation along dim %d is not supported; kiln concatenates channels (dim 1)"
            % dim)
    if len(tensors) == 1:
        cx.alias(node, tensors[0])
    else:
        cx.emit(node, "concat", tensors, {"axis": 1})


def lrn(cx, node, x, size, alpha, beta, k):
    need_rank(cx, node, x, (4,), "lrn")
    cx.emit(node, "lrn", [x], {"size": as_int(cx, node, size, "size"), "alpha": as_float(cx, node, alpha, "alpha"),
                               "beta": as_float(cx, node, beta, "beta"), "k": as_float(cx, node, k, "k")})


def dropout(cx, node, x, p, training):
    if cx.const(node, training, "training") and as_float(cx, node, p, "p") > 0:
        raise cx.error(node, "dropout with training=True drops activations at inference too; "
                             "pass training=self.training")
    cx.alias(node, x)
