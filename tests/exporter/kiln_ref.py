"""Test helpers: a checker of model.yaml against formats/README.md and a plain reference executor of a
kiln model folder, written from the spec's op table (not from the exporter's code), so an exported
folder can be run and compared with its own golden tensors."""
import os
import re

import numpy as np
import torch
import torch.nn.functional as F
import yaml

import ref_channels
import ref_elementwise
import ref_layer_norm
import ref_pool
from kiln_export import read_tensors

NAME = re.compile(r"^[A-Za-z0-9_.:/\-]{1,256}$")
PAIR = ("kernel_size", "stride", "padding", "dilation", "output_padding", "scale")
# op -> (allowed attributes, required weight roles, optional weight roles)
OPS = {
    "conv2d": ({"out_channels", "kernel_size", "stride", "padding", "dilation", "groups"}, {"weight"}, {"bias"}),
    "conv_transpose2d": ({"out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation",
                          "groups"}, {"weight"}, {"bias"}),
    "batch_norm": (set(), {"scale", "shift"}, set()),
    "relu": (set(), set(), set()),
    "sigmoid": (set(), set(), set()),
    "tanh": (set(), set(), set()),
    "leaky_relu": ({"negative_slope"}, set(), set()),
    "elu": ({"alpha"}, set(), set()),
    "relu6": (set(), set(), set()),
    "hardtanh": ({"min_val", "max_val"}, set(), set()),
    "hardswish": (set(), set(), set()),
    "hardsigmoid": (set(), set(), set()),
    "silu": (set(), set(), set()),
    "mish": (set(), set(), set()),
    "gelu": ({"approximate"}, set(), set()),
    "softplus": ({"beta", "threshold"}, set(), set()),
    "prelu": ({"num_parameters"}, {"weight"}, set()),
    "linear": ({"out_features"}, {"weight"}, {"bias"}),
    "flatten": (set(), set(), set()),
    "lrn": ({"size", "alpha", "beta", "k"}, set(), set()),
    "softmax": ({"axis"}, set(), set()),
    "concat": ({"axis"}, set(), set()),
}

# Op families with their own reference file (ref_<family>.py: OPS, check_attribute, run_layer).
FAMILIES = (ref_pool, ref_elementwise, ref_channels, ref_layer_norm)
for _family in FAMILIES:
    OPS.update(_family.OPS)


def pair(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return [v, v]
    assert isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v), v
    return v


def load(model_dir):
    """Parses and checks model.yaml and its manifest; returns (model dict, weights dict)."""
    path = os.path.join(model_dir, "model.yaml")
    with open(path, encoding="utf-8") as f:
        m = yaml.safe_load(f)
    assert set(m) <= {"format", "version", "name", "weights", "inputs", "layers", "outputs"}, set(m)
    assert m["format"] == "kiln-model" and m["version"] == 1
    assert "/" not in m["weights"] and m["weights"] == "weights.manifest"
    weights = read_tensors(os.path.join(model_dir, m["weights"]))
    defined, used = set(), set()
    assert 1 <= len(m["inputs"]) <= 64
    for inp in m["inputs"]:
        assert set(inp) in ({"name", "shape", "dtype"}, {"name", "shape", "dtype", "min_hw", "max_hw"}), inp
        assert inp["dtype"] == "f32", inp
        if "min_hw" in inp:  # a dynamic height x width around the example size (formats/README.md)
            assert len(inp["shape"]) == 4 and all(lo <= d <= hi for lo, d, hi in
                                                  zip(inp["min_hw"], inp["shape"][2:], inp["max_hw"])), inp
        assert NAME.match(inp["name"]) and inp["name"] not in defined
        assert 1 <= len(inp["shape"]) <= 8 and all(isinstance(d, int) and d >= 1 for d in inp["shape"])
        defined.add(inp["name"])
    assert 1 <= len(m["layers"])
    for layer in m["layers"]:
        assert set(layer) <= {"name", "op", "inputs", "attributes", "weights"}, layer
        name, op = layer["name"], layer["op"]
        assert isinstance(name, str) and NAME.match(name) and name not in defined, name
        assert op in OPS, op
        allowed, required, optional = OPS[op]
        assert all(x in defined for x in layer["inputs"]), (name, layer["inputs"])
        attrs = layer.get("attributes", {})
        assert set(attrs) <= allowed, (name, attrs)
        for k, v in attrs.items():
            if any(f.check_attribute(op, k, v) for f in FAMILIES):
                continue
            if k in PAIR:
                pair(v)
            elif k in ("negative_slope", "alpha", "beta", "k", "min_val", "max_val", "threshold"):
                assert isinstance(v, float), (name, k, v)
            elif k == "count_include_pad":
                assert isinstance(v, bool)
            elif k == "approximate":
                assert v in ("none", "tanh"), (name, k, v)
            else:
                assert isinstance(v, int) and not isinstance(v, bool), (name, k, v)
        roles = layer.get("weights", {})
        assert required <= set(roles) <= required | optional, (name, roles)
        for role, tname in roles.items():
            assert tname == "%s.%s" % (name, role) and tname in weights, (name, role, tname)
            used.add(tname)
        defined.add(name)
    assert used == set(weights), "manifest tensors not used by any layer: %s" % (set(weights) - used)
    layer_names = {layer["name"] for layer in m["layers"]}
    assert 1 <= len(m["outputs"]) <= 64 and set(m["outputs"]) <= layer_names and \
        len(set(m["outputs"])) == len(m["outputs"])
    return m, weights


