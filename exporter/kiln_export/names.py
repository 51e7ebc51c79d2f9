"""Kiln tensor and layer names: charset A-Z a-z 0-9 _ . : / - and 1..256 characters (formats/README.md)."""
import re

_BAD = re.compile(r"[^A-Za-z0-9_.:/\-]")
# Leaves room for the longest weight suffix (".weight") within the 256-character limit.
MAX_LAYER_NAME = 240
MAX_NAME = 256


def is_valid_name(name):
    return isinstance(name, str) and 1 <= len(name) <= MAX_NAME and not _BAD.search(name)


def sanitize(raw):
    """Maps any string to the name charset; never returns an empty string."""
    name = _BAD.sub("_", str(raw))[:MAX_LAYER_NAME]
    return name or "_"


class NameTable:
    """Hands out unique names; a taken name gets the suffix _1, _2, ... (as torch.fx does)."""

    def __init__(self):
        self._taken = set()

    def take(self, raw):
        base = sanitize(raw)
        name, i = base, 0
        while name in self._taken:
            i += 1
            suffix = "_%d" % i
            name = base[: MAX_LAYER_NAME - len(suffix)] + suffix
        self._taken.add(name)
        return name
