"""Reader of kiln `*.manifest` + `*.bin` tensor files, checking every rule of formats/README.md.

Used by the tests and the demo to load golden tensors and weights back. Errors are FormatError with
"<path>:<line>: <what>" messages.
"""
import os
import re
import zlib
from collections import OrderedDict, namedtuple

import numpy as np

from .errors import FormatError
from .names import is_valid_name

DTYPES = {"f32": np.dtype("<f4"), "f16": np.dtype("<f2")}
MAX_LINE = 4096
MAX_MANIFEST = 256 << 20
MAX_TENSORS = 1000000
MAX_DIM = 1 << 40
_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,19})$")
_SHAPE = re.compile(r"^\[([0-9,]*)\]$")

TensorEntry = namedtuple("TensorEntry", "name dtype offset nbytes shape line")
Manifest = namedtuple("Manifest", "path blob_path blob_size alignment crc32 tensors")


def _align_up(n, a):
    return (n + a - 1) // a * a


class _Lines:
    """Yields (line number, fields) of the non-comment lines after line 1."""

    def __init__(self, path, text):
        self.path = path
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.pos = 0

    def fail(self, line, what):
        raise FormatError("%s:%d: %s" % (self.path, line, what))

    def next(self, expecting):
        """The next non-comment line; at the end of the file, None if `expecting` is None, else an error."""
        while self.pos < len(self.lines):
            self.pos += 1
            raw = self.lines[self.pos - 1]
            if raw.endswith("\r"):
                raw = raw[:-1]
            if len(raw) > MAX_LINE:
                self.fail(self.pos, "line is %d bytes long; at most %d are allowed" % (len(raw), MAX_LINE))
            stripped = raw.strip(" \t")
            if self.pos > 1 and (not stripped or stripped.startswith("#")):
                continue
            return self.pos, re.split(r"[ \t]+", stripped) if stripped else []
        if expecting is None:
            return None
        raise FormatError("%s:%d: file ends early; expected %s" % (self.path, len(self.lines), expecting))


def _number(lines, line, field, text):
    if not _NUMBER.match(text) or int(text) >= 1 << 64:
        lines.fail(line, "field %s: expected an unsigned decimal number below 2^64, found '%s'" % (field, text))
    return int(text)


def _header(lines, keyword):
    line, fields = lines.next("'%s ...'" % keyword)
    if len(fields) != 2 or fields[0] != keyword:
        lines.fail(line, "expected '%s <value>', found '%s'" % (keyword, " ".join(fields)))
    return line, fields[1]


def _check_file_name(lines, line, field, name):
    if not (1 <= len(name) <= 255) or "/" in name or "\\" in name or ".." in name or name == ".":
        lines.fail(line, "field %s: expected a plain file name (no '/', '\\', '..'), found '%s'" % (field, name))


def _parse_shape(lines, line, text):
    m = _SHAPE.match(text)
    if not m:
        lines.fail(line, "field shape: expected '[d0,d1,...]' without spaces, found '%s'" % text)
    dims = [] if m.group(1) == "" else m.group(1).split(",")
    if len(dims) > 8:
        lines.fail(line, "field shape: rank %d; at most 8 is allowed" % len(dims))
    shape = []
    for d in dims:
        v = _number(lines, line, "shape", d)
        if not 1 <= v <= MAX_DIM:
            lines.fail(line, "field shape: dimension %d is outside 1..2^40" % v)
        shape.append(v)
    return tuple(shape)


