"""Pooling, spatial reductions and upsampling, in every module and functional form, export to spec-valid
folders whose reference run (kiln_ref + ref_pool, written from formats/README.md) reproduces PyTorch's
golden outputs and every golden layer; the forms kiln does not support fail at export naming the node."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kiln_ref
from kiln_export import ExportError, export
from test_ops import Fn, conv, seq


def _aspp(s, x):
    """DeepLab's ASPP pooling branch: global pooling, a 1x1 conv, bilinear back to the input's size."""
    y = s.c(F.adaptive_avg_pool2d(x, 1))
    return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False) + s.c(x)


def _resize_to_input(s, x):
    """A segmentation head's resize to its input, in each way the size can be read from a tensor."""
    y = s.c(x)
    return (F.interpolate(y, size=x.shape[-2:], mode="bilinear") + F.interpolate(y, size=(x.shape[2], x.shape[3]))
            + F.interpolate(y, size=x.size()[2:], mode="nearest-exact")
            + F.interpolate(y, size=(x.size(-2), x.size(-1)), mode="bilinear", align_corners=True))


# (id, model factory, input shape, ops and attribute keys that must appear in model.yaml)
CASES = [
    ("maxpool_ceil_squeezenet", lambda: seq(conv(), nn.MaxPool2d(3, 2, ceil_mode=True)), (2, 3, 14, 11),
     {"max_pool2d": {"ceil_mode"}}),
    ("maxpool_ceil_drops_padding_window", lambda: seq(conv(), nn.MaxPool2d(2, 2, padding=1, ceil_mode=True)),
     (1, 3, 11, 9), {"max_pool2d": {"ceil_mode", "padding"}}),
    ("maxpool_dilation", lambda: seq(conv(), nn.MaxPool2d((3, 2), (1, 2), padding=1, dilation=(2, 3),
                                                         ceil_mode=True)), (1, 3, 11, 10),
     {"max_pool2d": {"dilation", "ceil_mode"}}),
    ("avgpool_ceil_forms", lambda: seq(conv(), nn.AvgPool2d(3, 2, 1, ceil_mode=True), conv(4, 4),
                                       nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)),
     (1, 3, 14, 13), {"avg_pool2d": {"ceil_mode", "count_include_pad"}}),
    ("avgpool_divisor", lambda: seq(conv(), nn.AvgPool2d((2, 3), 2, 1, ceil_mode=True, divisor_override=5)),
     (2, 3, 9, 8), {"avg_pool2d": {"divisor_override"}}),
    ("f_pools_ceil", lambda: Fn(lambda s, x: F.avg_pool2d(F.max_pool2d(s.c(x), 3, 2, ceil_mode=True), 2,
                                                          ceil_mode=True, divisor_override=3) +
                                torch.max_pool2d(F.max_pool2d(s.c(x), 2, 2, 0, 1, True), 3, 2, 0, 1, True), c=conv()),
     (1, 3, 13, 13), {"max_pool2d": {"ceil_mode"}, "avg_pool2d": {"divisor_override"}}),
    ("adaptive_avg_6x6_alexnet", lambda: seq(conv(), nn.AdaptiveAvgPool2d((6, 6))), (2, 3, 13, 13),
     {"adaptive_avg_pool2d": {"output_size"}}),
    ("adaptive_avg_7x7_upsamples_vgg", lambda: seq(conv(), nn.AdaptiveAvgPool2d(7)), (1, 3, 5, 5),
     {"adaptive_avg_pool2d": {"output_size"}}),
    ("adaptive_avg_keeps_none", lambda: seq(conv(), nn.AdaptiveAvgPool2d((None, 3))), (1, 3, 6, 8),
     {"adaptive_avg_pool2d": {"output_size"}}),
    ("adaptive_max_forms", lambda: seq(conv(), nn.AdaptiveMaxPool2d((3, 4)), conv(4, 4), nn.AdaptiveMaxPool2d(1)),
     (1, 3, 10, 9), {"adaptive_max_pool2d": {"output_size"}, "global_max_pool2d": set()}),
    ("adaptive_to_1x1_is_global", lambda: seq(conv(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()), (2, 3, 7, 5),
     {"global_avg_pool2d": set(), "flatten": set()}),
    ("f_adaptive", lambda: Fn(lambda s, x: F.adaptive_avg_pool2d(s.c(x), 6) + F.adaptive_max_pool2d(s.c(x), (6, 6)) +
                              F.adaptive_max_pool2d(s.c(x), 6, return_indices=False), c=conv()), (1, 3, 13, 11),
     {"adaptive_avg_pool2d": {"output_size"}, "adaptive_max_pool2d": {"output_size"}}),
    ("mean_amax_keepdim", lambda: Fn(lambda s, x: s.c(x).mean((2, 3), keepdim=True) + torch.mean(
        s.c(x), dim=[3, -2], keepdim=True) + s.c(x).amax(dim=(-1, -2), keepdim=True) + torch.amax(
        s.c(x), (2, 3), True), c=conv()), (2, 3, 6, 7), {"global_avg_pool2d": set(), "global_max_pool2d": set()}),
    ("resize_to_input_every_form", lambda: Fn(_resize_to_input, c=nn.Conv2d(3, 4, 3, stride=2, padding=1)), (2, 3, 9, 13),
     {"upsample_bilinear": {"align_corners"}, "upsample_nearest": {"mode"}}),
    ("aspp_pooling_branch", lambda: Fn(_aspp, c=nn.Conv2d(3, 3, 1)), (1, 3, 9, 7),
     {"global_avg_pool2d": set(), "upsample_bilinear": set()}),  # its size: the input's, as a second input
    ("upsample_nearest_sizes", lambda: seq(conv(), nn.Upsample(size=(7, 9)), nn.UpsamplingNearest2d(size=(5, 4)),
                                           nn.Upsample(size=(13, 11), mode="nearest-exact")), (1, 3, 4, 5),
     {"upsample_nearest": {"size", "mode"}}),
    ("upsample_nearest_scale_factor_kept", lambda: seq(conv(), nn.Upsample(scale_factor=1.7)), (1, 3, 5, 5),
     {"upsample_nearest": {"size", "scale_factor"}}),
    ("upsample_nearest_integer_is_scale", lambda: seq(conv(), nn.Upsample(scale_factor=2), nn.Upsample(
        scale_factor=(3, 2), mode="nearest-exact"), nn.UpsamplingNearest2d(scale_factor=2)), (1, 3, 3, 4),
     {"upsample_nearest": {"scale"}}),
    ("upsample_bilinear_forms", lambda: seq(conv(), nn.Upsample(scale_factor=2, mode="bilinear"),
                                            nn.Upsample(size=(11, 13), mode="bilinear", align_corners=True),
                                            nn.UpsamplingBilinear2d(scale_factor=1.5)), (1, 3, 4, 5),
     {"upsample_bilinear": {"scale", "size", "align_corners"}}),  # scale_factor=2: the `scale` form
    ("upsample_bilinear_scale_factor_kept", lambda: seq(conv(), nn.Upsample(scale_factor=1.7, mode="bilinear")),
     (1, 3, 5, 6), {"upsample_bilinear": {"size", "scale_factor"}}),
    ("upsample_recompute_drops_factor", lambda: seq(conv(), nn.Upsample(scale_factor=1.7, mode="bilinear",
                                                                        recompute_scale_factor=True)), (1, 3, 5, 6),
     {"upsample_bilinear": {"size"}}),
    ("f_interpolate_forms", lambda: Fn(lambda s, x: F.interpolate(F.interpolate(
        s.c(x), scale_factor=(2, 1.5)), size=(8, 9), mode="bilinear") + F.interpolate(
        s.c(x), size=[8, 9], mode="bilinear", align_corners=True) + F.interpolate(
        s.c(x), scale_factor=(2, 1.8), mode="nearest-exact", recompute_scale_factor=True) + F.interpolate(
        s.c(x), size=(8, 9), mode="nearest-exact") + F.interpolate(
        s.c(x), (8, 9), None, "nearest", None, None, False), c=conv()), (1, 3, 4, 5),
     {"upsample_nearest": {"size"}, "upsample_bilinear": {"size", "align_corners"}}),
    ("f_upsample_forms", lambda: Fn(lambda s, x: F.upsample(s.c(x), scale_factor=2, mode="bilinear") + F.upsample(
        s.c(x), size=(8, 10), mode="bilinear", align_corners=True) + F.upsample_bilinear(s.c(x), scale_factor=2) +
        F.upsample_nearest(s.c(x), size=(8, 10)) + F.upsample_nearest(s.c(x), scale_factor=2), c=conv()),
     (1, 3, 4, 5), {"upsample_nearest": {"scale"}, "upsample_bilinear": {"scale", "size", "align_corners"}}),
]


