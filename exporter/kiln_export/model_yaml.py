"""A small, deterministic emitter of model.yaml (formats/README.md).

Written by hand rather than with a YAML library so the bytes never depend on a library version, and
so every scalar is spelled the way both yaml-cpp (YAML 1.2) and PyYAML (YAML 1.1) read it back.
"""
import json
import math
import re

from .errors import ExportError

# Plain (unquoted) only when no YAML 1.1/1.2 reader could take the scalar for a number, bool or null.
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./\-]*$")
_KEYWORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf"}


def _name(s):
    if _PLAIN.match(s) and s.lower() not in _KEYWORDS:
        return s
    return json.dumps(s)


def _float(v):
    if not math.isfinite(v):
        raise ExportError("attribute value %r is not a finite number" % v)
    text = repr(float(v))
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent:
        # PyYAML reads a float only with a dot in the mantissa and a signed exponent ("1.0e-05").
        exponent = exponent if exponent[0] in "+-" else "+" + exponent
        return mantissa + "e" + exponent
    return mantissa


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, str):
        return _name(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    raise ExportError("attribute value %r of type %s cannot be written to model.yaml" % (v, type(v).__name__))


def _flow_map(d):
    return "{" + ", ".join("%s: %s" % (k, _scalar(v)) for k, v in d.items()) + "}"


def model_yaml(model_name, inputs, layers, outputs, weights_file="weights.manifest", dynamic_hw=None):
    """Returns the text of model.yaml.

    inputs: list of (name, shape); dynamic_hw: ((min_h, min_w), (max_h, max_w)) written on every 4-D
    input as min_hw/max_hw, or None; layers: objects with .name, .op, .inputs, .attributes (dict, written in
    its order) and .weight_names (dict role -> manifest tensor name); outputs: list of layer names.
    """
    out = ["format: kiln-model", "version: 1"]
    if model_name:
        out.append("name: " + json.dumps(str(model_name)))
    out.append("weights: " + _name(weights_file))
    out.append("inputs:")
    for name, shape in inputs:
        extra = ""
        if dynamic_hw is not None and len(shape) == 4:
            extra = ", min_hw: %s, max_hw: %s" % (_scalar(list(dynamic_hw[0])), _scalar(list(dynamic_hw[1])))
        out.append("  - {name: %s, shape: %s, dtype: f32%s}" % (_name(name), _scalar(list(shape)), extra))
    out.append("layers:")
    for layer in layers:
        out.append("  - name: " + _name(layer.name))
        out.append("    op: " + layer.op)
        out.append("    inputs: " + _scalar(list(layer.inputs)))
        if layer.attributes:
            out.append("    attributes: " + _flow_map(layer.attributes))
        if layer.weight_names:
            out.append("    weights: " + _flow_map(layer.weight_names))
    out.append("outputs: " + _scalar(list(outputs)))
    return "\n".join(out) + "\n"
