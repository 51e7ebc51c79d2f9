"""layer_norm and channels-last views (exporter Note [channels-last views]): every form (nn.LayerNorm and
F.layer_norm on x.permute(0, 2, 3, 1), torchvision's LayerNorm2d sandwich, Linear on the last dim with and
without bias, GELU and numbers in between, a [C] layer scale, a CNBlock copy, [N, C] inputs) exports to
layer_norm / 1x1 conv2d on NCHW tensors, spec-valid and reproducing PyTorch (kiln_ref); what kiln cannot
express on a view fails at export naming the node; torchvision's convnext_tiny exports and matches."""
import collections

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kiln_ref
from kiln_export import ExportError, export


class Fn(nn.Module):
    """A 1x1 conv `c` (C=6 channels) then fn(self, x); `ln`, `fc1`, `fc2`, `scale` and `col` for fn to use."""

    def __init__(self, fn, c=6, bias=True):
        super().__init__()
        self.fn = fn
        self.c = nn.Conv2d(3, c, 1)
        self.ln = nn.LayerNorm(c, eps=1e-6)
        self.fc1 = nn.Linear(c, 4 * c, bias=bias)
        self.fc2 = nn.Linear(4 * c, c, bias=bias)
        self.scale = nn.Parameter(torch.randn(c))
        self.col = nn.Parameter(torch.randn(c, 1))  # broadcasts against a view's width, not its channels
        with torch.no_grad():
            self.ln.weight.uniform_(0.5, 1.5)
            self.ln.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        return self.fn(self, self.c(x))


class LayerNorm2d(nn.LayerNorm):
    """torchvision's convnext.LayerNorm2d, as written there."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Permute(nn.Module):
    """torchvision's ops.misc.Permute."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class CNBlock(nn.Module):
    """torchvision's convnext.CNBlock (stochastic depth is the identity in eval mode)."""

    def __init__(self, dim):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]),
                                   nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(),
                                   nn.Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.rand(dim, 1, 1) + 0.5)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        result = self.layer_scale * self.block(x)
        result = self.drop(result)
        result += x
        return result


class Ln2d(nn.Module):
    def __init__(self, c=5):
        super().__init__()
        self.c = nn.Conv2d(3, c, 3, padding=1)
        self.n = LayerNorm2d(c, eps=1e-6)

    def forward(self, x):
        return self.n(self.c(x))


class Rank2(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 4 * 4, 10)
        self.ln = nn.LayerNorm(10)

    def forward(self, x):
        return self.ln(self.fc(x.flatten(1)))


def _p(x):
    return x.permute(0, 2, 3, 1)


def _back(x):
    return x.permute(0, 3, 1, 2)


