"""Model outputs: a dict (torchvision's segmentation models return {"out": ..., "aux": ...}) gives outputs
named after its keys, in its order, read by later layers under their new names; what kiln cannot name is
refused at export."""
from collections import OrderedDict

import pytest
import torch
from torch import nn

import kiln_ref
from kiln_export import ExportError, export


class Heads(nn.Module):
    """Two heads over one trunk; the trunk's output is also read after the first head (a renamed layer
    must still be found by its readers)."""

    def __init__(self, keys=("out", "aux")):
        super().__init__()
        self.keys = keys
        self.trunk = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 2, 1)
        self.out = nn.Conv2d(4, 2, 1)  # a module named like the first key

    def forward(self, x):
        t = torch.relu(self.trunk(x))
        result = OrderedDict()
        h = self.head(t)
        result[self.keys[0]] = h
        result[self.keys[1]] = torch.sigmoid(self.out(t) + h)  # reads the output renamed after key 0
        return result


def test_dict_outputs_are_named_after_their_keys(tmp_path, randn):
    result = export(Heads(), randn(2, 3, 6, 6), tmp_path / "m", golden_layers=True)
    m = kiln_ref.check_against_golden(str(tmp_path / "m"))
    assert m["outputs"] == ["out", "aux"] == result.outputs
    layers = {layer["name"]: layer for layer in m["layers"]}
    # The module named `out` keeps a distinct name: the key took `out` first or the module got a suffix.
    assert len(layers) == len(m["layers"])
    assert layers["out"]["op"] == "conv2d" and layers["aux"]["op"] == "sigmoid"
    assert layers["out"]["weights"]["weight"] == "out.weight"
    assert "out" in layers["add"]["inputs"] and "out_1" in layers["add"]["inputs"]  # the module `out` moved aside


def test_a_key_that_is_not_a_valid_name_is_sanitized(tmp_path, randn):
    result = export(Heads(keys=("seg map", "edges/1")), randn(1, 3, 5, 5), tmp_path / "m")
    assert result.outputs == ["seg_map", "edges/1"]
    kiln_ref.check_against_golden(str(tmp_path / "m"))


def test_a_key_equal_to_the_input_name_gets_a_suffix(tmp_path, randn):
    result = export(Heads(keys=("x", "aux")), randn(1, 3, 5, 5), tmp_path / "m")
    assert result.inputs == ["x"] and result.outputs == ["x_1", "aux"]
    kiln_ref.check_against_golden(str(tmp_path / "m"))


def test_non_string_keys_are_refused(tmp_path, randn):
    class IntKeys(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 2, 1)

        def forward(self, x):
            return {0: self.c(x)}

    with pytest.raises(ExportError, match="dict with key 0; kiln names outputs after string keys"):
        export(IntKeys(), randn(1, 3, 4, 4), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_nested_outputs_are_refused(tmp_path, randn):
    class Nested(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 2, 1)

        def forward(self, x):
            y = self.c(x)
            return {"out": (y, torch.relu(y))}

    with pytest.raises(ExportError, match="a tuple, list or dict of tensors"):
        export(Nested(), randn(1, 3, 4, 4), tmp_path / "m")


def test_keys_that_sanitize_alike_stay_distinct(tmp_path, randn):
    result = export(Heads(keys=("a b", "a_b")), randn(1, 3, 5, 5), tmp_path / "m")
    assert sorted(result.outputs) == ["a_b", "a_b_1"] and len(set(result.outputs)) == 2
    kiln_ref.check_against_golden(str(tmp_path / "m"))
