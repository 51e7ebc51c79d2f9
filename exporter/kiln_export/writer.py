"""Writers of kiln tensor files (manifest + blob) and of the export folder, byte for byte per formats/README.md.

Everything is built in memory first, written and flushed to disk in a temporary sibling folder, and
renamed onto the output folder at the end, so a failed or interrupted export never leaves a partial model
at the output path; a tensor file pair is written the same way, blob before manifest.
"""
import os
import secrets
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


def _temp_name(folder, name, kind):
    """A fresh sibling name `<name>.kiln-<kind>-<pid>-<random>` in `folder` (the name cut so the result stays
    well under the 255-byte file name limit)."""
    return os.path.join(folder, "%s.kiln-%s-%d-%s" % (name[:180], kind, os.getpid(), secrets.token_hex(4)))


def _write_file(path, data):
    """Creates the new file `path` (never overwriting one), writes `data` and flushes it to disk."""
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path):
    """Flushes a folder's entries (new names, renames) to disk where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. Windows, where a folder cannot be opened this way
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder
    finally:
        os.close(fd)


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def write_tensors(manifest_path, tensors):
    """Writes `tensors` as the tensor file `manifest_path` (which must end in .manifest) and its blob, named
    like it with .bin, in the same folder: the format kiln run reads with --input.

    tensors: a mapping {name: array} (its order is the file's order) or a list of (name, array) pairs;
    arrays are numpy float32 or float16 (or anything np.asarray turns into one), batch first for model
    inputs. Both files are first written (and flushed to disk) under temporary names in the same folder,
    then renamed over any existing files of those names, the blob first and the manifest last, so a
    manifest never names a blob that is missing or short. If anything fails, the temporary files are
    removed and the previous files (or their absence) are restored.
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
    temps = []     # (temporary path, final path), in rename order: blob, then manifest
    done = 0       # how many of them have been renamed into place
    backup = None  # a second name (hard link) of the blob being replaced, to put it back on failure
    had_blob = False
    target = path
    try:
        for name, data in ((blob_name, blob), (base, text.encode("ascii"))):
            target = os.path.join(folder, name)
            tmp = _temp_name(folder, name, "tmp")
            _write_file(tmp, data)
            temps.append((tmp, target))
        blob_path = temps[0][1]
        had_blob = os.path.lexists(blob_path)
        if had_blob:
            backup = _temp_name(folder, blob_name, "old")
            try:
                os.link(blob_path, backup)
            except OSError:
                backup = None  # no hard links here: a failure between the renames keeps the new blob
        for tmp, target in temps:
            os.replace(tmp, target)
            done += 1
        _fsync_dir(folder or os.curdir)
    except BaseException as e:
        for tmp, _ in temps:
            _remove_quietly(tmp)
        if done == 1:  # the new blob is in place but the manifest is still the old one (or none)
            try:
                if backup is not None:
                    os.replace(backup, temps[0][1])
                    backup = None
                elif not had_blob:
                    os.remove(temps[0][1])
            except OSError:
                pass
        if isinstance(e, OSError):
            raise ExportError("could not write %s: %s" % (target, e)) from e
        raise
    finally:
        if backup is not None:
            _remove_quietly(backup)


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
    an empty folder or a previous export there.

    Everything is written and flushed to disk in a temporary sibling folder `<out_dir>.kiln-tmp-<pid>-<random>`,
    which is then renamed to `out_dir`. A folder already at `out_dir` is first renamed aside (to
    `<out_dir>.kiln-old-...`) and removed only once the new one is in place. On any exception (an OSError
    becomes an ExportError; anything else, KeyboardInterrupt included, is re-raised) the temporary folder is
    removed and the previous folder is put back untouched.
    """
    out_dir = os.path.abspath(out_dir)
    check_out_dir(out_dir)
    parent, base = os.path.split(out_dir)
    tmp = old = None
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = _temp_name(parent, base, "tmp")
        os.mkdir(tmp)
        for rel in sorted(files):
            path = os.path.join(tmp, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write_file(path, files[rel])
        for folder, _, _ in os.walk(tmp, topdown=False):  # sub-folders before the folder holding them
            _fsync_dir(folder)
        if os.path.lexists(out_dir):
            check_out_dir(out_dir)  # again: it may have changed while the files were being written
            aside = _temp_name(parent, base, "old")
            os.rename(out_dir, aside)
            old = aside
        os.rename(tmp, out_dir)
        tmp = None
        _fsync_dir(parent)
    except BaseException as e:
        if old is not None and not os.path.lexists(out_dir):
            try:
                os.rename(old, out_dir)
                old = None
            except OSError:
                pass  # the previous export stays whole under its -old name
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise ExportError("could not write %s: %s%s" % (out_dir, e, "" if old is None else
                              "; the previous export is kept in %s" % old)) from e
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
