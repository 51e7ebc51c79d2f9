"""+, -, *, / in every PyTorch spelling (operator, torch functions, Tensor methods, in place, numbers on
either side, parameters) export to kiln's add/sub/mul/div, and the reference run (kiln_ref, written from
formats/README.md) reproduces PyTorch's golden outputs and every golden layer; unsupported forms fail at
export naming the node."""
import operator
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kiln_ref
from kiln_export import ExportError, export
from test_ops import check_case


class Fn(nn.Module):
    """forward(x) = fn(self, x); `mods` become submodules, `params` random parameters of those shapes."""

    def __init__(self, fn, params=None, buffers=None, **mods):
        super().__init__()
        self.fn = fn
        for k, v in mods.items():
            self.add_module(k, v)
        for k, shape in (params or {}).items():
            setattr(self, k, nn.Parameter(torch.rand(shape) + 0.5))  # in [0.5, 1.5]: safe divisors
        for k, shape in (buffers or {}).items():
            self.register_buffer(k, torch.rand(shape) + 0.5)

    def forward(self, x):
        return self.fn(self, x)


def conv(cin=3, cout=4):
    return nn.Conv2d(cin, cout, 3, padding=1)


def pos(t):
    """A tensor computed from `t` that is at least 1: a divisor."""
    return torch.sigmoid(t) + 1.0


def _inplace_ops(s, x):
    y = s.a(x)
    y -= s.b(x)
    y *= s.a(x)
    y /= pos(s.b(x))
    y += 1.0
    return y


def _inplace_methods(s, x):
    y = s.a(x)
    y.sub_(s.b(x))
    y.mul_(2.0)
    y.div_(pos(s.b(x)))
    y.add_(0.5)
    return y


class SE(nn.Module):
    """Squeeze-excitation: the gate [N, C, 1, 1] from pooling, 1x1 convolutions and a sigmoid."""

    def __init__(self, c=6, r=2):
        super().__init__()
        self.body = nn.Conv2d(3, c, 3, padding=1)
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        y = self.body(x)
        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(F.adaptive_avg_pool2d(y, 1)))))
        return y * g


class LayerScale(nn.Module):
    """ConvNeXt-style: a residual scaled per channel by a parameter gamma, in three common shapes."""

    def __init__(self, c=4):
        super().__init__()
        self.c = nn.Conv2d(3, c, 3, padding=1)
        self.g1 = nn.Parameter(torch.rand(c, 1, 1))
        self.g2 = nn.Parameter(torch.rand(1, c, 1, 1))
        self.register_buffer("g3", torch.rand(c, 1, 1) + 0.5)

    def forward(self, x):
        y = self.c(x)
        return y + self.g1 * y - y * self.g2 + y / self.g3


