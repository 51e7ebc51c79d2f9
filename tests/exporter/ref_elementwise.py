"""kiln_ref's part for elementwise arithmetic: the ops' attributes and weights (OPS, as in kiln_ref.OPS), a
check of attribute values kiln_ref's generic checks do not know (check_attribute returns True when it
checked one), and the reference run of a layer (run_layer), written from formats/README.md ("Ops": add,
sub, mul, div)."""
import math

import torch

_ATTRS = {"scalar", "reverse", "other_per"}
OPS = {op: (_ATTRS, set(), {"other"}) for op in ("add", "sub", "mul", "div")}
_FN = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}


def check_attribute(op, key, value):
    if op not in OPS:
        return False
    if key == "scalar":
        assert isinstance(value, float) and math.isfinite(value), value
    elif key == "reverse":
        assert isinstance(value, bool), value
    else:
        assert key == "other_per" and value in ("channel", "sample"), (key, value)
    return True


def run_layer(op, a, xs, w):
    f, x = _FN[op], xs[0]
    if len(xs) >= 3:  # n-ary add: equal shapes
        assert op == "add" and not a and not w and all(t.shape == x.shape for t in xs)
        return sum(xs[1:], x)
    if len(xs) == 2:  # two tensors: equal ranks, equal batch, numpy broadcasting
        y = xs[1]
        assert not a and not w, (a, w)
        assert x.dim() == y.dim() and x.shape[0] == y.shape[0], (x.shape, y.shape)
        return f(x, y)
    assert len(xs) == 1 and (("scalar" in a) != ("other" in w)), (a, w)
    if "scalar" in a:
        assert "other_per" not in a
        c = torch.tensor(a["scalar"], dtype=torch.float32)  # kiln rounds the scalar to float32 once
    else:
        other, per = w["other"], a.get("other_per", "channel")
        assert x.dim() >= 2
        sample = list(x.shape[1:])
        expected = sample if per == "sample" else [sample[0]] + [1] * (len(sample) - 1)
        assert list(other.shape) == expected, (list(other.shape), expected)
        c = other.reshape([1] + expected)  # right-aligned against the input, the batch broadcast
    out = f(c, x) if a.get("reverse", False) else f(x, c)
    assert out.shape == x.shape
    return out
