"""Lowering of tensor ops along the channel dimension (slicing, chunk/split, channel shuffle) to kiln ops.
FUNCTIONS and METHODS use ops_functions.py's table format.

channel_slice (formats/README.md, "Ops") takes the forms that pick a range of channels (dim 1, step 1):
x[:, a:b] (operator.getitem with only dim 1 sliced), narrow(1, start, length), and the pieces of
chunk()/split() along dim 1. A chunk/split node itself yields a tuple: its handler records each piece's
channel range in node.meta["kiln_pieces"] and the getitem that picks a piece emits the slice (a piece
spanning every channel is the input itself).

channel_shuffle is PyTorch's pattern x.view(N, g, C/g, H, W) -> transpose(1, 2) (or permute(0, 2, 1, 3, 4))
-> [contiguous()] -> view(N, C, H, W) (or reshape, or flatten(1, 2)), plus F.channel_shuffle and
nn.ChannelShuffle (trace.py traces into it). kiln has no 5-D tensors: the first view checks at once that
only such a chain reads it (Note [channel shuffle chain]) and stands for its input; the transpose and
contiguous() do the same; the last reshape emits the one layer (ops_common.reshape).
"""
import operator

import torch
import torch.nn.functional as F

from . import ops_common as c
from .graph import TENSOR, TENSORS
from .ops_common import REQ

X = ("input", REQ)
SHUFFLE = "kiln_shuffle"  # node.meta key: (stage, groups), stage "split" (the 5-D view) or "transposed"


# --- channel ranges ---------------------------------------------------------------------------------

def _dim(cx, node, dim, rank, what):
    d = c.as_int(cx, node, dim, "dim")
    c.require(cx, node, -rank <= d < rank, "dim %d is out of range for a %d-D tensor" % (d, rank))
    d %= rank
    c.require(cx, node, d == 1, "%s along dim %d is not supported; kiln slices channels (dim 1) only" % (what, d))


def _writes_in_place(cx, user, arg):
    """True when `user` overwrites `arg` in place: x.relu_(), x += y, F.relu(x, inplace=True),
    nn.ReLU(inplace=True)."""
    if not user.args or user.args[0] is not arg:
        return False
    if user.op == "call_method":
        return user.target.endswith("_") and not user.target.startswith("_")
    if user.op == "call_module":
        return bool(getattr(cx.modules[user.target], "inplace", False))
    if user.op == "call_function":
        name = getattr(user.target, "__name__", "")
        if user.target in (operator.iadd, operator.isub, operator.imul, operator.itruediv):
            return True
        return (name.endswith("_") and not name.startswith("_")) or user.kwargs.get("inplace") is True
    return False


def _refuse_aliased_writes(cx, node, x):
    """A PyTorch slice shares its input's memory, a kiln slice is a copy: refuse an in-place write into the
    slice, or into its input after the slice was taken, which PyTorch would show through the other."""
    order = {n: i for i, n in enumerate(cx.gm.graph.nodes)}
    for user in node.users:
        if _writes_in_place(cx, user, node):
            raise cx.error(node, "node `%s` overwrites this channel slice in place, which PyTorch also writes into "
                                 "the sliced tensor; kiln's slice is a copy (write out of place instead)" % user.name)
    for user in x.users:
        if order[user] > order[node] and _writes_in_place(cx, user, x):
            raise cx.error(node, "node `%s` overwrites the sliced tensor in place after this slice was taken, which "
                                 "PyTorch shows through the slice; kiln's slice is a copy" % user.name)


def channel_range(cx, node, x, start, end):
    """Emits channel_slice of channels [start, end) of `x` (the whole range is `x` itself)."""
    channels = cx.shape(x)[1]
    c.require(cx, node, 0 <= start < end <= channels,
              "the channel range [%d, %d) of %d channels is empty; kiln's channel_slice needs at least one channel"
              % (start, end, channels))
    _refuse_aliased_writes(cx, node, x)
    if (start, end) == (0, channels):
        cx.alias(node, x)
    else:
        cx.emit(node, "channel_slice", [x], {"start": start, "end": end})


def _pieces(cx, node, a, how):
    """chunk/split: records each piece's channel range (PyTorch's own rule, computed on an empty tensor)."""
    x = cx.tensor_arg(node, a["input"])
    shape = cx.shape(x)
    _dim(cx, node, a["dim"], len(shape), how)
    arg = cx.const(node, a["arg"], "the piece count or sizes")
    try:
        probe = torch.empty(shape[1], 0)
        sizes = [p.shape[0] for p in (probe.chunk(arg, 0) if how == "chunk" else probe.split(arg, 0))]
    except (RuntimeError, TypeError, ValueError) as e:
        raise cx.error(node, "%s(%r) of %d channels: %s" % (how, arg, shape[1], e)) from e
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    node.meta["kiln_pieces"] = [(s, s + n) for s, n in zip(starts, sizes)]
    node.meta["kiln_pieces_of"] = x
    cx.alias(node, x)  # stands for the tuple; only a getitem picking a piece reads it (convert checks kinds)


