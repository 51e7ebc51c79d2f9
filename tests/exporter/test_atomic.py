"""Atomic writes: an export (or a write_tensors call) that fails or is interrupted part-way never leaves a
half-written model folder or tensor file at the output path, nor temporary files beside it, and a previous
export there stays byte for byte as it was."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

import kiln_ref
from conftest import EXPORTER
from kiln_export import ExportError, export, read_tensors, write_tensors
from kiln_export import writer

EXPORT_FILES = ["golden/inputs.bin", "golden/inputs.manifest", "golden/layers.bin", "golden/layers.manifest",
                "golden/outputs.bin", "golden/outputs.manifest", "model.yaml", "weights.bin", "weights.manifest"]


def _small(channels=4):
    torch.manual_seed(channels)
    return nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
                         nn.Conv2d(channels, 2, 1), nn.Sigmoid())


def _x():
    return torch.randn(1, 3, 6, 6, generator=torch.Generator().manual_seed(5))


def _snapshot(folder):
    """{relative path: bytes} of every file under `folder`."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder).replace(os.sep, "/")] = f.read()
    return files


def _fail_after(monkeypatch, n, exc=OSError(28, "No space left on device")):
    """Makes writer._write_file raise `exc` on its (n+1)-th call, after writing n files for real."""
    real, calls = writer._write_file, []

    def write(path, data):
        if len(calls) == n:
            raise exc
        calls.append(path)
        real(path, data)

    monkeypatch.setattr(writer, "_write_file", write)
    return calls


def _fail_rename(monkeypatch, match, exc):
    """Makes os.rename raise `exc` when its source path contains `match`."""
    real = os.rename

    def rename(src, dst, *args, **kwargs):
        if match in os.path.basename(os.fspath(src)):
            raise exc
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)


def test_interrupted_export_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "m"
    calls = _fail_after(monkeypatch, 4)
    with pytest.raises(ExportError, match=r"could not write .*m: .*No space left on device"):
        export(_small(), _x(), out, golden_layers=True)
    assert len(calls) == 4, "the failure came part-way through the files"
    assert not out.exists()
    assert os.listdir(tmp_path) == [], "no temporary folder may be left behind"


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("boom")])
def test_other_exceptions_propagate_and_clean_up(tmp_path, monkeypatch, exc):
    _fail_after(monkeypatch, 2, exc)
    with pytest.raises(type(exc)):
        export(_small(), _x(), tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_interrupted_reexport_keeps_the_previous_export(tmp_path, monkeypatch):
    out = tmp_path / "m"
    export(_small(), _x(), out, golden_layers=True)
    before = _snapshot(out)
    assert sorted(before) == EXPORT_FILES
    for n in (0, 3, len(EXPORT_FILES) - 1):  # before the first file, part-way, before the last one
        _fail_after(monkeypatch, n)
        with pytest.raises(ExportError, match=r"No space left on device"):
            export(_small(8), _x(), out, golden_layers=True)
        monkeypatch.undo()
        assert _snapshot(out) == before, "the previous export must stay byte for byte as it was"
        assert os.listdir(tmp_path) == ["m"]
    kiln_ref.check_against_golden(str(out))


@pytest.mark.parametrize("exc", [OSError(5, "Input/output error"), KeyboardInterrupt()])
def test_failure_between_the_renames_puts_the_previous_export_back(tmp_path, monkeypatch, exc):
    out = tmp_path / "m"
    export(_small(), _x(), out)
    before = _snapshot(out)
    _fail_rename(monkeypatch, "kiln-tmp", exc)  # the old folder is already aside when the new one moves in
    with pytest.raises(ExportError if isinstance(exc, OSError) else KeyboardInterrupt):
        export(_small(8), _x(), out)
    monkeypatch.undo()
    assert _snapshot(out) == before
    assert os.listdir(tmp_path) == ["m"]
    kiln_ref.check_against_golden(str(out))


def test_failure_moving_the_previous_export_aside_keeps_it(tmp_path, monkeypatch):
    out = tmp_path / "m"
    export(_small(), _x(), out)
    before = _snapshot(out)
    real = os.rename

    def rename(src, dst, *args, **kwargs):
        if os.path.abspath(src) == str(out):
            raise OSError(16, "Device or resource busy")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(ExportError, match=r"Device or resource busy$"):
        export(_small(8), _x(), out)
    monkeypatch.undo()
    assert _snapshot(out) == before and os.listdir(tmp_path) == ["m"]


def test_successful_reexport_replaces_the_previous_one(tmp_path):
    out = tmp_path / "m"
    export(_small(), _x(), out, golden_layers=True)
    before = _snapshot(out)
    export(_small(8), _x(), out)
    after = _snapshot(out)
    assert sorted(after) == [f for f in EXPORT_FILES if "layers" not in f]
    assert after["weights.bin"] != before["weights.bin"]
    assert after == _snapshot(_export_fresh(tmp_path / "fresh")), "the same bytes as an export into a new folder"
    assert sorted(os.listdir(tmp_path)) == ["fresh", "m"], "no temporary or old folder may be left behind"
    m = kiln_ref.check_against_golden(str(out))
    assert m["layers"][0]["name"] == "0"


def _export_fresh(out):
    export(_small(8), _x(), out)
    return out


def test_a_folder_changed_during_the_export_is_not_replaced(tmp_path, monkeypatch):
    out = tmp_path / "m"
    export(_small(), _x(), out)
    real = writer._write_file

    def write(path, data):  # someone puts their own file into the folder while the export is running
        (out / "notes.txt").write_text("mine")
        real(path, data)

    monkeypatch.setattr(writer, "_write_file", write)
    with pytest.raises(ExportError, match=r"holds files other than a kiln export's"):
        export(_small(8), _x(), out)
    assert (out / "notes.txt").read_text() == "mine" and (out / "model.yaml").exists()
    assert os.listdir(tmp_path) == ["m"]


def test_no_temporary_names_remain_after_success(tmp_path):
    for _ in range(2):  # into a new folder, then over the previous export
        export(_small(), _x(), tmp_path / "m", golden_layers=True)
        assert os.listdir(tmp_path) == ["m"]
        assert sorted(_snapshot(tmp_path / "m")) == EXPORT_FILES
    for _ in range(2):
        write_tensors(str(tmp_path / "t.manifest"), {"a": np.ones((2, 3), np.float32)})
    assert sorted(os.listdir(tmp_path)) == ["m", "t.bin", "t.manifest"]


def test_new_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        export(_small(), _x(), tmp_path / "m")
        write_tensors(str(tmp_path / "t.manifest"), {"a": np.ones(2, np.float32)})
    finally:
        os.umask(umask)
    assert (tmp_path / "m").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "m" / "weights.bin").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "t.bin").stat().st_mode & 0o777 == 0o644


