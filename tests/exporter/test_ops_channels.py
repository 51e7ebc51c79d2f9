"""Channel ops: every form of chunk/split/narrow/x[:, a:b] and of the channel shuffle pattern exports to
channel_slice / channel_shuffle, spec-valid and reproducing PyTorch (kiln_ref, every golden layer); Python
in forward that depends on shapes follows the example input (trace.py, Note [concrete tracing]); the forms
kiln cannot express fail at export naming the node; torchvision's ShuffleNet v2 exports and matches."""
import collections

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kiln_ref
from kiln_export import ExportError, export


class Fn(nn.Module):
    """Wraps a function of (self, x); a 1x1 conv `c` gives it `cout` channels to slice."""

    def __init__(self, fn, cout=7, cin=3):
        super().__init__()
        self.fn = fn
        self.c = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.fn(self, self.c(x))


def torchvision_shuffle(x, groups):
    """torchvision's shufflenetv2.channel_shuffle, as written there."""
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, -1, height, width)
    return x


def _loop_over_chunks(s, x):
    pieces = torch.chunk(x, 3, 1)  # 7 channels: 3, 3, 1
    return torch.cat([p.relu() if i % 2 else p.sigmoid() for i, p in enumerate(pieces)][::-1], 1)


def _fewer_chunks(s, x):
    pieces = x.chunk(3, dim=1)  # 4 channels: PyTorch gives two pieces of 2
    assert len(pieces) == 2
    return torch.cat([pieces[-1], pieces[0].tanh()], 1)


def _shape_branch(s, x):
    a, b = x[:, :3], x[:, 3:]
    if a.shape[1] != b.shape[1]:  # 3 vs 4: taken for this example input
        b = b[:, : a.size(1)]
    return a + b.relu()


def _range_over_channels(s, x):
    return torch.cat([x[:, i:i + 1] for i in range(x.size(1) - 1, 0, -2)], 1)


def _unit(s, x):
    """A ShuffleNet v2 stride-1 unit: chunk, conv on one half, concat, shuffle."""
    x1, x2 = x.chunk(2, dim=1)
    return torchvision_shuffle(torch.cat((x1, s.b(x2)), dim=1), 2)


