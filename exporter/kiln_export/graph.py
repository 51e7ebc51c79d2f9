"""The kiln graph being built from a torch.fx graph, and the context that op handlers (ops_*.py) use.

Note [in-place ops]: an fx node such as relu(x, inplace=True) or x.add_(y) overwrites x's tensor.
In the kiln graph it is a new layer; every later reader of x must read that layer instead. `latest`
maps a kiln tensor name to the layer that last overwrote it, and name_of() follows it, so the graph
keeps PyTorch's meaning. Golden values are cloned when each node runs, before any later overwrite.
"""
import re
from collections import OrderedDict

import torch
from torch import fx

from .errors import ExportError
from . import names as names_mod
from .names import NameTable

TENSOR, TENSORS, VALUE = "tensor", "tensors", "value"


class Layer:
    """One kiln layer. `weights` maps role -> torch tensor; `value_node` is the fx node whose value is the
    layer's output (the BatchNorm's after folding). weight_names is filled when the model is written."""

    def __init__(self, name, op, inputs, attributes, weights, value_node):
        self.name = name
        self.op = op
        self.inputs = inputs
        self.attributes = attributes
        self.weights = weights
        self.value_node = value_node
        self.weight_names = OrderedDict()
        # The shape of kiln's output when it differs from value_node's PyTorch value only in dims of 1
        # (a reduction without keepdim: kiln's pooled [N, C, 1, 1] for PyTorch's [N, C]); golden layers
        # are written in it. None: the value's own shape.
        self.golden_shape = None
        # The permutation that takes value_node's PyTorch value to kiln's layout (a layer computed on a
        # channels-last view: PyTorch's NHWC value, kiln's NCHW tensor: (0, 3, 1, 2)); None: as it is.
        self.golden_permute = None


def _qualified(target):
    try:
        name = fx.node._get_qualified_name(target)
    except Exception:  # noqa: BLE001 - private helper; any failure falls back to the plain name
        name = getattr(target, "__name__", repr(target))
    return name.replace("_operator.", "operator.").replace("torch._C._nn.", "torch.nn.functional.")


def module_type_name(module):
    t = type(module)
    mod = "torch.nn" if t.__module__.startswith("torch.nn.modules") else t.__module__
    return "%s.%s" % (mod, t.__qualname__)


