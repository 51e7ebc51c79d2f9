"""kiln_ref's part for channel ops: the ops' attributes and weights (OPS, as in kiln_ref.OPS), a check of
attribute values kiln_ref's generic checks do not know (check_attribute returns True when it checked
one), and the reference run of a layer (run_layer), written from formats/README.md."""
OPS = {
    "channel_slice": ({"start", "end"}, set(), set()),
    "channel_shuffle": ({"groups"}, set(), set()),
}


def _count(value, lo):
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value < 2 ** 31


def check_attribute(op, key, value):
    if op not in OPS:
        return False
    assert _count(value, 1 if key in ("end", "groups") else 0), (op, key, value)
    return True


def run_layer(op, a, xs, w):  # noqa: ARG001 - no weights
    assert len(xs) == 1 and not w
    x = xs[0]
    assert x.dim() >= 2
    c = x.shape[1]
    if op == "channel_slice":
        start, end = a["start"], a["end"]
        assert 0 <= start < end <= c, (start, end, c)
        return x[:, start:end].clone()
    if op == "channel_shuffle":
        g = a["groups"]
        assert c % g == 0, (c, g)
        # The spec's definition: view as [N, g, C/g, ...], swap dimensions 1 and 2, back to [N, C, ...].
        return x.reshape(x.shape[0], g, c // g, *x.shape[2:]).transpose(1, 2).reshape(x.shape)
    raise AssertionError("no reference for op " + op)
