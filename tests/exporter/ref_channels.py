"""kiln_ref's part for channel ops: the ops' attributes and weights (OPS, as in kiln_ref.OPS), a check of
attribute values kiln_ref's generic checks do not know (check_attribute returns True when it checked
one), and the reference run of a layer (run_layer), written from formats/README.md."""
OPS = {}


def check_attribute(op, key, value):  # noqa: ARG001 - no channel ops yet
    return False


def run_layer(op, a, xs, w):  # noqa: ARG001
    raise AssertionError("no reference for op " + op)
