"""Tracing with torch.fx and running the traced graph once to learn every node's shape (ShapeProp)."""
import os
import sys

import torch
from torch import fx
from torch.fx.passes.shape_prop import ShapeProp

from .errors import ExportError
from .graph import TENSOR, TENSORS, VALUE

_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
_THIS_FILE = os.path.abspath(__file__)


def _user_line():
    """'file.py:12' of the innermost frame of the model's own code (outside torch, inside the trace), for
    messages; "" when only torch's code (nn.Sequential, say) is running."""
    f = sys._getframe(2)
    while f is not None and f.f_code is not trace.__code__:
        path = os.path.abspath(f.f_code.co_filename)
        if not path.startswith(_TORCH_DIR) and path != _THIS_FILE and not f.f_code.co_filename.startswith("<"):
            return "%s:%d" % (path, f.f_lineno)
        f = f.f_back
    return ""


_UNKNOWN = object()  # a node whose concrete value the tracer could not compute

# Calls whose non-tensor result depends only on their tensors' shapes and types, not on the data.
_METADATA_METHODS = frozenset(["size", "dim", "ndimension", "numel", "nelement", "is_contiguous", "is_floating_point",
                               "element_size", "get_device", "stride", "is_complex"])
_METADATA_ATTRIBUTES = frozenset(["shape", "ndim", "dtype", "device", "is_cuda", "layout", "requires_grad",
                                  "is_quantized"])
_METADATA_FUNCTIONS = (len, torch.numel, torch.is_tensor, isinstance)


def _reads_only_metadata(node):
    if node.op == "call_method":
        return node.target in _METADATA_METHODS
    if node.op == "call_function" and node.target is getattr:
        return len(node.args) >= 2 and node.args[1] in _METADATA_ATTRIBUTES
    return node.op == "call_function" and any(node.target is f for f in _METADATA_FUNCTIONS)


def _describe(node):
    """'node `gt` (in module `block`) at net.py:12', for messages."""
    scope = node.meta.get("kiln_scope")
    where = node.meta.get("kiln_where")
    return "node `%s`%s%s" % (node.name, " (in module `%s`)" % scope if scope else "", " at " + where if where else "")


class _ShapeAware:
    """Proxy behaviour for Python that asks a traced value for a number, a length or a truth value: the
    tracer answers from the concrete value it computed for the example input (Note [concrete tracing])."""

    def __getattr__(self, k):
        return _Attribute(self, k)

    def __len__(self):
        return self.tracer.concrete_length(self)

    def __iter__(self):
        # fx's own __iter__ reads the caller's bytecode for UNPACK_SEQUENCE, which differs between Python
        # versions (on 3.11 it misses, or fails when the caller is C code such as list()): always ask the tracer.
        return self.tracer.iter(self)

    def __index__(self):
        return self.tracer.concrete_int(self, exact=True)

    def __int__(self):
        return self.tracer.concrete_int(self, exact=False)


class _Proxy(_ShapeAware, fx.Proxy):
    pass


class _Attribute(fx.proxy.Attribute, _Proxy):
    """fx's lazily recorded attribute (x.shape, or x.chunk before it is called), shape-aware too."""


