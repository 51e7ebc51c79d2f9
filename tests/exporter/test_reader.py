"""The tensor-file writer produces exactly the layout of formats/README.md; the reader enforces its rules."""
import os
import zlib

import numpy as np
import pytest

from kiln_export import FormatError, read_manifest, read_tensors
from kiln_export.writer import tensor_file


def _write(tmp_path, tensors, stem="t"):
    text, blob = tensor_file(stem + ".bin", tensors)
    (tmp_path / (stem + ".manifest")).write_text(text)
    (tmp_path / (stem + ".bin")).write_bytes(blob)
    return str(tmp_path / (stem + ".manifest"))


def _tensors():
    rng = np.random.default_rng(0)
    return [("a.weight", rng.standard_normal((5, 3, 3, 3)).astype(np.float32)),
            ("a:bias/x-1", rng.standard_normal(7).astype(np.float16)),
            ("scalar", np.array(2.5, dtype=np.float32)),
            ("big", rng.standard_normal((300,)).astype(np.float32))]


def test_layout_and_roundtrip(tmp_path):
    path = _write(tmp_path, _tensors())
    lines = open(path).read().split("\n")
    assert lines[:6] == ["kiln-manifest 1", "blob t.bin", "blob-size 2560", "alignment 256",
                         "crc32 %08x" % zlib.crc32((tmp_path / "t.bin").read_bytes()), "tensors 4"]
    assert lines[6:] == ["a.weight f32 0 540 [5,3,3,3]", "a:bias/x-1 f16 768 14 [7]", "scalar f32 1024 4 []",
                         "big f32 1280 1200 [300]", ""]
    blob = (tmp_path / "t.bin").read_bytes()
    assert len(blob) == 2560 and not any(blob[540:768]) and not any(blob[2480:])
    back = read_tensors(path)
    assert list(back) == [n for n, _ in _tensors()]
    for name, arr in _tensors():
        assert back[name].dtype == arr.dtype and back[name].shape == arr.shape
        assert (back[name] == arr).all()


def test_empty_file(tmp_path):
    path = _write(tmp_path, [])
    assert open(path).read() == "kiln-manifest 1\nblob t.bin\nblob-size 0\nalignment 256\ncrc32 00000000\ntensors 0\n"
    assert read_tensors(path) == {}


def test_comments_and_crlf_are_accepted(tmp_path):
    path = _write(tmp_path, _tensors()[:2])
    lines = open(path).read().split("\n")
    text = "\r\n".join(lines[:1] + ["# comment", "  ", "\t# indented comment"] + lines[1:]) + "# trailing\n"
    open(path, "w", newline="").write(text)
    assert list(read_tensors(path)) == ["a.weight", "a:bias/x-1"]


def _corrupt_manifest(tmp_path, old, new):
    path = _write(tmp_path, _tensors()[:2])
    text = open(path).read()
    assert old in text
    open(path, "w").write(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old,new,pattern", [
    ("kiln-manifest 1", "kiln-manifest 2", r"t\.manifest:1: version 2 is newer than this reader's 1"),
    ("blob t.bin", "blob ../t.bin", r":2: field blob: expected a plain file name"),
    ("alignment 256", "alignment 100", r":4: field alignment: expected a power of two in 16\.\.1048576, found 100"),
    ("alignment 256", "alignment 0256", r":4: field alignment: expected an unsigned decimal number"),
    ("tensors 2", "tensors 3", r"file ends early; expected 3 tensor lines"),
    ("tensors 2", "tensors 1", r":8: expected only comments after 1 tensor lines"),
    (" 768 14 [7]", " 512 14 [7]", r":8: field offset: expected 768 \(tensors tile the blob in order\), found 512"),
    (" 768 14 [7]", " 768 16 [7]", r":8: field nbytes: shape \[7\] of f16 needs 14 bytes, found 16"),
    ("f16 768", "bf16 768", r":8: field dtype: expected f32 or f16, found 'bf16'"),
    ("[7]", "[7, 1]", r":8: expected 'NAME DTYPE OFFSET NBYTES SHAPE', found 6 fields"),
    ("[7]", "[0]", r":8: field shape: dimension 0 is outside 1\.\.2\^40"),
    ("a:bias/x-1", "a.weight", r":8: field name: 'a\.weight' appears twice"),
    ("a:bias/x-1", "a bias", r":8: expected 'NAME DTYPE OFFSET NBYTES SHAPE', found 6 fields"),
    ("blob-size 1024", "blob-size 1280", r"field blob-size: expected 1024 \(last tensor end aligned\), found 1280"),
    ("blob-size 1024", "blob-size 99999999999999999999999", r":3: field blob-size: expected an unsigned decimal"),
])
def test_manifest_rules(tmp_path, old, new, pattern):
    path = _corrupt_manifest(tmp_path, old, new)
    with pytest.raises(FormatError, match=pattern):
        read_tensors(path)


def test_blob_checks(tmp_path):
    path = _write(tmp_path, _tensors()[:2])
    blob_path = tmp_path / "t.bin"
    good = blob_path.read_bytes()
    blob_path.unlink()
    with pytest.raises(FormatError, match=r"t\.manifest: cannot read blob .*t\.bin: No such file or directory"):
        read_tensors(path)
    blob_path.write_bytes(good[:-1])
    with pytest.raises(FormatError, match=r"blob .*t\.bin is 1023 bytes; the manifest says blob-size 1024"):
        read_tensors(path)
    bad = bytearray(good)
    bad[3] ^= 0x40
    blob_path.write_bytes(bytes(bad))
    with pytest.raises(FormatError, match=r"blob .*t\.bin has crc32 [0-9a-f]{8}; the manifest says %08x"
                       % zlib.crc32(good)):
        read_tensors(path)
    # Non-zero padding with a matching CRC is still rejected.
    bad = bytearray(good)
    bad[600] = 1
    blob_path.write_bytes(bytes(bad))
    text = open(path).read().replace("crc32 %08x" % zlib.crc32(good), "crc32 %08x" % zlib.crc32(bytes(bad)))
    open(path, "w").write(text)
    with pytest.raises(FormatError, match=r"t\.manifest:8: padding before tensor a:bias/x-1 is not zero"):
        read_tensors(path)


def test_read_manifest_exposes_layout(tmp_path):
    m = read_manifest(_write(tmp_path, _tensors()))
    assert [(t.name, t.offset, t.nbytes, t.shape) for t in m.tensors][:2] == [
        ("a.weight", 0, 540, (5, 3, 3, 3)), ("a:bias/x-1", 768, 14, (7,))]
    assert m.blob_path == os.path.join(str(tmp_path), "t.bin") and m.alignment == 256
