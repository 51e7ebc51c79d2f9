"""export(): PyTorch module -> kiln model folder (model.yaml, weights.manifest/.bin, golden/)."""
import os
from collections import namedtuple

import numpy as np
import torch

from . import dynamic
from .convert import convert
from .errors import ExportError
from .model_yaml import model_yaml
from .trace import propagate, trace
from .writer import check_out_dir, tensor_files, write_folder

F16_MAX = 65504.0

ExportResult = namedtuple("ExportResult", "out_dir inputs outputs layers")
ExportResult.__doc__ = "What export() wrote: the folder, input names, output names and layer names in order."


def _flat_tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat_tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flat_tensors(v)]
    return []


def _as_inputs(example_input):
    inputs = tuple(example_input) if isinstance(example_input, (list, tuple)) else (example_input,)
    if not inputs or not all(isinstance(x, torch.Tensor) for x in inputs):
        raise ExportError("example_input must be a tensor or a tuple of tensors, found %r" % (example_input,))
    for i, x in enumerate(inputs):
        if x.dtype != torch.float32:
            raise ExportError("example input %d is %s; kiln inputs are float32" % (i, x.dtype))
    return inputs


def _numpy(t):
    return t.detach().to("cpu", torch.float32).contiguous().numpy()


def _weight_array(name, tensor, weight_dtype):
    arr = _numpy(tensor)
    if not np.isfinite(arr).all():
        raise ExportError("weight %s holds NaN or infinite values" % name)
    if weight_dtype == "f16":
        peak = float(np.abs(arr).max()) if arr.size else 0.0
        if peak > F16_MAX:
            raise ExportError("weight %s holds %g, beyond float16's range (65504); export it with f32" % (name, peak))
        arr = arr.astype(np.float16)
    return arr


def _golden_value(layer, values):
    value = values[layer.value_node]
    if layer.golden_permute is not None:
        value = value.permute(*layer.golden_permute)  # a layer on a channels-last view (graph.Layer)
    if layer.golden_shape is not None:
        value = value.reshape(layer.golden_shape)  # same elements, kiln's dims of 1 (graph.Layer)
    return _numpy(value)


def _check_traced_matches(eager, traced):
    eager, traced = _flat_tensors(eager), _flat_tensors(traced)
    if len(eager) != len(traced):
        raise ExportError("the traced graph returns %d tensors but the model returns %d" % (len(traced), len(eager)))
    for i, (a, b) in enumerate(zip(eager, traced)):
        if a.shape != b.shape or not torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-5, equal_nan=True):
            raise ExportError("output %d of the traced graph differs from the model's own (its forward probably "
                              "depends on values or aliases that torch.fx does not record)" % i)


def export(model, example_input, out_dir, *, weight_dtype="f32", golden_layers=False, name=None, dynamic_hw=None):
    """Exports `model` (an nn.Module) as a kiln model folder `out_dir`.

    example_input: a float32 tensor (or tuple of them), batch first; it fixes the model's input shapes and
    becomes golden/inputs. weight_dtype: 'f32' or 'f16' (golden tensors are always f32).
    golden_layers: also write golden/layers.* with every layer's output. name: model.yaml's `name`
    (default: the model's class name). dynamic_hw: ((min_h, min_w), (max_h, max_w)), the range of
    heights and widths the 4-D inputs may take at run time (written to model.yaml as min_hw/max_hw); the
    model is traced a second time at another size in the range and refused, with the layer named, when
    the graph depends on the size (kiln_export.dynamic, Note [size-agnostic graphs]).
    The model is put in eval() mode. Raises ExportError, having written nothing, when the model uses an
    op kiln does not support or the folder exists with other files in it. The folder is written atomically
    (writer.write_folder): an export that fails or is interrupted leaves `out_dir` as it was, and a previous
    export there is replaced only once the new one is complete on disk. Returns an ExportResult.
    """
    if weight_dtype not in ("f32", "f16"):
        raise ExportError("weight_dtype must be 'f32' or 'f16', found %r" % (weight_dtype,))
    if not isinstance(model, torch.nn.Module):
        raise ExportError("model must be a torch.nn.Module, found %s" % type(model).__name__)
    inputs = _as_inputs(example_input)
    hw = None
    if dynamic_hw is not None:
        dynamic_hw = dynamic.check_range(dynamic_hw)
        hw = dynamic.example_hw(inputs, dynamic_hw)
    out_dir = os.fspath(out_dir)
    check_out_dir(out_dir)
    model.eval()
    golden_inputs = [x.detach().clone() for x in inputs]
    cx, outputs, traced, values = _traced(model, inputs, golden_layers)
    model_name = name if name is not None else type(model).__name__

    weights = []
    for layer in cx.layers:
        for role, tensor in layer.weights.items():
            tname = "%s.%s" % (layer.name, role)
            layer.weight_names[role] = tname
            weights.append((tname, _weight_array(tname, tensor, weight_dtype)))
    input_shapes = [(n, s) for n, s, _ in cx.inputs]
    if dynamic_hw is not None:
        _check_size_agnostic(model, inputs, hw, dynamic_hw, cx, outputs, model_name)
    text = model_yaml(model_name, input_shapes, cx.layers, outputs, dynamic_hw=dynamic_hw)
    files = {"model.yaml": text.encode("utf-8")}
    files.update(tensor_files("weights", weights))
    golden_in = [(n, _numpy(t)) for (n, _, _), t in zip(cx.inputs, golden_inputs)]
    files.update({"golden/" + k: v for k, v in tensor_files("inputs", golden_in).items()})
    golden_out = list(zip(outputs, [_numpy(t) for t in _flat_tensors(traced)]))
    files.update({"golden/" + k: v for k, v in tensor_files("outputs", golden_out).items()})
    if golden_layers:
        golden_layer_values = [(layer.name, _golden_value(layer, values)) for layer in cx.layers]
        files.update({"golden/" + k: v for k, v in tensor_files("layers", golden_layer_values).items()})
    write_folder(out_dir, files)
    return ExportResult(out_dir, [n for n, _, _ in cx.inputs], outputs, [layer.name for layer in cx.layers])