class _Tracer(fx.Tracer):
    """fx.Tracer that records, for every node, the module path it was created in and the user's line.

    Note [concrete tracing]: given the example inputs, it also runs every node on real tensors as the node
    is recorded (what eager PyTorch computes for them, in-place changes included), so Python in forward
    that depends only on shapes, fixed at export, follows the example: unpacking or looping over chunk()/
    split() results and x.size(), `if x.shape[1] != y.shape[1]`, range(x.size(1)), len(pieces). A truth
    value or number computed from tensor data (x.sum() > 0, x.max().item()) is refused, naming the node:
    kiln's graph is fixed. While a node runs (`_running`), fx's patched nn.Module.__call__ and __getattr__
    reach call_module/getattr here, which then call the real module and return the real attribute, so
    nothing is recorded.
    """

    def __init__(self, example_inputs=None):
        super().__init__()
        self._scope = []
        self._examples = None if example_inputs is None else [x.clone() for x in example_inputs]
        self._placeholders = 0
        self._values = {}  # fx node -> concrete value, or _UNKNOWN
        self._from_data = set()  # nodes whose non-tensor value was computed from tensor data
        self._running = 0
        self._leaf_forwards = []  # the real forward of each leaf module being recorded, innermost last

    def call_module(self, m, forward, args, kwargs):
        if self._running:
            return forward(*args, **kwargs)
        try:
            path = self.path_of_module(m)
        except NameError:  # a module not registered as a submodule: keep the enclosing scope
            path = self._scope[-1] if self._scope else ""
        self._scope.append(path)
        self._leaf_forwards.append(forward)
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self._leaf_forwards.pop()
            self._scope.pop()

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if self._running:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def is_leaf_module(self, m, module_qualified_name):
        # nn.ChannelShuffle is traced through, to the F.channel_shuffle call kiln lowers.
        if type(m).__name__ == "ChannelShuffle" and type(m).__module__.startswith("torch.nn"):
            return False
        return super().is_leaf_module(m, module_qualified_name)

    def proxy(self, node):
        return _Proxy(node, self)

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta["kiln_scope"] = self._scope[-1] if self._scope else ""
        node.meta["kiln_where"] = _user_line()
        return node

    def create_proxy(self, kind, target, args, kwargs, *rest, **more):
        proxy = super().create_proxy(kind, target, args, kwargs, *rest, **more)
        if self._examples is not None:
            self._record(proxy.node)
        return proxy

    # --- concrete values (Note [concrete tracing]) --------------------------------------------------
    def _value_of(self, node):
        value = self._values.get(node, _UNKNOWN)
        if value is _UNKNOWN and node.op == "get_attr":  # parameters and constants fx created directly
            value = self.root
            for part in node.target.split("."):
                value = getattr(value, part, _UNKNOWN)
                if value is _UNKNOWN:
                    break
        if value is _UNKNOWN:
            raise LookupError(node.name)
        return value

    def _record(self, node):
        if node.op == "placeholder":
            i, self._placeholders = self._placeholders, self._placeholders + 1
            self._values[node] = self._examples[i] if i < len(self._examples) else _UNKNOWN
            return
        inputs = []
        fx.node.map_arg((node.args, node.kwargs), inputs.append)
        self._running += 1
        try:
            args, kwargs = fx.node.map_arg((node.args, node.kwargs), self._value_of)
            with torch.no_grad():
                if node.op == "call_function":
                    value = node.target(*args, **kwargs)
                elif node.op == "call_method":
                    value = getattr(args[0], node.target)(*args[1:], **kwargs)
                elif node.op == "call_module":
                    value = self._leaf_forwards[-1](*args, **kwargs)
                else:  # get_attr
                    value = self._value_of(node)
        except Exception:  # noqa: BLE001 - unknown only matters if Python later asks for this value
            value = _UNKNOWN
        finally:
            self._running -= 1
        self._values[node] = value
        if value is not _UNKNOWN and not _holds_tensor(value):
            if any(n in self._from_data for n in inputs) or (
                    not _reads_only_metadata(node) and any(_holds_tensor(self._values.get(n)) for n in inputs)):
                self._from_data.add(node)

    def _shape_only(self, proxy, use):
        """The concrete value of `proxy` for `use`, refusing one computed from tensor data."""
        node = proxy.node
        value = self._values.get(node, _UNKNOWN) if self._examples is not None else _UNKNOWN
        if value is _UNKNOWN:
            return _UNKNOWN
        if isinstance(value, torch.Tensor) or node in self._from_data:
            raise ExportError("%s is computed from tensor values and used as %s in Python; kiln exports a fixed "
                              "graph, so Python in forward may depend on shapes only" % (_describe(node), use))
        return value

    def to_bool(self, obj):
        value = self._shape_only(obj, "a truth value (if, while, and, or, bool())")
        return super().to_bool(obj) if value is _UNKNOWN else bool(value)

    def concrete_int(self, obj, exact):
        """int(obj) (exact=False: a float is truncated, as int() does) or operator.index(obj) (exact=True)."""
        value = self._shape_only(obj, "an integer (range(), an index, int())")
        if value is _UNKNOWN or isinstance(value, bool) or not isinstance(value, (int, float) if not exact else int):
            raise TypeError("%s is not %s known at trace time" % (_describe(obj.node), "a number" if not exact
                                                                   else "an integer"))
        return int(value)

    def _pieces(self, obj):
        """How many items iterating over `obj` gives: a tuple or list (chunk, split, unbind results), a
        torch.Size, or a tensor (along dim 0); their count depends only on shapes."""
        value = self._values.get(obj.node, _UNKNOWN) if self._examples is not None else _UNKNOWN
        if isinstance(value, torch.Tensor):
            return len(value) if value.dim() > 0 else None
        return len(value) if isinstance(value, (tuple, list)) else None

    def concrete_length(self, obj):
        n = self._pieces(obj)
        if n is None:
            raise TypeError("len() of %s, whose length is not known at trace time" % _describe(obj.node))
        return n

    def iter(self, obj):
        n = self._pieces(obj)
        if n is None:
            return super().iter(obj)
        return (obj[i] for i in range(n))