def _chunk(cx, node, a):
    _pieces(cx, node, {"input": a["input"], "arg": a["chunks"], "dim": a["dim"]}, "chunk")


def _split(cx, node, a):
    _pieces(cx, node, {"input": a["input"], "arg": a["split_size"], "dim": a["dim"]}, "split")


def _narrow(cx, node, a):
    x = cx.tensor_arg(node, a["input"])
    shape = cx.shape(x)
    _dim(cx, node, a["dim"], len(shape), "narrow")
    start, length = c.as_int(cx, node, a["start"], "start"), c.as_int(cx, node, a["length"], "length")
    start = start + shape[1] if start < 0 else start
    channel_range(cx, node, x, start, start + length)


def _full(s):
    return isinstance(s, slice) and s.start is None and s.stop is None and s.step is None


def _getitem(cx, node, a):
    seq, index = a["a"], a["b"]
    if isinstance(seq, torch.fx.Node) and cx.kind(seq) == TENSORS:
        pieces = seq.meta.get("kiln_pieces")
        if pieces is None:
            raise cx.error(node, "indexing the result of `%s` is not supported; kiln picks pieces of chunk() and "
                                 "split() along channels" % seq.name)
        i = cx.const(node, index, "index")
        c.require(cx, node, isinstance(i, int) and not isinstance(i, bool) and -len(pieces) <= i < len(pieces),
                  "index %r does not pick one of the %d pieces" % (i, len(pieces)))
        channel_range(cx, node, seq.meta["kiln_pieces_of"], *pieces[i])
        return
    x = cx.tensor_arg(node, seq, "the indexed tensor")
    shape = cx.shape(x)
    index = index if isinstance(index, tuple) else (index,)
    index = tuple(slice(*(cx.const(node, v, "a slice bound") for v in (s.start, s.stop, s.step)))
                  if isinstance(s, slice) else cx.const(node, s, "index") for s in index)
    if index and index[-1] is Ellipsis:
        index = index[:-1]
    fail = ("indexing with %r is not supported; kiln takes x[:, a:b] (a range of channels, step 1, every other "
            "dimension whole)" % (index,))
    c.require(cx, node, 2 <= len(index) <= len(shape) and all(isinstance(s, slice) for s in index), fail)
    for d, s in enumerate(index):
        if d != 1 and not _full(s):
            raise cx.error(node, "slicing dimension %d is not supported; kiln slices channels (dim 1) only" % d)
    s = index[1]
    c.require(cx, node, s.step in (None, 1), "a slice step of %r is not supported; kiln's channel_slice has step 1"
              % (s.step,))
    start, end, _ = s.indices(shape[1])
    channel_range(cx, node, x, start, end)


# --- channel shuffle (Note [channel shuffle chain]) ------------------------------------------------

def _swap(cx, node):
    """The permutation a transpose/permute node applies, or None for another node."""
    names = {"transpose": 2, "swapaxes": 2, "swapdims": 2, "permute": 0}
    if node.op == "call_method" and node.target in names:
        rest = node.args[1:]
        kind = node.target
    elif node.op == "call_function" and node.target in _FUNCTION_SWAPS:
        rest = node.args[1:]
        kind = _FUNCTION_SWAPS[node.target]
    else:
        return None
    rest = list(cx.const(node, list(rest) + list(node.kwargs.values()), "dims"))
    rank = len(cx.shape(node))
    if kind == "permute":
        perm = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
        return tuple(int(p) % rank for p in perm)
    if len(rest) != 2:
        return None
    d0, d1 = (int(d) % rank for d in rest)
    perm = list(range(rank))
    perm[d0], perm[d1] = d1, d0
    return tuple(perm)


_FUNCTION_SWAPS = {torch.transpose: "transpose", torch.permute: "permute"}
for _name in ("swapaxes", "swapdims"):
    if hasattr(torch, _name):
        _FUNCTION_SWAPS[getattr(torch, _name)] = "transpose"

_RESHAPES = ("view", "reshape", "flatten")


def _is_reshape(node):
    return (node.op == "call_method" and node.target in _RESHAPES) or \
        (node.op == "call_function" and node.target in (torch.flatten, torch.reshape))


def _chain_error(cx, start, user):
    out = cx.shape(start)
    return cx.error(start, "a reshape to %s is supported only as the start of a channel shuffle, x.view(N, g, C/g, "
                           "H, W).transpose(1, 2)[.contiguous()].view(N, C, H, W) (here g = %d); `%s` reads it "
                           "otherwise" % (list(out), out[1], "the output" if user.op == "output" else user.name))


