"""Walks a traced, shape-propagated fx graph and builds the kiln graph (graph.Converter)."""
import torch
from torch import fx

from .graph import TENSOR, VALUE, Converter, module_type_name
from .ops_functions import FUNCTION_HANDLERS, run_function, run_method
from .ops_modules import MODULE_HANDLERS, supported_module_names

MAX_DIM = 1 << 31


def _input(cx, node):
    if cx.kind(node) != TENSOR:
        raise cx.error(node, "model input `%s` is not a tensor" % node.target)
    shape = cx.shape(node)
    dtype = node.meta["kiln_dtype"]
    if dtype != torch.float32:
        raise cx.error(node, "model input `%s` is %s; kiln inputs are float32" % (node.target, dtype))
    if not 1 <= len(shape) <= 8 or not all(1 <= d <= MAX_DIM for d in shape):
        raise cx.error(node, "model input `%s` has shape %s; kiln needs rank 1..8 and dimensions 1..2^31"
                       % (node.target, list(shape)))
    cx.add_input(node, shape)


def _call(cx, node):
    if node.op == "call_module":
        module = cx.modules[node.target]
        handler = MODULE_HANDLERS.get(type(module))
        if handler is None:
            raise cx.error(node, "module type %s is not supported by kiln (supported: %s)"
                           % (module_type_name(module), ", ".join(supported_module_names())))
        handler(cx, node, module)
    elif node.op == "call_function":
        entry = FUNCTION_HANDLERS.get(node.target)
        if entry is None:
            raise cx.error(node, "this function is not supported by kiln (see exporter/README.md, Supported ops)")
        run_function(cx, node, entry)
    elif not run_method(cx, node):
        raise cx.error(node, "this method is not supported by kiln (see exporter/README.md, Supported ops)")
    if node not in cx.value:
        raise cx.error(node, "produced no kiln tensor")  # a handler bug, reported rather than hidden


def _outputs(cx, node):
    """(output names, output fx nodes) of the graph's output node: one tensor, a tuple/list of tensors, or a
    dict of tensors (torchvision's segmentation models return {"out": ..., "aux": ...}), whose outputs are
    named after their keys."""
    result = node.args[0]
    keys = None
    if isinstance(result, dict):
        keys = list(result.keys())
        bad = [k for k in keys if not isinstance(k, str) or not k]
        if bad:
            raise cx.error(node, "the model returns a dict with key %r; kiln names outputs after string keys"
                           % (bad[0],))
        items = list(result.values())
    else:
        items = list(result) if isinstance(result, (list, tuple)) else [result]
    if not all(isinstance(x, fx.Node) for x in items):
        raise cx.error(node, "the model returns %r; kiln models return a tensor, or a tuple, list or dict of "
                             "tensors" % (result,))
    names = []
    inputs = {name for name, _, _ in cx.inputs}
    for x in items:
        if cx.kind(x) != TENSOR:
            raise cx.error(node, "model output `%s` is not a tensor" % x.name)
        name = cx.name_of(node, x)
        if name in inputs:
            raise cx.error(node, "model output `%s` is the model input itself; kiln outputs are layer outputs" % name)
        if name in names:
            raise cx.error(node, "the model returns `%s` twice" % name)
        names.append(name)
    if keys is not None:
        layers = [cx.layer_by_name[name] for name in names]
        for layer, key in zip(layers, keys):
            cx.rename_layer(layer.name, key)
        names = [layer.name for layer in layers]  # a later key may have moved an earlier output aside
    return names, items


def convert(gm):
    """Returns (converter, output names, output fx nodes); layers not needed by an output are dropped."""
    cx = Converter(gm)
    outputs = None
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            _input(cx, node)
        elif node.op == "output":
            outputs = _outputs(cx, node)
        elif node.op == "get_attr" or cx.kind(node) == VALUE:
            continue  # parameters are read by their modules; shape arithmetic is folded into constants
        else:
            if cx.kind(node) == TENSOR and node.meta["kiln_dtype"] != torch.float32:
                raise cx.error(node, "computes a %s tensor; kiln computes float32 only" % node.meta["kiln_dtype"])
            _call(cx, node)
    names, nodes = outputs
    live = set(names)
    for layer in reversed(cx.layers):
        if layer.name in live:
            live.update(layer.inputs)
    cx.layers = [layer for layer in cx.layers if layer.name in live]
    if not cx.layers:
        raise cx.error(nodes[0], "the model has no layers")
    return cx, names, nodes