class Converter:
    """State shared by the op handlers while the fx graph is walked in execution order."""

    def __init__(self, gm):
        self.gm = gm
        self.modules = dict(gm.named_modules())
        self.names = NameTable()
        self.value = {}  # fx node -> kiln tensor name
        self.latest = {}  # kiln tensor name -> name of the layer that overwrote it (Note [in-place ops])
        self.layers = []
        self.layer_by_name = {}
        self.inputs = []  # (name, shape, placeholder node)
        # fx node -> kiln tensor whose NCHW value the node holds as NHWC (Note [channels-last views],
        # ops_channels_last.py). Such a node's value is also in `value`, but name_of() refuses it.
        self.channels_last = {}

    # --- messages -------------------------------------------------------------------------------
    def where(self, node):
        if node.op == "call_module":
            text = "module `%s` (%s)" % (node.target, module_type_name(self.modules[node.target]))
        else:
            if node.op == "call_method":
                text = "method `Tensor.%s` (node `%s`" % (node.target, node.name)
            else:
                text = "`%s` (node `%s`" % (_qualified(node.target), node.name)
            scope = node.meta.get("kiln_scope")
            text += ", in module `%s`)" % scope if scope else ")"
        frame = _user_frame(node)
        return text + (" at " + frame if frame else "")

    def error(self, node, what):
        return ExportError("%s: %s" % (self.where(node), what))

    # --- values ---------------------------------------------------------------------------------
    def kind(self, arg):
        return arg.meta.get("kiln_kind") if isinstance(arg, fx.Node) else VALUE

    def shape(self, arg):
        return tuple(arg.meta["kiln_shape"])

    def const(self, node, value, what):
        """`value` with every fx node in it replaced by the constant it computed (shape arithmetic)."""
        if isinstance(value, fx.Node):
            if self.kind(value) != VALUE:
                raise self.error(node, "%s is a tensor computed in the graph; kiln needs a constant" % what)
            value = value.meta["kiln_value"]
        if isinstance(value, torch.Size):
            value = tuple(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.const(node, v, what) for v in value)
        return value

    def tensor_arg(self, node, arg, what="input"):
        if not isinstance(arg, fx.Node) or self.kind(arg) != TENSOR:
            raise self.error(node, "%s must be a tensor computed by the model, found %r" % (what, arg))
        return arg

    def parameter(self, node, arg, what):
        """The tensor a get_attr node reads (a parameter or buffer passed to a functional op)."""
        if not isinstance(arg, fx.Node) or arg.op != "get_attr":
            raise self.error(node, "%s must be a parameter or buffer of the model, found %r" % (what, arg))
        obj = self.gm
        for part in arg.target.split("."):
            obj = getattr(obj, part)
        if not isinstance(obj, torch.Tensor):
            raise self.error(node, "%s `%s` is not a tensor" % (what, arg.target))
        return obj

    def name_of(self, node, arg):
        """The kiln tensor that holds `arg`'s value now (Note [in-place ops])."""
        if arg not in self.value:
            if arg.op == "get_attr":
                raise self.error(node, "reads the parameter or buffer `%s` directly; kiln takes weights only "
                                       "from supported modules (nn.Conv2d, nn.Linear, ...)" % arg.target)
            raise self.error(node, "reads `%s`, which kiln could not convert" % arg.name)
        if arg in self.channels_last:
            from . import ops_channels_last  # imports this module
            raise self.error(node, ops_channels_last.refusal(arg))
        name = self.value[arg]
        while name in self.latest:
            name = self.latest[name]
        return name

    # --- building -------------------------------------------------------------------------------
    def add_input(self, node, shape):
        name = self.names.take(str(node.target).lstrip("*"))
        self.value[node] = name
        self.inputs.append((name, tuple(shape), node))

    def emit(self, node, op, inputs, attributes=None, weights=None):
        """Adds a layer computing `node`; `inputs` are fx nodes. Returns the Layer."""
        if any(x in self.channels_last for x in inputs):
            from . import ops_channels_last  # imports this module
            return ops_channels_last.emit_on_views(self, node, op, inputs, attributes, weights)
        names = [self.name_of(node, self.tensor_arg(node, x)) for x in inputs]
        return self.emit_names(node, op, names, attributes, weights)

    def emit_names(self, node, op, names, attributes=None, weights=None):
        """emit() with the kiln tensors it reads given by name (the sources of channels-last views)."""
        name = self.names.take(_layer_base_name(node))
        w = OrderedDict((k, v) for k, v in (weights or {}).items() if v is not None)
        layer = Layer(name, op, names, OrderedDict(attributes or {}), w, node)
        self.layers.append(layer)
        self.layer_by_name[name] = layer
        self.value[node] = name
        return layer

    def alias(self, node, src):
        """`node` computes nothing kiln needs (dropout, identity): its readers read `src` (a channels-last
        view stays one)."""
        if src in self.channels_last:
            self.view(node, self.view_source(node, src))
            return
        self.value[node] = self.name_of(node, self.tensor_arg(node, src))

    def view(self, node, name):
        """`node`'s value is kiln tensor `name` (NCHW) viewed as NHWC (Note [channels-last views])."""
        self.value[node] = name
        self.channels_last[node] = name

    def view_source(self, node, arg):
        """The kiln tensor (NCHW) that the channels-last view `arg` holds now (Note [in-place ops])."""
        name = self.channels_last[self.tensor_arg(node, arg)]
        while name in self.latest:
            name = self.latest[name]
        return name

    def rename_layer(self, old, wanted):
        """Renames layer `old` to `wanted` (sanitized) everywhere it is read, for outputs named after dict
        keys; returns the new name. Another layer holding that name moves aside (suffix _1, _2, ...); a model
        input keeps its name and the output gets the suffix instead."""
        wanted = names_mod.sanitize(wanted)
        if wanted == old:
            return old
        holder = self.layer_by_name.get(wanted)
        if holder is not None:
            self._move(wanted, self.names.take(wanted))
            new = wanted
        else:
            new = self.names.take(wanted)  # free, or an input's name (then suffixed)
        self._move(old, new)
        return new

    def _move(self, old, new):
        layer = self.layer_by_name.pop(old)
        layer.name = new
        self.layer_by_name[new] = layer
        for other in self.layers:
            other.inputs = [new if n == old else n for n in other.inputs]
        for node, name in self.value.items():
            if name == old:
                self.value[node] = new
        for node, name in self.channels_last.items():
            if name == old:
                self.channels_last[node] = new
        self.latest = {(new if k == old else k): (new if v == old else v) for k, v in self.latest.items()}

    def overwrote(self, node, target):
        """`node` overwrote `target`'s tensor in place (Note [in-place ops])."""
        self.latest[self.name_of(node, target)] = self.value[node]

    def sole_producer(self, node, arg, ops):
        """The layer that computed `arg` if it is one of `ops`, was emitted for `arg` itself, was not
        overwritten in place, and `node` is the only reader of its data; else None. For BN folding."""
        name = self.value.get(arg)
        layer = self.layer_by_name.get(name)
        if layer is None or layer.op not in ops or layer.value_node is not arg or name in self.latest:
            return None
        readers = [u for u in arg.users if u.op == "output" or self.kind(u) != VALUE]
        return layer if readers == [node] else None


def _layer_base_name(node):
    if node.op == "call_module":
        return node.target
    base = re.sub(r"_[0-9]+$", "", node.name)
    scope = node.meta.get("kiln_scope")
    return scope + "." + base if scope else base


def _user_frame(node):
    return node.meta.get("kiln_where", "")
