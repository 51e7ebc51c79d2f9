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


class _Tracer(fx.Tracer):
    """fx.Tracer that records, for every node, the module path it was created in and the user's line."""

    def __init__(self):
        super().__init__()
        self._scope = []

    def call_module(self, m, forward, args, kwargs):
        try:
            path = self.path_of_module(m)
        except NameError:  # a module not registered as a submodule: keep the enclosing scope
            path = self._scope[-1] if self._scope else ""
        self._scope.append(path)
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self._scope.pop()

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta["kiln_scope"] = self._scope[-1] if self._scope else ""
        node.meta["kiln_where"] = _user_line()
        return node


def trace(model):
    tracer = _Tracer()
    try:
        graph = tracer.trace(model)
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