# (id, model factory, input shape, ops that must appear in model.yaml)
CASES = [
    ("operators", lambda: Fn(lambda s, x: (s.a(x) + s.b(x)) * s.a(x) - s.b(x) / pos(s.a(x)), a=conv(), b=conv()),
     (2, 3, 5, 5), {"add", "sub", "mul", "div"}),
    ("torch_functions", lambda: Fn(lambda s, x: torch.div(torch.sub(torch.mul(s.a(x), s.b(x)), s.a(x)),
                                                          pos(s.b(x))) + torch.add(s.a(x), s.b(x)), a=conv(), b=conv()),
     (1, 3, 4, 4), {"add", "sub", "mul", "div"}),
    ("torch_aliases", lambda: Fn(lambda s, x: torch.true_divide(torch.multiply(s.a(x), 3), 2) +
                                 torch.subtract(s.a(x), 1.5) + torch.divide(s.a(x), 4.0), a=conv()),
     (1, 3, 4, 4), {"add", "sub", "mul", "div"}),
    ("methods", lambda: Fn(lambda s, x: s.a(x).add(s.b(x)).mul(s.a(x)).sub(1.0).div(pos(s.b(x))), a=conv(), b=conv()),
     (1, 3, 4, 4), {"add", "sub", "mul", "div"}),
    ("dunder_methods", lambda: Fn(lambda s, x: s.a(x).__add__(2.0).__rsub__(1.0).__mul__(s.a(x)).__rmul__(3.0)
                                  .__truediv__(2.0).__rtruediv__(pos(s.a(x))).__radd__(s.a(x)), a=conv()),
     (1, 3, 4, 4), {"add", "sub", "mul", "div"}),
    ("inplace_operators", lambda: Fn(_inplace_ops, a=conv(), b=conv()), (1, 3, 4, 4), {"add", "sub", "mul", "div"}),
    ("inplace_methods", lambda: Fn(_inplace_methods, a=conv(), b=conv()), (1, 3, 4, 4), {"add", "sub", "mul", "div"}),
    ("scalars_both_sides", lambda: Fn(lambda s, x: (1 - s.a(x)) + (2 * s.a(x)) + (1 / pos(s.a(x))) + (s.a(x) / 4) +
                                      (0.5 + s.a(x)) - (s.a(x) - 3), a=conv()),
     (1, 3, 4, 4), {"add", "sub", "mul", "div"}),
    ("rsub", lambda: Fn(lambda s, x: torch.rsub(s.a(x), 1.0) + torch.rsub(s.a(x), s.b(x)), a=conv(), b=conv()),
     (1, 3, 4, 4), {"sub"}),
    ("shape_arithmetic_scalar", lambda: Fn(lambda s, x: s.a(x) * (x.shape[1] ** -0.5), a=conv()), (1, 3, 4, 4),
     {"mul"}),
    ("se_block", SE, (2, 3, 6, 6), {"global_avg_pool2d", "sigmoid", "mul"}),
    ("gate_on_the_left", lambda: Fn(lambda s, x: torch.sigmoid(F.adaptive_avg_pool2d(s.a(x), 1)) * s.a(x) -
                                    F.adaptive_avg_pool2d(s.a(x), 1) / pos(s.a(x)), a=conv()),
     (2, 3, 5, 5), {"mul", "sub", "div"}),
    ("spatial_mask", lambda: Fn(lambda s, x: s.a(x) * torch.sigmoid(s.m(x)), a=conv(), m=conv(3, 1)), (2, 3, 5, 5),
     {"mul"}),
    ("expand_as", lambda: Fn(lambda s, x: s.a(x) * torch.sigmoid(F.adaptive_avg_pool2d(s.a(x), 1)).expand_as(s.a(x)),
                             a=conv()), (1, 3, 4, 4), {"mul"}),
    ("layer_scale", LayerScale, (2, 3, 5, 5), {"add", "sub", "mul", "div"}),
    ("parameter_on_the_left", lambda: Fn(lambda s, x: s.g / pos(s.a(x)) - s.g - s.a(x) * 0, {"g": (4, 1, 1)},
                                         a=conv()), (1, 3, 4, 4), {"sub", "div", "mul"}),
    ("parameter_per_sample", lambda: Fn(lambda s, x: s.a(x) + s.p, {"p": (1, 4, 4, 5)}, a=conv()), (2, 3, 4, 5),
     {"add"}),
    ("parameter_one_value", lambda: Fn(lambda s, x: s.a(x) * s.t - s.u, {"t": (1,)}, {"u": ()}, a=conv()),
     (1, 3, 4, 4), {"mul", "sub"}),
    ("features", lambda: Fn(lambda s, x: s.fc(x.flatten(1)) * s.w + s.fc(x.flatten(1)).sigmoid() / s.fc2(
        x.flatten(1)).sigmoid(), {"w": (5,)}, fc=nn.Linear(12, 5), fc2=nn.Linear(12, 1)), (2, 3, 2, 2),
     {"add", "mul", "div"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_elementwise_exports_and_matches_pytorch(case, tmp_path, randn):
    check_case(case, tmp_path, randn)


def _layers(tmp_path, model, shape, randn):
    export(model, randn(*shape), tmp_path / "m", golden_layers=True)
    return kiln_ref.check_against_golden(str(tmp_path / "m"))["layers"]


def test_forms_follow_the_spec(tmp_path, randn):
    def fn(s, x):
        y = s.a(x)
        return (1 - y) + (y / 2) + (3 / pos(y)) + y * s.g + s.g / pos(y) + y * torch.sigmoid(F.adaptive_avg_pool2d(y, 1))

    layers = _layers(tmp_path, Fn(fn, {"g": (1, 4, 1, 1)}, a=conv()), (1, 3, 4, 4), randn)
    forms = [(l["op"], l.get("attributes", {}), sorted(l.get("weights", {})), len(l["inputs"])) for l in layers]
    assert ("sub", {"scalar": 1.0, "reverse": True}, [], 1) in forms  # 1 - y
    assert ("div", {"scalar": 2.0}, [], 1) in forms  # y / 2
    assert ("div", {"scalar": 3.0, "reverse": True}, [], 1) in forms  # 3 / (...)
    assert ("mul", {}, ["other"], 1) in forms  # y * g, g [1, C, 1, 1] stored per channel
    assert ("div", {"reverse": True}, ["other"], 1) in forms  # g / (...)
    assert ("mul", {}, [], 2) in forms  # y * gate
    weight = [l for l in layers if l["op"] == "mul" and "weights" in l][0]
    assert weight["weights"] == {"other": weight["name"] + ".other"}


def test_inplace_result_is_seen_by_later_readers(tmp_path, randn):
    def fn(s, x):
        y = s.a(x)
        z = y * 1.0
        y.mul_(2.0)  # later readers of y see 2y
        return y + z

    layers = _layers(tmp_path, Fn(fn, a=conv()), (1, 3, 4, 4), randn)
    assert [layer["op"] for layer in layers] == ["conv2d", "mul", "mul", "add"]
    assert layers[-1]["inputs"] == [layers[2]["name"], layers[1]["name"]]


def test_expected_function_and_method_names_are_in_the_tables():
    from kiln_export import ops_functions

    for f in (operator.add, operator.sub, operator.mul, operator.truediv, operator.iadd, operator.isub,
              operator.imul, operator.itruediv, torch.add, torch.sub, torch.mul, torch.div, torch.rsub):
        assert f in ops_functions.FUNCTION_HANDLERS, f
    for m in ("add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "__add__", "__radd__", "__iadd__",
              "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__", "__truediv__", "__rtruediv__",
              "__itruediv__"):
        assert m in ops_functions.METHOD_HANDLERS, m


@pytest.mark.parametrize("fn,params,pattern", [
    (lambda s, x: torch.add(s.a(x), s.a(x), alpha=2), {}, r"^`torch\.add` \(node `add`\) at .*: alpha other than 1 is "
     r"not supported"),
    (lambda s, x: torch.sub(s.a(x), 1.0, alpha=0.5), {}, r"`torch\.sub` .*alpha other than 1 is not supported"),
    (lambda s, x: torch.div(s.a(x), 2.0, rounding_mode="floor"), {},
     r"^`torch\.div` \(node `div`\) at .*: rounding_mode='floor' is not supported; kiln's div is true division"),
    (lambda s, x: s.a(x) * s.w, {"w": (4,)}, r"`operator\.mul` \(node `mul`\) at .*: a parameter of shape \[4\] against "
     r"the tensor of shape \[1, 4, 4, 4\] is not supported; kiln takes a parameter with one value, one value per "
     r"channel"),
    (lambda s, x: s.a(x) - s.w, {"w": (4, 4, 1)}, r"a parameter of shape \[4, 4, 1\] against the tensor"),
    (lambda s, x: s.a(x) + s.w, {"w": (2, 4, 1, 1)}, r"a parameter of shape \[2, 4, 1, 1\]"),
    (lambda s, x: s.a(x) + s.w * 2.0, {"w": (4, 1, 1)}, r"^`operator\.mul` \(node `mul`\) at .*: multiplying two "
     r"constants \(numbers or parameters\) is not supported; kiln's mul needs a tensor computed from the model's inputs"),
    (lambda s, x: s.a(x).expand_as(s.a(x)).relu(), {}, r"`Tensor\.expand_as` .*is read by `relu`; kiln supports "
     r"expand_as only as an operand of \+, -, \* or /"),
])
def test_unsupported_forms_fail_naming_the_node(fn, params, pattern, tmp_path, randn):
    with pytest.raises(ExportError) as info:
        export(Fn(fn, params, a=conv(3, 4)), randn(1, 3, 4, 4), tmp_path / "bad")
    assert re.search(pattern, str(info.value)), str(info.value)
    assert not (tmp_path / "bad").exists()


def test_batch_broadcast_between_tensors_fails(tmp_path, randn):
    class TwoInputs(nn.Module):
        def forward(self, a, b):
            return torch.relu(a) * torch.relu(b)

    with pytest.raises(ExportError, match=r"multiplying shapes \[2, 3\] and \[1, 3\] broadcasts the batch "
                                          r"\(dimension 0\); kiln needs it equal"):
        export(TwoInputs(), (randn(2, 3), randn(1, 3)), tmp_path / "bad")