def _check_uses(m, wanted):
    seen = {}
    for layer in m["layers"]:
        seen.setdefault(layer["op"], set()).update(layer.get("attributes", {}))
    for op, keys in wanted.items():
        assert op in seen, "expected op %s, model.yaml has %s" % (op, sorted(seen))
        assert keys <= seen[op], "expected %s to use %s, found %s" % (op, keys, seen[op])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pool_upsample_exports_and_matches_pytorch(case, tmp_path, randn):
    _, factory, shape, wanted = case
    torch.manual_seed(0)
    result = export(factory(), randn(*shape), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    _check_uses(m, wanted)
    assert result.layers == [layer["name"] for layer in m["layers"]]


# keepdim=False: the pooled [N, C, 1, 1] then a flatten to PyTorch's [N, C] (mnasnet's x.mean([2, 3])); the
# pooling layer's golden value is written in kiln's [N, C, 1, 1].
@pytest.mark.parametrize("reduce", [lambda x: x.mean([2, 3]), lambda x: torch.mean(x, (-1, -2)),
                                    lambda x: x.amax((2, 3)), lambda x: torch.amax(x, dim=[-2, 3])],
                         ids=["method_mean", "torch_mean", "method_amax", "torch_amax"])
def test_reduction_without_keepdim_flattens(reduce, tmp_path, randn):
    torch.manual_seed(0)
    model = Fn(lambda s, x: s.fc(reduce(s.c(x))), c=conv(3, 6), fc=nn.Linear(6, 5))
    export(model, randn(2, 3, 7, 5), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [layer["op"] for layer in m["layers"]][1:] in (
        ["global_avg_pool2d", "flatten", "linear"], ["global_max_pool2d", "flatten", "linear"])


def test_adaptive_to_the_input_size_is_an_identity(tmp_path, randn):
    export(seq(conv(), nn.AdaptiveAvgPool2d((6, 5)), nn.AdaptiveMaxPool2d((6, 5))), randn(1, 3, 6, 5), tmp_path / "m")
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert [layer["op"] for layer in m["layers"]] == ["conv2d"]


def test_a_kept_factor_is_written_where_it_moves_pixels(tmp_path, randn):
    """30 -> 60 with scale_factor 2.01 reads floor(d / 2.01), not d // 2: the size form with the factor;
    4 -> 8 with 2.0 is the integer scale form; 5 -> 8 with 1.7 keeps the factor."""
    export(seq(conv(), nn.Upsample(scale_factor=2.01)), randn(1, 3, 30, 30), tmp_path / "a")
    a = kiln_ref.check_against_golden(str(tmp_path / "a"))
    assert a["layers"][1]["attributes"] == {"size": [60, 60], "scale_factor": 2.01}
    export(seq(conv(), nn.Upsample(scale_factor=2.0)), randn(1, 3, 4, 4), tmp_path / "c")
    c = kiln_ref.check_against_golden(str(tmp_path / "c"))
    assert c["layers"][1]["attributes"] == {"scale": [2, 2]}
    export(seq(conv(), nn.Upsample(scale_factor=1.7)), randn(1, 3, 5, 5), tmp_path / "b")
    b = kiln_ref.check_against_golden(str(tmp_path / "b"))
    assert b["layers"][1]["attributes"] == {"size": [8, 8], "scale_factor": 1.7}


ERRORS = [
    ("bicubic", lambda: seq(conv(), nn.Upsample(scale_factor=2, mode="bicubic")), (1, 3, 4, 4),
     r"module `1` \(torch\.nn\.Upsample\).*upsampling mode 'bicubic' is not supported; kiln upsamples with mode "
     r"'nearest', 'nearest-exact' or 'bilinear'"),
    ("area", lambda: Fn(lambda s, x: F.interpolate(s.c(x), size=(2, 2), mode="area"), c=conv()), (1, 3, 4, 4),
     r"`torch\.nn\.functional\.interpolate` \(node `interpolate`\).*mode 'area' is not supported"),
    ("antialias", lambda: Fn(lambda s, x: F.interpolate(s.c(x), size=(2, 2), mode="bilinear", antialias=True),
                             c=conv()), (1, 3, 4, 4), r"node `interpolate`.*antialias=True is not supported"),
    ("per_axis_factor", lambda: Fn(lambda s, x: F.interpolate(s.c(x), scale_factor=(2.0, 1.7), mode="bilinear"),
                                   c=conv()), (1, 3, 4, 5),
     r"node `interpolate`.*scale_factor \[2\.0, 1\.7\] differs per axis and changes PyTorch's source pixels"),
    ("maxpool_indices", lambda: Fn(lambda s, x: s.p(s.c(x))[0], c=conv(), p=nn.MaxPool2d(2, return_indices=True)),
     (1, 3, 4, 4), r"module `p` \(torch\.nn\.MaxPool2d\).*return_indices=True is not supported"),
    ("adaptive_max_indices", lambda: Fn(lambda s, x: s.p(s.c(x))[0], c=conv(),
                                        p=nn.AdaptiveMaxPool2d(2, return_indices=True)), (1, 3, 4, 4),
     r"module `p` \(torch\.nn\.AdaptiveMaxPool2d\).*return_indices=True is not supported"),
    ("mean_over_channels", lambda: Fn(lambda s, x: s.c(x).mean(1), c=conv()), (1, 3, 4, 4),
     r"method `Tensor\.mean` \(node `mean`.*reducing over dim=1 is not supported; kiln reduces a 4-D tensor over "
     r"its spatial dims \(2, 3\)"),
    ("mean_everything", lambda: Fn(lambda s, x: s.c(x).mean(), c=conv()), (1, 3, 4, 4),
     r"method `Tensor\.mean`.*reducing over dim=None is not supported"),
    ("amax_one_axis", lambda: Fn(lambda s, x: torch.amax(s.c(x), -1), c=conv()), (1, 3, 4, 4),
     r"`torch\.amax` \(node `amax`.*reducing over dim=-1 is not supported"),
    ("mean_dtype", lambda: Fn(lambda s, x: torch.mean(s.c(x), (2, 3), dtype=torch.float32), c=conv()), (1, 3, 4, 4),
     r"`torch\.mean` \(node `mean`.*dtype= is not supported"),
    ("mean_5d", lambda: Fn(lambda s, x: x.mean((2, 3)), c=conv()), (2, 3, 4, 4, 2),
     r"method `Tensor\.mean`.*kiln's global_avg_pool2d takes a 4-D input, found shape \[2, 3, 4, 4, 2\]"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_unsupported_forms_fail_at_export_naming_the_node(case, tmp_path, randn):
    _, factory, shape, message = case
    with pytest.raises(ExportError, match=message):
        export(factory(), randn(*shape), tmp_path / "m")
    assert not (tmp_path / "m").exists()
