"""Writers of kiln tensor files (manifest + blob) and of the export folder, byte for byte per formats/README.md.

Everything is built in memory first and written into a temporary sibling folder that is renamed onto
the output folder at the end, so a failed export leaves no partial model behind.
"""
import os
import shutil
import zlib

import numpy as np

from .errors import ExportError
from .names import is_valid_name

ALIGNMENT = 256
_DTYPE_NAMES = {np.dtype("<f4"): "f32", np.dtype("<f2"): "f16"}
# What a previous export may leave in its folder; only such a folder is replaced without asking.
_EXPORT_ENTRIES = {"model.yaml", "weights.manifest", "weights.bin", "golden"}


def align_up(n, a=ALIGNMENT):
    return (n + a - 1) // a * a


def shape_text(shape):
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def tensor_file(blob_name, tensors):
    """Returns (manifest text, blob bytes) for `tensors`, a list of (name, numpy array of f32 or f16).

    Tensors are laid out in list order, each at the previous end rounded up to ALIGNMENT, padding zero.
    """
    parts, lines, end, seen = [], [], 0, set()
    for name, arr in tensors:
        if not is_valid_name(name):
            raise ExportError("tensor name '%s' is not 1-256 characters of A-Z a-z 0-9 _ . : / -" % name)
        if name in seen:
            raise ExportError("tensor name '%s' is used twice in %s" % (name, blob_name))
        seen.add(name)
        arr = np.asarray(arr)  # not ascontiguousarray, which turns a scalar into shape [1]
        dtype = _DTYPE_NAMES.get(arr.dtype)
        if dtype is None:
            raise ExportError("tensor %s has dtype %s; kiln stores f32 or f16" % (name, arr.dtype))
        if arr.ndim > 8 or any(d < 1 for d in arr.shape):
            raise ExportError("tensor %s has shape %s; kiln needs rank <= 8 and every dimension >= 1"
                              % (name, list(arr.shape)))
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        offset = align_up(end) if parts else 0
        if offset > end:
            parts.append(bytes(offset - end))
        parts.append(data)
        lines.append("%s %s %d %d %s" % (name, dtype, offset, len(data), shape_text(arr.shape)))
        end = offset + len(data)
    size = align_up(end) if lines else 0
    parts.append(bytes(size - end))
    blob = b"".join(parts)
    header = ["kiln-manifest 1", "blob " + blob_name, "blob-size %d" % len(blob), "alignment %d" % ALIGNMENT,
              "crc32 %08x" % (zlib.crc32(blob) & 0xFFFFFFFF), "tensors %d" % len(lines)]
    return "\n".join(header + lines) + "\n", blob


def tensor_files(stem, tensors):
    """{"<stem>.manifest": text bytes, "<stem>.bin": blob} for write_folder()."""
    text, blob = tensor_file(stem + ".bin", tensors)
    return {stem + ".manifest": text.encode("ascii"), stem + ".bin": blob}


def write_tensors(manifest_path, tensors):
    """Writes `tensors` as the tensor file `manifest_path` (which must end in .manifest) and its blob, named
    like it with .bin, in the same folder: the format kiln run reads with --input.

    tensors: a mapping {name: array} (its order is the file's order) or a list of (name, array) pairs;
    arrays are numpy float32 or float16 (or anything np.asarray turns into one), batch first for model
    inputs. Existing files of those names are replaced, the blob first, each through a temporary file.
    Raises ExportError for a bad name, dtype or shape, or when a file cannot be written.
    """
    path = os.fspath(manifest_path)
    folder, base = os.path.split(path)
    if not base.endswith(".manifest") or base == ".manifest":
        raise ExportError("tensor file path %s must end in .manifest (the blob goes beside it as .bin)" % path)
    blob_name = base[:-len(".manifest")] + ".bin"
    if len(blob_name) > 255:
        raise ExportError("tensor file name %s is too long: its blob name must have at most 255 characters" % base)
    items = list(tensors.items()) if hasattr(tensors, "items") else list(tensors)
    text, blob = tensor_file(blob_name, items)
    for name, data in ((blob_name, blob), (base, text.encode("ascii"))):
        target = os.path.join(folder, name)
        tmp = "%s.kiln-tmp-%d" % (target, os.getpid())
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except OSError as e:
            if os.path.lexists(tmp):
                os.remove(tmp)
            raise ExportError("could not write %s: %s" % (target, e)) from e


def _is_previous_export(path):
    entries = set(os.listdir(path))
    return not entries or (entries <= _EXPORT_ENTRIES and "model.yaml" in entries)


def check_out_dir(out_dir):
    """Raises ExportError unless `out_dir` is absent, empty, or a previous kiln export (which is replaced)."""
    if os.path.lexists(out_dir):
        if not os.path.isdir(out_dir) or os.path.islink(out_dir):
            raise ExportError("output path %s exists and is not a folder" % out_dir)
        if not _is_previous_export(out_dir):
            raise ExportError("output folder %s exists and holds files other than a kiln export's "
                              "(model.yaml, weights.*, golden/); choose an empty or new folder" % out_dir)


def write_folder(out_dir, files):
    """Writes `files` ({relative path: bytes}, '/'-separated) as the folder `out_dir`, atomically replacing
    an empty folder or a previous export there."""
    out_dir = os.path.abspath(out_dir)
    check_out_dir(out_dir)
    parent, base = os.path.split(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, ".%s.kiln-tmp-%d" % (base, os.getpid()))
    old = os.path.join(parent, ".%s.kiln-old-%d" % (base, os.getpid()))
    moved_old = False
    try:
        if os.path.lexists(tmp):
            shutil.rmtree(tmp)
        os.mkdir(tmp)
        for rel in sorted(files):
            path = os.path.join(tmp, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(files[rel])
        if os.path.isdir(out_dir):
            os.rename(out_dir, old)
            moved_old = True
        os.rename(tmp, out_dir)
    except OSError as e:
        if moved_old and not os.path.lexists(out_dir):
            os.rename(old, out_dir)
            moved_old = False
        raise ExportError("could not write %s: %s" % (out_dir, e)) from e
    finally:
        if os.path.lexists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        if moved_old:
            shutil.rmtree(old, ignore_errors=True)