def trace(model, example_inputs=None):
    """A GraphModule of `model`'s forward, traced symbolically; with `example_inputs` (a tuple of tensors)
    shape-dependent Python follows them (Note [concrete tracing])."""
    tracer = _Tracer(example_inputs)
    try:
        graph = tracer.trace(model)
    except ExportError as e:  # Python asked for a value computed from tensor data (Note [concrete tracing])
        raise ExportError("torch.fx could not trace %s: %s" % (type(model).__name__, e)) from e
    except Exception as e:  # noqa: BLE001 - any tracing failure becomes one clear ExportError
        raise ExportError("torch.fx could not trace %s: %s: %s (kiln exports a forward that is a fixed graph of "
                          "supported ops, without control flow that depends on tensor values)"
                          % (type(model).__name__, type(e).__name__, e)) from e
    return fx.GraphModule(tracer.root, graph, type(model).__name__)


def _holds_tensor(value):
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_tensor(v) for v in value.values())
    return False


class _Recorder(ShapeProp):
    """ShapeProp that also tags each node's kind and, when asked, keeps a copy of each tensor it computed.

    The copy is taken as the node runs, before any later in-place op can change it (graph.py,
    Note [in-place ops]).
    """

    def __init__(self, gm, keep_values):
        super().__init__(gm)
        self.keep_values = keep_values
        self.values = {}

    def run_node(self, n):
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            n.meta["kiln_kind"] = TENSOR
            n.meta["kiln_shape"] = tuple(result.shape)
            n.meta["kiln_dtype"] = result.dtype
            if self.keep_values:
                self.values[n] = result.detach().clone()
        elif _holds_tensor(result):
            n.meta["kiln_kind"] = TENSORS
        else:
            n.meta["kiln_kind"] = VALUE
            n.meta["kiln_value"] = result
        return result


def propagate(gm, inputs, keep_values):
    """Runs `gm` on `inputs` (not modified: clones are used); returns (output structure, {node: tensor})."""
    recorder = _Recorder(gm, keep_values)
    with torch.no_grad():
        try:
            out = recorder.propagate(*[x.clone() for x in inputs])
        except Exception as e:  # noqa: BLE001 - the eager model ran, so this is an fx/torch issue
            raise ExportError("running the traced graph failed: %s: %s" % (type(e).__name__, e)) from e
    return out, recorder.values
