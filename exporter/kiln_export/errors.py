"""Errors raised by kiln_export."""


class ExportError(Exception):
    """The model cannot be exported as a kiln model.

    The message names the offending module path or graph node, the op, what kiln expects and what
    was found. When export() raises this, nothing has been written to the output folder.
    """


class FormatError(ValueError):
    """A manifest or blob breaks formats/README.md. The message starts with "<path>:<line>: "."""
