"""Dynamic height × width: the range a model's 4-D inputs may take at run time, and the check that the
traced graph does not depend on the size it was traced at.

Note [size-agnostic graphs]
Tracing runs the model's Python at the example size: shape arithmetic becomes constants in model.yaml
(the target of a `view(N, -1)` before a Linear, padding computed from `x.size()`). Such a graph is right
at the example size only. So a dynamic export traces the model again at two other sizes inside the
range, one that keeps the example's power-of-two factors and one a pixel off it (another remainder),
and requires the exports to be the same but for the input shapes; the first layer that differs is
named, with its attribute at both sizes. A model that cannot run at the odd size (a U-Net's skip concat)
is not refused for it: such sizes fail at run time, naming the layer. Convolutions, strided pooling,
integer-scale nearest upsampling, global pooling before a flatten and an interpolate to another
tensor's size are size-agnostic and pass; bilinear upsampling by a scale factor is written as its
output size and is refused.
"""
import re

from .errors import ExportError

MAX_HW = 1 << 16  # formats/model_spec.cpp's bound on a dynamic height or width

_RANGE = re.compile(r"^\s*(\d+)x(\d+)\s*:\s*(\d+)x(\d+)\s*$")


def parse_range(text):
    """'16x16:2048x2048' -> ((16, 16), (2048, 2048)); ExportError for anything else."""
    m = _RANGE.match(text)
    if not m:
        raise ExportError("--dynamic-hw: expected MIN_HxMIN_W:MAX_HxMAX_W like 16x16:2048x2048, found '%s'" % text)
    lo_h, lo_w, hi_h, hi_w = (int(g) for g in m.groups())
    return check_range(((lo_h, lo_w), (hi_h, hi_w)))


def check_range(hw_range):
    try:
        (lo_h, lo_w), (hi_h, hi_w) = hw_range
        values = [int(v) for v in (lo_h, lo_w, hi_h, hi_w)]
    except (TypeError, ValueError):
        raise ExportError("dynamic_hw must be ((min_h, min_w), (max_h, max_w)), found %r" % (hw_range,)) from None
    lo_h, lo_w, hi_h, hi_w = values
    for v in values:
        if not 1 <= v <= MAX_HW:
            raise ExportError("dynamic_hw: every size must be 1 .. %d, found %d" % (MAX_HW, v))
    if lo_h > hi_h or lo_w > hi_w:
        raise ExportError("dynamic_hw: the minimum %dx%d exceeds the maximum %dx%d" % (lo_h, lo_w, hi_h, hi_w))
    return (lo_h, lo_w), (hi_h, hi_w)


def example_hw(inputs, hw_range):
    """The one height × width of the example's 4-D inputs, checked to lie in `hw_range`."""
    sizes = {tuple(x.shape[2:]) for x in inputs if x.dim() == 4}
    if not sizes:
        raise ExportError("--dynamic-hw: the model has no 4-D [N, C, H, W] input whose size could change")
    if len(sizes) > 1:
        raise ExportError("--dynamic-hw: the 4-D inputs have different sizes %s; one range covers inputs of one "
                          "height × width" % sorted(sizes))
    (h, w), = sizes
    (lo_h, lo_w), (hi_h, hi_w) = hw_range
    if not (lo_h <= h <= hi_h and lo_w <= w <= hi_w):
        raise ExportError("--dynamic-hw: the example input's size %dx%d lies outside the range %dx%d:%dx%d"
                          % (h, w, lo_h, lo_w, hi_h, hi_w))
    return h, w


def _other(v, lo, hi):
    """A size in lo..hi other than v that keeps v's power-of-two factors up to 32 (so a network that
    halves its input five times still divides evenly); v itself when the range holds nothing else."""
    step = 1
    while v % (step * 2) == 0 and step < 32:
        step *= 2
    for cand in (v + step, v - step, v + 1, v - 1):
        if lo <= cand <= hi:
            return cand
    return v


def second_hw(hw, hw_range):
    (h, w), ((lo_h, lo_w), (hi_h, hi_w)) = hw, hw_range
    return _other(h, lo_h, hi_h), _other(w, lo_w, hi_w)


def odd_hw(hw, hw_range):
    """A size in the range one pixel off the example's on each axis (another remainder of every power of
    two), or the example's own where the range holds nothing else."""
    (h, w), ((lo_h, lo_w), (hi_h, hi_w)) = hw, hw_range
    pick = lambda v, lo, hi: v + 1 if v + 1 <= hi else (v - 1 if v - 1 >= lo else v)  # noqa: E731
    return pick(h, lo_h, hi_h), pick(w, lo_w, hi_w)


def resized(inputs, hw, generator):
    import torch
    return tuple(torch.randn(x.shape[0], x.shape[1], hw[0], hw[1], generator=generator) if x.dim() == 4 else x.clone()
                 for x in inputs)


def _without_inputs(text):
    """model.yaml's lines, the input entries (whose shapes differ by design) left out."""
    lines, skipping = [], False
    for line in text.splitlines():
        if line == "inputs:":
            skipping = True
            continue
        if skipping and line.startswith("  - {name:"):
            continue
        skipping = False
        lines.append(line)
    return lines


def _layer_of(lines, index):
    for k in range(index, -1, -1):
        if lines[k].startswith("  - name: "):
            return lines[k][len("  - name: "):]
    return None


def check_same_graph(text_a, hw_a, text_b, hw_b, weights_a, weights_b):
    """ExportError naming the first layer whose model.yaml entry (or weight shape) differs between the
    exports at sizes hw_a and hw_b (Note [size-agnostic graphs])."""
    a, b = _without_inputs(text_a), _without_inputs(text_b)
    size_a, size_b = "%dx%d" % hw_a, "%dx%d" % hw_b
    for k in range(max(len(a), len(b))):
        la = a[k] if k < len(a) else "(nothing)"
        lb = b[k] if k < len(b) else "(nothing)"
        if la != lb:
            layer = _layer_of(a, min(k, len(a) - 1)) or "?"
            raise ExportError(
                "--dynamic-hw: the traced graph depends on the input size, so it cannot take other sizes: layer %s "
                "is `%s` at %s but `%s` at %s (a size folded into a constant, e.g. a view/reshape to a fixed "
                "shape or an interpolate size read from a tensor; global pooling before a flatten is "
                "size-agnostic)" % (layer, la.strip(), size_a, lb.strip(), size_b))
    for (name, shape_a), (_, shape_b) in zip(weights_a, weights_b):
        if shape_a != shape_b:
            raise ExportError("--dynamic-hw: weight %s has shape %s at %s but %s at %s: the graph depends on the "
                              "input size" % (name, list(shape_a), size_a, list(shape_b), size_b))