def _run_layer(layer, xs, w):
    op, a = layer["op"], layer.get("attributes", {})
    for family in FAMILIES:
        if op in family.OPS:
            return family.run_layer(op, a, xs, w)
    x = xs[0]
    if op in ("conv2d", "conv_transpose2d"):
        weight, bias = w["weight"], w.get("bias")
        groups = a.get("groups", 1)
        out = a["out_channels"]
        assert list(weight.shape[2:]) == pair(a["kernel_size"])
        assert bias is None or list(bias.shape) == [out]
        if op == "conv2d":
            assert list(weight.shape[:2]) == [out, x.shape[1] // groups]
            return F.conv2d(x, weight, bias, pair(a.get("stride", 1)), pair(a.get("padding", 0)),
                            pair(a.get("dilation", 1)), groups)
        assert list(weight.shape[:2]) == [x.shape[1], out // groups]
        return F.conv_transpose2d(x, weight, bias, pair(a.get("stride", 1)), pair(a.get("padding", 0)),
                                  pair(a.get("output_padding", 0)), groups, pair(a.get("dilation", 1)))
    if op == "batch_norm":
        c = x.shape[1]
        assert list(w["scale"].shape) == [c] and list(w["shift"].shape) == [c]
        return x * w["scale"].view(1, c, 1, 1) + w["shift"].view(1, c, 1, 1)
    if op in ("relu", "sigmoid", "tanh"):
        return getattr(torch, op)(x)
    if op == "leaky_relu":
        return F.leaky_relu(x, a.get("negative_slope", 0.01))
    if op == "elu":
        return F.elu(x, a.get("alpha", 1.0))
    if op == "relu6":
        return F.hardtanh(x, 0.0, 6.0)
    if op == "hardtanh":
        lo, hi = a.get("min_val", -1.0), a.get("max_val", 1.0)
        assert lo <= hi
        return F.hardtanh(x, lo, hi)
    if op in ("hardswish", "hardsigmoid", "silu", "mish"):
        return getattr(F, op)(x)
    if op == "gelu":
        return F.gelu(x, approximate=a.get("approximate", "none"))
    if op == "softplus":
        assert a.get("beta", 1.0) > 0
        return F.softplus(x, a.get("beta", 1.0), a.get("threshold", 20.0))
    if op == "prelu":
        n = a.get("num_parameters", 1)
        channels = x.shape[1] if x.dim() >= 2 else 1
        assert list(w["weight"].shape) == [n] and n in (1, channels)
        return F.prelu(x, w["weight"])
    if op == "linear":
        assert x.dim() == 2 and list(w["weight"].shape) == [a["out_features"], x.shape[1]]
        return F.linear(x, w["weight"], w.get("bias"))
    if op == "flatten":
        return x.reshape(x.shape[0], -1)
    if op == "lrn":
        return F.local_response_norm(x, a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75), a.get("k", 1.0))
    if op == "softmax":
        assert a.get("axis", 1) == 1
        return torch.softmax(x, 1)
    if op == "concat":
        assert a.get("axis", 1) == 1
        return torch.cat(xs, 1)
    raise AssertionError("no reference for op " + op)


def run(model_dir, inputs=None):
    """Checks the folder and runs it on `inputs` (default: golden/inputs); returns {tensor name: tensor}."""
    m, weights = load(model_dir)
    if inputs is None:
        inputs = read_tensors(os.path.join(model_dir, "golden", "inputs.manifest"))
    env = {}
    for inp in m["inputs"]:
        env[inp["name"]] = torch.from_numpy(np.asarray(inputs[inp["name"]], dtype=np.float32))
        assert list(env[inp["name"]].shape) == inp["shape"]
    with torch.no_grad():
        for layer in m["layers"]:
            w = {role: torch.from_numpy(weights[t].astype(np.float32)) for role, t in layer.get("weights", {}).items()}
            env[layer["name"]] = _run_layer(layer, [env[n] for n in layer["inputs"]], w)
    return env


def check_against_golden(model_dir, tol=1e-5):
    """Runs the reference and compares outputs (and layers, when golden/layers exists) with the golden files:
    every element within tol * max(1, max |golden|) of the golden tensor. Returns the parsed model dict."""
    env = run(model_dir)
    m, _ = load(model_dir)
    golden = os.path.join(model_dir, "golden")
    outputs = read_tensors(os.path.join(golden, "outputs.manifest"))
    assert list(outputs) == m["outputs"]
    expected = dict(outputs)
    layers_path = os.path.join(golden, "layers.manifest")
    if os.path.exists(layers_path):
        layers = read_tensors(layers_path)
        assert list(layers) == [layer["name"] for layer in m["layers"]]
        expected.update(layers)
    for name, want in expected.items():
        got = env[name].numpy()
        assert got.shape == want.shape, (name, got.shape, want.shape)
        assert np.isfinite(got).all() and np.isfinite(want).all(), name
        err, scale = float(np.abs(got - want).max()), max(1.0, float(np.abs(want).max()))
        assert err <= tol * scale, "tensor %s: max error %g > %g * %g" % (name, err, tol, scale)
    return m