def _traced(model, inputs, keep_values):
    """Runs, traces and converts `model` at `inputs`: (converter, output names, traced outputs, values)."""
    with torch.no_grad():
        try:
            eager = model(*[x.clone() for x in inputs])
        except Exception as e:  # noqa: BLE001 - the user's model failed on the example input
            raise ExportError("the model fails on inputs of shape %s: %s: %s"
                              % ([list(x.shape) for x in inputs], type(e).__name__, e)) from e
    gm = trace(model, inputs)
    traced, values = propagate(gm, inputs, keep_values=keep_values)
    cx, outputs, _ = convert(gm)
    _check_traced_matches(eager, traced)
    return cx, outputs, traced, values


def _layer_text(cx, outputs, model_name):
    """model.yaml as written for converter `cx` (its weight names set as export sets them)."""
    for layer in cx.layers:
        for role in layer.weights:
            layer.weight_names.setdefault(role, "%s.%s" % (layer.name, role))
    return model_yaml(model_name, [(n, s) for n, s, _ in cx.inputs], cx.layers, outputs)


def _weight_shapes(cx):
    return [("%s.%s" % (layer.name, role), tuple(t.shape)) for layer in cx.layers for role, t in layer.weights.items()]


def _check_size_agnostic(model, inputs, hw, hw_range, cx, outputs, model_name):
    """Traces `model` again at a second size in `hw_range` and refuses a graph that differs
    (kiln_export.dynamic, Note [size-agnostic graphs])."""
    text = _layer_text(cx, outputs, model_name)
    other = dynamic.second_hw(hw, hw_range)
    if other == hw:
        return  # the range holds this one size only
    second = dynamic.resized(inputs, other, torch.Generator().manual_seed(1))
    try:
        cx2, outputs2, _, _ = _traced(model, second, False)
    except ExportError as e:
        raise ExportError("--dynamic-hw: at %dx%d, a size inside the range: %s" % (other[0], other[1], e)) from e
    dynamic.check_same_graph(text, hw, _layer_text(cx2, outputs2, model_name), other, _weight_shapes(cx),
                             _weight_shapes(cx2))
    # The second size keeps the example's power-of-two factors; a size with another remainder catches a
    # constant that depends on it ("same" padding computed from x.size()). A model that cannot run there
    # (a U-Net at an odd size) is left to fail at run time, naming the layer, as kiln does for such sizes.
    third = dynamic.odd_hw(hw, hw_range)
    if third in (hw, other):
        return
    try:
        cx3, outputs3, _, _ = _traced(model, dynamic.resized(inputs, third, torch.Generator().manual_seed(2)), False)
    except ExportError:
        return
    dynamic.check_same_graph(text, hw, _layer_text(cx3, outputs3, model_name), third, _weight_shapes(cx),
                             _weight_shapes(cx3))