def unit(c):
    m = Fn(_unit, cout=c)
    m.b = nn.Sequential(nn.Conv2d(c // 2, c // 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU(inplace=True))
    return m


class ShapePython(nn.Module):
    """Python steered by shapes only: len(), iterating x.shape, int() of a quotient, range(), a ModuleList, a
    branch on a parameter's shape."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 1)
        self.w = nn.Parameter(torch.rand(1))
        self.blocks = nn.ModuleList([nn.ReLU(), nn.Sigmoid()])

    def forward(self, x):
        y = self.c(x)
        assert len(y.shape) == 4 and [d for d in y.shape][1] == 8
        outs = [y[:, 2 * i:2 * i + 2] for i in range(int(y.size(1) / 2) // 2)]
        for m in self.blocks:
            y = m(y)
        if self.w.shape[0] == 1:
            y = y * 2
        return torch.cat(outs + [y], 1)


# (id, model factory, input shape, the channel ops model.yaml must use)
CASES = [
    ("chunk_method_listed", lambda: Fn(lambda s, x: torch.cat(list(x.chunk(2, dim=1))[::-1], 1), cout=6), (1, 3, 4, 4),
     {"channel_slice": 2}),
    ("chunk_unpacked_then_read", lambda: Fn(lambda s, x: (lambda a, b: torch.cat([b.relu(), a], 1))(*x.chunk(2, 1)),
                                            cout=6), (2, 3, 4, 5), {"channel_slice": 2}),
    ("torch_chunk_loop_uneven", lambda: Fn(_loop_over_chunks), (1, 3, 3, 3), {"channel_slice": 3}),
    ("chunk_fewer_pieces", lambda: Fn(_fewer_chunks, cout=4), (1, 3, 3, 3), {"channel_slice": 2}),
    ("split_int", lambda: Fn(lambda s, x: torch.cat([p * 2 for p in x.split(3, 1)][::-1], 1)), (2, 3, 3, 3),
     {"channel_slice": 3}),
    ("split_list", lambda: Fn(lambda s, x: (lambda a, b: torch.cat([b, a.relu()], 1))(*torch.split(x, [2, 5], dim=1))),
     (1, 3, 3, 3), {"channel_slice": 2}),
    ("split_keywords", lambda: Fn(lambda s, x: torch.split(tensor=x, split_size_or_sections=[4, 3], dim=1)[1].relu()),
     (1, 3, 3, 3), {"channel_slice": 1}),
    ("narrow", lambda: Fn(lambda s, x: x.narrow(1, 2, 3).relu() + torch.narrow(x, 1, -3, 3)), (1, 3, 4, 4),
     {"channel_slice": 2}),
    ("getitem_forms", lambda: Fn(lambda s, x: torch.cat([x[:, 1:4], x[:, : x.shape[1] // 2], x[:, 5:, :, :],
                                                         x[:, -2:], x[:, 2:6, ...]], 1)), (2, 3, 3, 4),
     {"channel_slice": 5}),
    ("getitem_whole_is_input", lambda: Fn(lambda s, x: x[:, 0:7].relu() + x[:, :, :, :]), (1, 3, 2, 2),
     {}),
    ("shape_branch", lambda: Fn(_shape_branch), (1, 3, 3, 3), {"channel_slice": 3}),
    ("range_over_channels", lambda: Fn(_range_over_channels), (1, 3, 2, 2), {"channel_slice": 3}),
    ("shape_python", ShapePython, (2, 3, 3, 3), {"channel_slice": 2}),
    ("shuffle_torchvision_g2", lambda: Fn(lambda s, x: torchvision_shuffle(x, 2), cout=12), (2, 3, 3, 3),
     {"channel_shuffle": 1}),
    ("shuffle_torchvision_g3", lambda: Fn(lambda s, x: torchvision_shuffle(x, 3).relu(), cout=12), (1, 3, 3, 3),
     {"channel_shuffle": 1}),
    ("shuffle_permute_reshape_g4", lambda: Fn(lambda s, x: x.view(x.size(0), 4, 3, 3, 3).permute(0, 2, 1, 3, 4)
                                              .reshape(x.size(0), 12, 3, 3), cout=12), (2, 3, 3, 3),
     {"channel_shuffle": 1}),
    ("shuffle_transpose_flatten", lambda: Fn(lambda s, x: x.reshape(1, 3, 4, 2, 5).transpose(1, 2).flatten(1, 2),
                                             cout=12), (1, 3, 2, 5), {"channel_shuffle": 1}),
    ("shuffle_functional", lambda: Fn(lambda s, x: F.channel_shuffle(x, 3) * 2, cout=9), (1, 3, 3, 3),
     {"channel_shuffle": 1}),
    ("shufflenet_unit_c10", lambda: unit(10), (2, 3, 4, 4), {"channel_slice": 2, "channel_shuffle": 1}),
]
if hasattr(nn, "ChannelShuffle"):
    CASES.append(("shuffle_module", lambda: nn.Sequential(nn.Conv2d(3, 8, 1), nn.ChannelShuffle(4)), (1, 3, 3, 3),
                  {"channel_shuffle": 1}))


def _uses(m):
    return collections.Counter(layer["op"] for layer in m["layers"] if layer["op"].startswith("channel_"))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_channel_form_exports_and_matches_pytorch(case, tmp_path):
    _, factory, shape, wanted = case
    model = factory().eval()
    x = torch.randn(*shape)
    export(model, x, tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert dict(_uses(m)) == wanted
    with torch.no_grad():
        expected = model(x)
    got = kiln_ref.run(str(tmp_path / "m"))[m["outputs"][0]]
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_slice_attributes_are_the_channel_range(tmp_path):
    export(Fn(lambda s, x: torch.cat([x[:, 5:], x[:, 1:3]], 1)), torch.randn(1, 3, 2, 2), tmp_path / "m")
    m, _ = kiln_ref.load(str(tmp_path / "m"))
    slices = [layer["attributes"] for layer in m["layers"] if layer["op"] == "channel_slice"]
    assert slices == [{"start": 5, "end": 7}, {"start": 1, "end": 3}]


def test_shuffle_groups_attribute(tmp_path):
    export(Fn(lambda s, x: torchvision_shuffle(x, 3), cout=12), torch.randn(1, 3, 2, 2), tmp_path / "m")
    m, _ = kiln_ref.load(str(tmp_path / "m"))
    assert [(layer["op"], layer.get("attributes")) for layer in m["layers"]][1:] == \
        [("channel_shuffle", {"groups": 3})]


def _inplace_into_slice(s, x):
    a = x[:, :2]
    a.relu_()
    return x * 2


def _inplace_into_source(s, x):
    a = x[:, :2]
    x.relu_()
    return torch.cat([a, x], 1)


def _value_branch(s, x):
    if x.sum() > 0:
        return x.relu()
    return x.sigmoid()


def _item_branch(s, x):
    return x.relu() if x.max().item() > 0.5 else x.tanh()


ERRORS = [
    ("slice_along_h", lambda s, x: x[:, :, 1:3].relu(), r"node `getitem`.*slicing dimension 2 is not supported"),
    ("step_2", lambda s, x: x[:, ::2].relu(), r"a slice step of 2 is not supported"),
    ("integer_index", lambda s, x: x[:, 0].relu(), r"indexing with .* is not supported; kiln takes x\[:, a:b\]"),
    ("batch_slice", lambda s, x: x[0:1].relu(), r"indexing with .* is not supported"),
    ("empty_range", lambda s, x: torch.cat([x[:, 5:2], x], 1), r"the channel range \[5, 2\) of 7 channels is empty"),
    ("chunk_along_h", lambda s, x: torch.cat([*x.chunk(2, 2)], 1), r"method `Tensor.chunk`.*chunk along dim 2 is not "
                                                                r"supported"),
    ("split_along_batch", lambda s, x: x.split(1)[0].relu(), r"split along dim 0 is not supported"),
    ("value_branch", _value_branch, r"^torch\.fx could not trace Fn: node `gt`.*at .*test_ops_channels\.py:\d+ is "
                                    r"computed from tensor values and used as a truth value"),
    ("item_branch", _item_branch, r"node `gt`.* is computed from tensor values"),
    ("view5_read_otherwise", lambda s, x: x.view(1, 7, 1, 2, 2).relu().view(1, 7, 2, 2),
     r"a reshape to \[1, 7, 1, 2, 2\] is supported only as the start of a channel shuffle.*`relu` reads it"),
    ("shuffle_other_final_shape", lambda s, x: x.view(1, 7, 1, 2, 2).transpose(1, 2).reshape(1, 1, 14, 2),
     r"only as the start of a channel shuffle.*`reshape` reads it"),
    ("transpose_4d", lambda s, x: x.transpose(2, 3).relu(),
     r"method `Tensor.transpose` .*not supported outside a channel shuffle.*not on this 4-D tensor"),
    ("inplace_into_slice", _inplace_into_slice, r"node `relu_` overwrites this channel slice in place"),
    ("inplace_into_source", _inplace_into_source, r"node `relu_` overwrites the sliced tensor in place after"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_unsupported_channel_forms_fail_naming_the_node(case, tmp_path):
    _, fn, message = case
    with pytest.raises(ExportError, match=message):
        export(Fn(fn), torch.randn(1, 3, 2, 2), tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("size", [64, 224])
def test_shufflenet_v2_exports_and_matches_pytorch(size, tmp_path):
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.shufflenet_v2_x1_0().eval()  # random weights
    x = torch.randn(1, 3, size, size)
    export(model, x, tmp_path / "m", golden_layers=(size == 64))
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    ops = collections.Counter(layer["op"] for layer in m["layers"])
    assert ops["channel_slice"] == 26 and ops["channel_shuffle"] == 16 and ops["concat"] == 16
    with torch.no_grad():
        expected = model(x)
    got = kiln_ref.run(str(tmp_path / "m"))[m["outputs"][0]]
    assert (torch.linalg.norm(got - expected) / torch.linalg.norm(expected)).item() <= 1e-5