CASES = [
    ("module", lambda: Fn(lambda s, x: _back(s.ln(_p(x)))), {"layer_norm": 1}),
    ("functional", lambda: Fn(lambda s, x: _back(F.layer_norm(_p(x), (6,), s.ln.weight, s.ln.bias, 1e-6))),
     {"layer_norm": 1}),
    ("functional_no_affine", lambda: Fn(lambda s, x: torch.permute(F.layer_norm(torch.permute(x, (0, 2, 3, 1)), [6]),
                                                                   (0, 3, 1, 2))), {"layer_norm": 1}),
    ("layernorm2d", Ln2d, {"layer_norm": 1}),
    ("linear_bias", lambda: Fn(lambda s, x: _back(s.fc1(_p(x)))), {"conv2d": 2}),
    ("linear_no_bias", lambda: Fn(lambda s, x: _back(s.fc2(s.fc1(_p(x)))), bias=False), {"conv2d": 3}),
    ("f_linear", lambda: Fn(lambda s, x: _back(F.linear(_p(x), s.fc1.weight, s.fc1.bias))), {"conv2d": 2}),
    ("mlp_gelu", lambda: Fn(lambda s, x: _back(s.fc2(F.gelu(s.fc1(s.ln(_p(x))))))),
     {"layer_norm": 1, "conv2d": 3, "gelu": 1}),
    ("numbers_and_relu", lambda: Fn(lambda s, x: _back((_p(x) * 2.0 + 1.0).relu().contiguous())),
     {"mul": 1, "add": 1, "relu": 1}),
    ("scale_on_view", lambda: Fn(lambda s, x: _back(s.scale * s.ln(_p(x)))), {"layer_norm": 1, "mul": 1}),
    ("scale_method_on_view", lambda: Fn(lambda s, x: _back(_p(x).mul(s.scale) - 0.5)), {"mul": 1, "sub": 1}),
    ("bias_on_view_reversed", lambda: Fn(lambda s, x: _back(s.scale - _p(x))), {"sub": 1}),
    ("two_views_added", lambda: Fn(lambda s, x: _back(s.ln(_p(x)) + _p(x))), {"layer_norm": 1, "add": 1}),
    ("cnblock", lambda: nn.Sequential(nn.Conv2d(3, 8, 1), CNBlock(8)),
     {"conv2d": 4, "layer_norm": 1, "gelu": 1, "mul": 1, "add": 1}),
    ("rank2", Rank2, {"layer_norm": 1, "linear": 1}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_channels_last_form_exports_and_matches_pytorch(case, tmp_path):
    _, make, uses = case
    torch.manual_seed(0)
    model = make().eval()
    x = torch.randn(2, 3, 4, 5) if case[0] != "rank2" else torch.randn(2, 3, 4, 4)
    with torch.no_grad():
        want = model(x)
    # Golden layers too: those computed on a view are written permuted to kiln's NCHW, and kiln_ref checks
    # every one of them against its own NCHW run.
    export(model, x, tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    counts = collections.Counter(layer["op"] for layer in m["layers"])
    for op, n in uses.items():
        assert counts[op] == n, (counts, uses)
    assert "permute" not in counts
    got = kiln_ref.run(str(tmp_path / "m"))[m["outputs"][0]]
    assert torch.allclose(got, want, rtol=0, atol=1e-5), float((got - want).abs().max())


def test_layer_norm_attributes_and_weights(tmp_path):
    export(Fn(lambda s, x: _back(s.ln(_p(x)))).eval(), torch.randn(1, 3, 2, 2), tmp_path / "m")
    m, weights = kiln_ref.load(str(tmp_path / "m"))
    ln = next(layer for layer in m["layers"] if layer["op"] == "layer_norm")
    assert ln["attributes"] == {"eps": 1e-6}
    assert set(ln["weights"]) == {"weight", "bias"}
    assert weights[ln["weights"]["weight"]].shape == (6,)


def test_linear_on_a_view_is_a_1x1_conv(tmp_path):
    model = Fn(lambda s, x: _back(s.fc1(_p(x)))).eval()
    export(model, torch.randn(1, 3, 2, 2), tmp_path / "m")
    m, weights = kiln_ref.load(str(tmp_path / "m"))
    conv = m["layers"][-1]
    assert conv["op"] == "conv2d" and conv["attributes"] == {"out_channels": 24, "kernel_size": [1, 1]}
    assert weights[conv["weights"]["weight"]].shape == (24, 6, 1, 1)


ERRORS = [  # on x of shape [1, 6, 4, 6] (the view: [1, 4, 6, 6])
    ("view_returned", lambda s, x: _p(x), "a channels-last view"),
    ("reshape_of_view", lambda s, x: _p(x).reshape(x.shape[0], -1), "a channels-last view"),
    ("reduction_of_view", lambda s, x: _p(x).mean((2, 3), keepdim=True), "a channels-last view"),
    ("getitem_of_view", lambda s, x: _back(_p(x)[:, 1:3]), "a channels-last view"),
    ("softmax_on_view", lambda s, x: _back(torch.softmax(_p(x), -1)), "is not supported"),
    ("view_plus_nchw", lambda s, x: _back(_p(x) + F.adaptive_avg_pool2d(x, 1)[:, :1]), "a channels-last view"),
    ("other_permute_of_view", lambda s, x: _p(x).permute(0, 2, 1, 3).permute(0, 3, 1, 2), "permute(0, 3, 1, 2)"),
    ("layer_norm_nchw", lambda s, x: F.layer_norm(x, (6,)), "normalise the width"),
    ("layer_norm_two_dims", lambda s, x: _back(F.layer_norm(_p(x), (6, 6))), "normalized_shape"),
    ("linear_on_nchw", lambda s, x: s.fc1(x), "2-D input"),
    ("parameter_not_per_channel", lambda s, x: _back(_p(x) * s.col), "one value per channel"),
    ("inplace_on_view", lambda s, x: _back(F.relu(_p(x), inplace=True)), "a channels-last view"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_unsupported_channels_last_forms_fail_naming_the_node(case, tmp_path):
    name, fn, words = case
    model = Fn(fn).eval()
    with pytest.raises(ExportError) as e:
        export(model, torch.randn(1, 3, 4, 6), tmp_path / "m")
    text = str(e.value)
    assert "node `" in text or "module `" in text, text
    if words:
        assert words in text, text


def test_layer_norm_module_on_nchw_is_refused(tmp_path):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 4, 1)
            self.ln = nn.LayerNorm(5)

        def forward(self, x):
            return self.ln(self.c(x))

    with pytest.raises(ExportError, match=r"module `ln` \(torch.nn.LayerNorm\).*kiln's layer_norm normalises "
                                          r"channels"):
        export(M().eval(), torch.randn(1, 3, 4, 5), tmp_path / "m")


def test_convnext_tiny_exports_and_matches_pytorch(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = torchvision.models.convnext_tiny(weights=None).eval()  # random weights
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        want = model(x)
    export(model, x, tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    counts = collections.Counter(layer["op"] for layer in m["layers"])
    assert counts["layer_norm"] == 23 and counts["gelu"] == 18 and counts["conv2d"] == 58
    got = kiln_ref.run(str(tmp_path / "m"))[m["outputs"][0]]
    assert float((got - want).norm() / want.norm()) <= 1e-5