def parse_manifest(text, path):
    """Parses manifest text (str); `path` names the file in messages and locates the blob."""
    lines = _Lines(path, text)
    line, fields = lines.next("'kiln-manifest 1'")
    if len(fields) != 2 or fields[0] != "kiln-manifest":
        lines.fail(line, "expected 'kiln-manifest 1', found '%s'" % " ".join(fields))
    version = _number(lines, line, "version", fields[1])
    if version != 1:
        lines.fail(line, "version %d is %s than this reader's 1" % (version, "newer" if version > 1 else "other"))
    line, blob = _header(lines, "blob")
    _check_file_name(lines, line, "blob", blob)
    line, text_size = _header(lines, "blob-size")
    blob_size = _number(lines, line, "blob-size", text_size)
    line, text_align = _header(lines, "alignment")
    alignment = _number(lines, line, "alignment", text_align)
    if not (16 <= alignment <= 1 << 20) or alignment & (alignment - 1):
        lines.fail(line, "field alignment: expected a power of two in 16..1048576, found %d" % alignment)
    line, crc_text = _header(lines, "crc32")
    if not re.match(r"^[0-9a-f]{8}$", crc_text):
        lines.fail(line, "field crc32: expected 8 lowercase hex digits, found '%s'" % crc_text)
    line, count_text = _header(lines, "tensors")
    count = _number(lines, line, "tensors", count_text)
    if count > MAX_TENSORS:
        lines.fail(line, "field tensors: %d is more than %d" % (count, MAX_TENSORS))
    tensors, names, end = [], set(), 0
    for _ in range(count):
        line, f = lines.next("%d tensor lines" % count)
        if len(f) != 5:
            lines.fail(line, "expected 'NAME DTYPE OFFSET NBYTES SHAPE', found %d fields" % len(f))
        name, dtype = f[0], f[1]
        if not is_valid_name(name):
            lines.fail(line, "field name: '%s' is not 1-256 characters of A-Z a-z 0-9 _ . : / -" % name)
        if name in names:
            lines.fail(line, "field name: '%s' appears twice" % name)
        names.add(name)
        if dtype not in DTYPES:
            lines.fail(line, "field dtype: expected f32 or f16, found '%s'" % dtype)
        offset = _number(lines, line, "offset", f[2])
        nbytes = _number(lines, line, "nbytes", f[3])
        shape = _parse_shape(lines, line, f[4])
        expected = DTYPES[dtype].itemsize
        for d in shape:
            expected *= d
        if nbytes != expected:
            lines.fail(line, "field nbytes: shape %s of %s needs %d bytes, found %d" % (f[4], dtype, expected, nbytes))
        want = _align_up(end, alignment) if tensors else 0
        if offset != want:
            lines.fail(line, "field offset: expected %d (tensors tile the blob in order), found %d" % (want, offset))
        end = offset + nbytes
        tensors.append(TensorEntry(name, dtype, offset, nbytes, shape, line))
    extra = lines.next(None)
    if extra is not None:
        lines.fail(extra[0], "expected only comments after %d tensor lines, found '%s'" % (count, " ".join(extra[1])))
    want_size = _align_up(end, alignment) if tensors else 0
    if blob_size != want_size:
        raise FormatError("%s: field blob-size: expected %d (last tensor end aligned), found %d"
                          % (path, want_size, blob_size))
    blob_path = os.path.join(os.path.dirname(path), blob)
    return Manifest(path, blob_path, blob_size, alignment, int(crc_text, 16), tensors)


def read_manifest(path):
    size = os.path.getsize(path)
    if size > MAX_MANIFEST:
        raise FormatError("%s: manifest is %d bytes; at most %d are allowed" % (path, size, MAX_MANIFEST))
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as e:
        raise FormatError("%s: expected ASCII text, found byte 0x%02x at offset %d" % (path, data[e.start], e.start))
    return parse_manifest(text, path)


def read_tensors(manifest_path):
    """Reads a manifest and its blob; returns an OrderedDict name -> numpy array (stored dtype, shape).

    Checks the blob's size, CRC-32 and zero padding before returning anything.
    """
    m = read_manifest(manifest_path)
    try:
        with open(m.blob_path, "rb") as f:
            blob = f.read(m.blob_size + 1)  # one byte more tells a longer file from an exact one
    except OSError as e:
        raise FormatError("%s: cannot read blob %s: %s" % (manifest_path, m.blob_path, e.strerror)) from e
    if len(blob) != m.blob_size:
        found = "more than %d" % m.blob_size if len(blob) > m.blob_size else str(len(blob))
        raise FormatError("%s: blob %s is %s bytes; the manifest says blob-size %d"
                          % (manifest_path, m.blob_path, found, m.blob_size))
    crc = zlib.crc32(blob) & 0xFFFFFFFF
    if crc != m.crc32:
        raise FormatError("%s: blob %s has crc32 %08x; the manifest says %08x"
                          % (manifest_path, m.blob_path, crc, m.crc32))
    out, pos = OrderedDict(), 0
    for t in m.tensors:
        if any(blob[pos:t.offset]):
            raise FormatError("%s:%d: padding before tensor %s is not zero" % (manifest_path, t.line, t.name))
        arr = np.frombuffer(blob, dtype=DTYPES[t.dtype], count=t.nbytes // DTYPES[t.dtype].itemsize, offset=t.offset)
        out[t.name] = arr.reshape(t.shape).copy()
        pos = t.offset + t.nbytes
    if any(blob[pos:]):
        raise FormatError("%s: padding after the last tensor is not zero" % manifest_path)
    return out