def test_hard_kill_part_way_leaves_nothing_loadable_at_out(tmp_path):
    """A process killed outright (no exception handlers run) leaves only its temporary folder."""
    out = tmp_path / "m"
    script = textwrap.dedent("""\
        import os, sys, torch
        from torch import nn
        from kiln_export import export, writer
        real, calls = writer._write_file, []
        def write(path, data):
            if len(calls) == 3:
                os._exit(9)
            calls.append(path)
            real(path, data)
        writer._write_file = write
        export(nn.Sequential(nn.Conv2d(3, 2, 1)), torch.randn(1, 3, 4, 4), sys.argv[1])
    """)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(EXPORTER), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-c", script, str(out)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 9, r.stderr
    assert not out.exists()
    left = os.listdir(tmp_path)
    assert len(left) == 1 and left[0].startswith("m.kiln-tmp-"), left
    assert len(_snapshot(tmp_path / left[0])) == 3
    export(_small(), _x(), out)  # the next export is not disturbed by the stale temporary folder
    kiln_ref.check_against_golden(str(out))


def _pair_bytes(folder):
    return {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))}


def test_write_tensors_interrupted_between_blob_and_manifest_leaves_no_manifest(tmp_path, monkeypatch):
    path = str(tmp_path / "x.manifest")
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.fspath(dst).endswith(".manifest"):
            raise OSError(5, "Input/output error")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(ExportError, match=r"could not write .*x\.manifest: .*Input/output error"):
        write_tensors(path, {"a": np.ones((2, 3), np.float32)})
    assert os.listdir(tmp_path) == [], "no manifest, no blob without one, no temporary file"


def test_write_tensors_interrupted_over_a_previous_pair_keeps_it(tmp_path, monkeypatch):
    path = str(tmp_path / "x.manifest")
    old = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_tensors(path, {"a": old})
    before = _pair_bytes(tmp_path)
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.fspath(dst).endswith(".manifest") and "kiln-tmp" in os.fspath(src):
            raise KeyboardInterrupt
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_tensors(path, {"b": np.zeros((4, 100), np.float32)})
    monkeypatch.undo()
    assert _pair_bytes(tmp_path) == before, "the old blob is put back beside the old manifest"
    assert np.array_equal(read_tensors(path)["a"], old)

    _fail_after(monkeypatch, 1)  # the blob's temporary file is written, the manifest's fails
    with pytest.raises(ExportError, match=r"could not write .*x\.manifest: .*No space left"):
        write_tensors(path, {"b": np.zeros((4, 100), np.float32)})
    assert _pair_bytes(tmp_path) == before


def test_write_tensors_writes_the_blob_before_the_manifest(tmp_path, monkeypatch):
    order, real = [], os.replace

    def replace(src, dst, *args, **kwargs):
        order.append(os.path.basename(os.fspath(dst)))
        assert os.path.getsize(os.fspath(src)) > 0
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    write_tensors(str(tmp_path / "x.manifest"), {"a": np.ones(3, np.float32)})
    assert order == ["x.bin", "x.manifest"]
