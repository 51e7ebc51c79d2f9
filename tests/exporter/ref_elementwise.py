"""kiln_ref's part for elementwise arithmetic: the ops' attributes and weights (OPS, as in kiln_ref.OPS), a
check of attribute values kiln_ref's generic checks do not know (check_attribute returns True when it
checked one), and the reference run of a layer (run_layer), written from formats/README.md."""
OPS = {
    "add": (set(), set(), set()),
}


def check_attribute(op, key, value):  # noqa: ARG001 - add has no attributes
    return False


def run_layer(op, a, xs, w):  # noqa: ARG001 - no attributes or weights yet
    x = xs[0]
    if op == "add":
        assert all(t.shape == x.shape for t in xs)
        return sum(xs[1:], x)
    raise AssertionError("no reference for op " + op)