def _check_chain(cx, start, source_shape):
    """Note [channel shuffle chain]: every reader of the 5-D view `start` must be a transpose of dims 1 and 2
    whose readers are contiguous() (any number) ending in a reshape back to `source_shape`; else an error
    naming the node that reads it otherwise. Checked at the view, so no layer ever reads a 5-D value."""
    def after_transpose(node):
        for user in node.users:
            if user.op == "call_method" and user.target == "contiguous":
                after_transpose(user)
            elif not (_is_reshape(user) and tuple(cx.shape(user)) == tuple(source_shape)):
                raise _chain_error(cx, start, user)
    for user in start.users:
        if _swap(cx, user) != (0, 2, 1, 3, 4):
            raise _chain_error(cx, start, user)
        after_transpose(user)


def shuffle_reshape(cx, node, x):
    """ops_common.reshape's part: returns True when `node` is a step of a channel shuffle it handled."""
    shape, out = cx.shape(x), cx.shape(node)
    pending = x.meta.get(SHUFFLE)
    if pending is not None:
        stage, groups = pending
        n, per, g = shape[0], shape[1], shape[2]
        if stage != "transposed" or tuple(out) != (n, per * g) + tuple(shape[3:]):
            raise cx.error(node, "reshape from %s to %s inside a channel shuffle is not supported" %
                           (list(shape), list(out)))
        cx.emit(node, "channel_shuffle", [x], {"groups": groups})  # x stands for the 4-D input
        return True
    if len(shape) == 4 and len(out) == 5 and out[0] == shape[0] and out[1] * out[2] == shape[1] and \
            tuple(out[3:]) == tuple(shape[2:]):
        _check_chain(cx, node, shape)
        node.meta[SHUFFLE] = ("split", out[1])
        cx.alias(node, x)
        return True
    return False


def _transpose(cx, node, a):
    x = cx.tensor_arg(node, a["input"])
    pending = x.meta.get(SHUFFLE)
    if pending is None or pending[0] != "split":
        raise cx.error(node, "this %s is not supported outside a channel shuffle: kiln takes transpose/permute only "
                             "as x.view(N, g, C/g, H, W).transpose(1, 2)..., not on this %d-D tensor"
                       % ("method" if node.op == "call_method" else "function", len(cx.shape(x))))
    node.meta[SHUFFLE] = ("transposed", pending[1])  # _check_chain verified the permutation and its readers
    cx.alias(node, x)


def pass_through(cx, node, a):
    """contiguous(): its readers read its input (a step of a channel shuffle stays one)."""
    x = cx.tensor_arg(node, a["input"])
    if SHUFFLE in x.meta:
        node.meta[SHUFFLE] = x.meta[SHUFFLE]
    cx.alias(node, x)


def _channel_shuffle(cx, node, a):
    x = cx.tensor_arg(node, a["input"])
    shape = c.need_rank(cx, node, x, (3, 4), "channel_shuffle")
    groups = c.as_int(cx, node, a["groups"], "groups")
    c.require(cx, node, groups >= 1 and shape[1] % groups == 0,
              "groups %d does not divide the input's %d channels" % (groups, shape[1]))
    cx.emit(node, "channel_shuffle", [x], {"groups": groups})


_CHUNK = [X, ("chunks", REQ), ("dim", 0)]
_SPLIT = [X, ("split_size", REQ), ("dim", 0)]
_NARROW = [X, ("dim", REQ), ("start", REQ), ("length", REQ)]

FUNCTIONS = [
    ("torch.chunk", _CHUNK, _chunk),
    ("torch.split", [("tensor", REQ), ("split_size_or_sections", REQ), ("dim", 0)],
     lambda cx, node, a: _split(cx, node, {"input": a["tensor"], "split_size": a["split_size_or_sections"],
                                           "dim": a["dim"]})),
    ("torch.narrow", _NARROW, _narrow),
    ("operator.getitem", [("a", REQ), ("b", REQ)], _getitem),
    ("torch.transpose", [X, ("dim0", REQ), ("dim1", REQ)], _transpose),
    ("torch.swapaxes", [X, ("axis0", REQ), ("axis1", REQ)], _transpose),
    ("torch.swapdims", [X, ("dim0", REQ), ("dim1", REQ)], _transpose),
    ("torch.permute", [X, ("dims", REQ)], _transpose),
    ("F.channel_shuffle", [X, ("groups", REQ)], _channel_shuffle),
    ("torch.channel_shuffle", [X, ("groups", REQ)], _channel_shuffle),
]

# Tensor methods: the tensor itself is the first parameter, "input".
METHODS = [
    ("chunk", _CHUNK, _chunk),
    ("split", _SPLIT, _split),
    ("narrow", _NARROW, _narrow),
    ("transpose", [X, ("dim0", REQ), ("dim1", REQ)], _transpose),
    ("swapaxes", [X, ("axis0", REQ), ("axis1", REQ)], _transpose),
    ("swapdims", [X, ("dim0", REQ), ("dim1", REQ)], _transpose),
]


def permute_method(cx, node, a):
    """x.permute(...), whose dims are varargs or one sequence (_swap reads them from the node)."""
    _transpose(cx, node, a)
