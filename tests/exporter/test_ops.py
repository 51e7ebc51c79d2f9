"""Every supported op, in module and functional form, exports to a spec-valid folder whose reference run
(kiln_ref, written from the spec) reproduces PyTorch's golden outputs and every golden layer."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kiln_ref
from kiln_export import ExportError, export


class Fn(nn.Module):
    """Wraps a function of (self, x) so functional forms can be traced; `mods` become submodules."""

    def __init__(self, fn, **mods):
        super().__init__()
        self.fn = fn
        for k, v in mods.items():
            self.add_module(k, v)

    def forward(self, x):
        return self.fn(self, x)


def seq(*mods):
    return nn.Sequential(*mods)


def conv(cin=3, cout=4):
    return nn.Conv2d(cin, cout, 3, padding=1)


def wide_conv(cin=3, cout=4, gain=6.0):
    """A conv whose outputs spread over about [-gain, gain], so activations meet their kinks and thresholds."""
    c = conv(cin, cout)
    with torch.no_grad():
        c.weight.mul_(gain)
        c.bias.uniform_(-gain / 2, gain / 2)
    return c


def with_params(model, **params):
    """`model` with random parameters of the given shapes added (for functional forms such as F.prelu)."""
    for name, shape in params.items():
        setattr(model, name, nn.Parameter(torch.rand(*shape) - 0.5))
    return model


def prelu(n):
    m = nn.PReLU(n)
    with torch.no_grad():
        m.weight.uniform_(-0.5, 0.5)
    return m


def _f_prelu(s, x):
    return F.prelu(s.c(x), s.w) + torch.prelu(s.c(x), s.w1) + s.c(x).prelu(s.w)


# (id, model factory, input shape, ops that must appear in model.yaml)
CASES = [
    ("conv", lambda: seq(nn.Conv2d(3, 8, 3, padding=1)), (2, 3, 9, 11), {"conv2d"}),
    ("conv_geometry", lambda: seq(nn.Conv2d(4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1),
                                            groups=2, bias=False)), (1, 4, 13, 10), {"conv2d"}),
    ("conv_same", lambda: seq(nn.Conv2d(3, 4, 3, padding="same", dilation=2)), (1, 3, 10, 10), {"conv2d"}),
    ("conv_valid", lambda: seq(nn.Conv2d(3, 4, 3, padding="valid")), (1, 3, 10, 10), {"conv2d"}),
    ("conv_transpose", lambda: seq(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)),
     (1, 4, 5, 7), {"conv_transpose2d"}),
    ("conv_transpose_dilated", lambda: seq(nn.ConvTranspose2d(3, 5, (2, 3), stride=(1, 2), dilation=2, bias=False)),
     (2, 3, 6, 6), {"conv_transpose2d"}),
    ("batch_norm_unfolded", lambda: seq(conv(), nn.ReLU(), nn.BatchNorm2d(4)), (1, 3, 8, 8), {"batch_norm"}),
    ("activations", lambda: seq(conv(), nn.LeakyReLU(0.2), nn.Sigmoid(), conv(4, 4), nn.Tanh(), conv(4, 4),
                                nn.ELU(0.5), nn.ReLU(inplace=True)), (1, 3, 8, 8),
     {"leaky_relu", "sigmoid", "tanh", "elu", "relu"}),
    ("relu6_hardtanh", lambda: seq(wide_conv(), nn.ReLU6(), wide_conv(4, 4), nn.Hardtanh(-0.5, 0.25), wide_conv(4, 4),
                                   nn.Hardtanh(0.0, 6.0), wide_conv(4, 4), nn.ReLU6(inplace=True),
                                   nn.Hardtanh(inplace=True)), (2, 3, 8, 8), {"relu6", "hardtanh"}),
    ("hardswish_hardsigmoid", lambda: seq(wide_conv(), nn.Hardswish(), wide_conv(4, 4), nn.Hardsigmoid(),
                                          wide_conv(4, 4), nn.Hardswish(inplace=True), nn.Hardsigmoid(inplace=True)),
     (2, 3, 8, 8), {"hardswish", "hardsigmoid"}),
    ("silu_mish", lambda: seq(wide_conv(), nn.SiLU(), wide_conv(4, 4), nn.Mish(), wide_conv(4, 4),
                              nn.SiLU(inplace=True), nn.Mish(inplace=True)), (2, 3, 8, 8), {"silu", "mish"}),
    ("gelu_both_forms", lambda: seq(wide_conv(), nn.GELU(), wide_conv(4, 4), nn.GELU(approximate="tanh")),
     (2, 3, 8, 8), {"gelu"}),
    ("softplus", lambda: seq(wide_conv(gain=30.0), nn.Softplus(), wide_conv(4, 4), nn.Softplus(beta=2, threshold=5),
                             wide_conv(4, 4), nn.Softplus(0.5, 1.5)), (2, 3, 8, 8), {"softplus"}),
    ("prelu", lambda: seq(wide_conv(3, 5), prelu(5), wide_conv(5, 4), nn.PReLU(), nn.Flatten(), nn.Linear(256, 6),
                          prelu(6), nn.PReLU()), (2, 3, 8, 8), {"prelu"}),
    ("pools", lambda: seq(conv(), nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1, count_include_pad=False),
                          nn.AvgPool2d(2), nn.MaxPool2d(2)), (1, 3, 32, 32), {"max_pool2d", "avg_pool2d"}),
    ("classifier", lambda: seq(conv(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 5),
                               nn.Identity(), nn.Softmax(dim=1)), (3, 3, 8, 8),
     {"global_avg_pool2d", "flatten", "linear", "softmax"}),
    ("lrn_softmax4d", lambda: seq(conv(3, 6), nn.LocalResponseNorm(3, alpha=1e-3, beta=0.7, k=2.0), nn.Dropout2d(),
                                  nn.Softmax(dim=1)), (1, 3, 6, 6), {"lrn", "softmax"}),
    ("upsample_modules", lambda: seq(conv(), nn.Upsample(scale_factor=2, mode="nearest"),
                                     nn.UpsamplingNearest2d(scale_factor=2)), (1, 3, 5, 4), {"upsample_nearest"}),
    ("linear_nobias", lambda: seq(nn.Flatten(), nn.Linear(48, 7, bias=False)), (2, 3, 4, 4), {"linear"}),
    ("f_relu", lambda: Fn(lambda s, x: F.relu(s.c(x)), c=conv()), (1, 3, 6, 6), {"relu"}),
    ("torch_relu", lambda: Fn(lambda s, x: torch.relu(s.c(x)), c=conv()), (1, 3, 6, 6), {"relu"}),
    ("method_relu", lambda: Fn(lambda s, x: s.c(x).relu(), c=conv()), (1, 3, 6, 6), {"relu"}),
    ("f_relu_inplace", lambda: Fn(lambda s, x: F.relu(s.c(x), inplace=True), c=conv()), (1, 3, 6, 6), {"relu"}),
    ("sigmoid_tanh_forms", lambda: Fn(lambda s, x: torch.tanh(torch.sigmoid(s.c(x)).sigmoid()).tanh() + F.sigmoid(
        s.c(x)), c=conv()), (1, 3, 6, 6), {"sigmoid", "tanh", "add"}),
    ("f_leaky_elu", lambda: Fn(lambda s, x: F.elu(F.leaky_relu(s.c(x), 0.1), alpha=0.7), c=conv()), (1, 3, 6, 6),
     {"leaky_relu", "elu"}),
    ("f_relu6_hardtanh", lambda: Fn(lambda s, x: F.hardtanh(F.relu6(s.c(x)), -0.5, 0.5) + F.hardtanh(
        s.c(x), min_val=0.0, max_val=6.0) + F.relu6(s.c(x), inplace=True) + F.hardtanh(s.c(x), inplace=True) +
        F.hardtanh_(s.c(x), -2.0, 2.5), c=wide_conv()), (1, 3, 6, 6), {"relu6", "hardtanh", "add"}),
    ("f_hardswish_hardsigmoid", lambda: Fn(lambda s, x: F.hardswish(s.c(x)) + F.hardsigmoid(s.c(x), inplace=True) +
                                           F.hardswish(s.c(x), True) + F.hardsigmoid(s.c(x)), c=wide_conv()),
     (1, 3, 6, 6), {"hardswish", "hardsigmoid"}),
    ("f_silu_mish", lambda: Fn(lambda s, x: F.silu(s.c(x)) + F.mish(s.c(x), inplace=True) + F.silu(s.c(x), inplace=True)
                               + F.mish(s.c(x)), c=wide_conv()), (1, 3, 6, 6), {"silu", "mish"}),
    ("f_gelu", lambda: Fn(lambda s, x: F.gelu(s.c(x)) + F.gelu(s.c(x), approximate="tanh"), c=wide_conv()),
     (1, 3, 6, 6), {"gelu"}),
    ("f_softplus", lambda: Fn(lambda s, x: F.softplus(s.c(x)) + F.softplus(s.c(x), 0.5, 1.0) + F.softplus(
        s.c(x), beta=3, threshold=2), c=wide_conv()), (1, 3, 6, 6), {"softplus"}),
    ("f_prelu", lambda: with_params(Fn(_f_prelu, c=wide_conv()), w=(4,), w1=(1,)), (1, 3, 6, 6), {"prelu"}),
    ("f_pools", lambda: Fn(lambda s, x: F.avg_pool2d(F.max_pool2d(F.max_pool2d(x, 2), 3, stride=2, padding=1), 2,
                                                     count_include_pad=False), ), (1, 3, 32, 32),
     {"max_pool2d", "avg_pool2d"}),
    ("f_classifier", lambda: Fn(lambda s, x: F.softmax(s.fc(F.dropout(torch.flatten(
        F.adaptive_avg_pool2d(s.c(x), 1), 1), 0.5, training=False)), dim=1), c=conv(), fc=nn.Linear(4, 3)),
     (2, 3, 8, 8), {"global_avg_pool2d", "flatten", "linear", "softmax"}),
    ("torch_softmax_lrn", lambda: Fn(lambda s, x: torch.softmax(F.local_response_norm(s.c(x), 2), 1).softmax(1),
                                     c=conv()), (1, 3, 5, 5), {"lrn", "softmax"}),
    ("view_flatten", lambda: Fn(lambda s, x: s.fc(s.c(x).view(x.size(0), -1)), c=conv(), fc=nn.Linear(64, 2)),
     (2, 3, 4, 4), {"flatten", "linear"}),
    ("reshape_flatten", lambda: Fn(lambda s, x: s.fc(s.c(x).reshape(2, -1)), c=conv(), fc=nn.Linear(64, 2)),
     (2, 3, 4, 4), {"flatten", "linear"}),
    ("method_flatten", lambda: Fn(lambda s, x: s.fc(s.c(x).flatten(1)), c=conv(), fc=nn.Linear(64, 2)),
     (1, 3, 4, 4), {"flatten", "linear"}),
    ("residual_adds", lambda: Fn(lambda s, x: torch.add(s.a(x), s.b(x)) + s.c(x), a=conv(), b=conv(), c=conv()),
     (1, 3, 6, 6), {"add"}),
    ("iadd", lambda: Fn(_iadd, a=conv(), b=conv()), (1, 3, 6, 6), {"add"}),
    ("add_inplace_method", lambda: Fn(lambda s, x: s.a(x).add_(s.b(x)), a=conv(), b=conv()), (1, 3, 6, 6), {"add"}),
    ("cat", lambda: Fn(lambda s, x: torch.cat([s.a(x), s.b(x), x], dim=1), a=conv(), b=conv(3, 2)), (1, 3, 6, 6),
     {"concat"}),
    ("cat_negative_dim", lambda: Fn(lambda s, x: torch.cat((s.a(x), x), -3), a=conv()), (1, 3, 6, 6), {"concat"}),
    ("f_interpolate", lambda: Fn(lambda s, x: F.interpolate(s.c(x), scale_factor=2, mode="nearest"), c=conv()),
     (1, 3, 5, 6), {"upsample_nearest"}),
    ("f_interpolate_size", lambda: Fn(lambda s, x: F.interpolate(s.c(x), size=(10, 18)), c=conv()), (1, 3, 5, 6),
     {"upsample_nearest"}),
]


def _iadd(s, x):
    y = s.a(x)
    y += s.b(x)
    return y


def check_case(case, tmp_path, randn):
    """Exports a case (id, model factory, input shape, ops it must use) with golden layers and checks the
    folder and every golden tensor with kiln_ref; returns the parsed model.yaml."""
    _, factory, shape, ops = case
    torch.manual_seed(0)
    model = factory()
    result = export(model, randn(*shape), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    used = {layer["op"] for layer in m["layers"]}
    assert ops <= used, "expected ops %s, model.yaml has %s" % (ops, used)
    assert result.layers == [layer["name"] for layer in m["layers"]]
    return m


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_exports_and_matches_pytorch(case, tmp_path, randn):
    check_case(case, tmp_path, randn)


def test_functional_linear_reads_parameters(tmp_path, randn):
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(5, 12))
            self.register_buffer("b", torch.randn(5))

        def forward(self, x):
            h = torch.flatten(x, 1)
            return F.linear(h, h)  # a weight computed from the input

    with pytest.raises(ExportError, match=r"`torch\.nn\.functional\.linear` \(node `linear`\) at .*: weight must be "
                       r"a parameter or buffer of the model, found flatten"):
        export(Head(), randn(2, 3, 2, 2), tmp_path / "bad")

    class Good(Head):
        def forward(self, x):
            return F.linear(torch.flatten(x, 1), self.w, self.b)

    export(Good(), randn(2, 3, 2, 2), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert m["layers"][-1] == {"name": "linear", "op": "linear", "inputs": ["flatten"],
                               "attributes": {"out_features": 5}, "weights": {"weight": "linear.weight",
                                                                               "bias": "linear.bias"}}


def test_inplace_relu_is_seen_by_later_readers(tmp_path, randn):
    # y is overwritten in place, so y + z is 2 * relu(conv(x)), not conv(x) + relu(conv(x)).
    def fn(s, x):
        y = s.c(x)
        z = F.relu(y, inplace=True)
        return y + z
    export(Fn(fn, c=conv()), randn(1, 3, 6, 6), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    add = [layer for layer in m["layers"] if layer["op"] == "add"][0]
    relu = [layer for layer in m["layers"] if layer["op"] == "relu"][0]
    assert add["inputs"] == [relu["name"], relu["name"]]


def test_inplace_activation_is_seen_by_later_readers(tmp_path, randn):
    def fn(s, x):
        y = s.c(x)
        z = F.hardswish(y, inplace=True)
        return y + z
    export(Fn(fn, c=conv()), randn(1, 3, 6, 6), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    add = [layer for layer in m["layers"] if layer["op"] == "add"][0]
    act = [layer for layer in m["layers"] if layer["op"] == "hardswish"][0]
    assert add["inputs"] == [act["name"], act["name"]]


def test_activation_attributes_follow_spec_names(tmp_path, randn):
    model = seq(conv(), nn.ReLU6(), nn.Hardtanh(-2, 3), nn.Hardtanh(0, 6), nn.GELU(), nn.GELU(approximate="tanh"),
                nn.Softplus(), nn.Softplus(beta=2, threshold=10), nn.PReLU(), prelu(4), nn.SiLU(), nn.Mish(),
                nn.Hardswish(), nn.Hardsigmoid())
    export(model, randn(1, 3, 5, 5), tmp_path / "m")
    m, weights = kiln_ref.load(str(tmp_path / "m"))
    got = [(layer["op"], layer.get("attributes", {})) for layer in m["layers"][1:]]
    assert got == [("relu6", {}), ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("relu6", {}), ("gelu", {}),
                   ("gelu", {"approximate": "tanh"}), ("softplus", {"beta": 1.0, "threshold": 20.0}),
                   ("softplus", {"beta": 2.0, "threshold": 10.0}), ("prelu", {"num_parameters": 1}),
                   ("prelu", {"num_parameters": 4}), ("silu", {}), ("mish", {}), ("hardswish", {}),
                   ("hardsigmoid", {})]
    assert m["layers"][8]["weights"] == {"weight": "8.weight"} and weights["8.weight"].shape == (1,)
    assert weights["9.weight"].shape == (4,)


def test_removed_ops_leave_no_layers(tmp_path, randn):
    model = seq(conv(), nn.Dropout(), nn.Identity(), nn.Dropout2d(0.3))
    export(model, randn(1, 3, 4, 4), tmp_path / "m")
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [layer["op"] for layer in m["layers"]] == ["conv2d"]
    assert m["outputs"] == ["0"]


def test_attributes_follow_spec_names_and_defaults(tmp_path, randn):
    model = seq(nn.Conv2d(3, 4, 3, stride=2, padding=1, groups=1), nn.MaxPool2d(2), nn.LeakyReLU(),
                nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False))
    export(model, randn(1, 3, 16, 16), tmp_path / "m")
    m, _ = kiln_ref.load(str(tmp_path / "m"))
    conv_l, pool, act, avg = m["layers"]
    assert conv_l["attributes"] == {"out_channels": 4, "kernel_size": [3, 3], "stride": [2, 2], "padding": [1, 1]}
    assert pool["attributes"] == {"kernel_size": [2, 2]}
    assert act["attributes"] == {"negative_slope": 0.01}
    assert avg["attributes"] == {"kernel_size": [3, 3], "stride": [1, 1], "padding": [1, 1],
                                 "count_include_pad": False}
    assert conv_l["weights"] == {"weight": "0.weight", "bias": "0.bias"}


def test_several_inputs_and_outputs(tmp_path, randn):
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = conv(), conv()

        def forward(self, left, right):
            s = self.a(left) + self.b(right)
            return s, torch.sigmoid(s)

    result = export(Two(), (randn(1, 3, 5, 5), randn(1, 3, 5, 5)), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [i["name"] for i in m["inputs"]] == ["left", "right"] == result.inputs
    assert m["outputs"] == ["add", "sigmoid"]
