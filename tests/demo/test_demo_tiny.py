"""The demo pipeline end to end on a tiny setting: files exist, are what they say, and kiln matches PyTorch."""
import json
import math
import os
import subprocess
import sys

from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

IMAGES = ("astronaut", "coffee")
SIZE = 64
# astronaut is 512x512, coffee 400x600: scaled to a longer side of 64, coffee's 43 rows cropped to 40.
SIZES = {"astronaut": "64x64", "coffee": "40x64"}


# Stands in for kiln's Python package: the real one (loaded from its build folder), with every run's first
# output shifted by 1e-3 in one element, as a kiln bug would.
FAULTY_KILN = """import importlib.util, os, sys
_real_dir = %r
_spec = importlib.util.spec_from_file_location("_real_kiln", os.path.join(_real_dir, "__init__.py"),
                                               submodule_search_locations=[_real_dir])
_real = importlib.util.module_from_spec(_spec)
sys.modules["_real_kiln"] = _real
_spec.loader.exec_module(_real)
_run = _real.Context.run


def _faulty_run(self, inputs, out=None):
    outputs = _run(self, inputs, out)
    next(iter(outputs.values()))[0, 1, 2, 3] += 1e-3
    return outputs


_real.Context.run = _faulty_run
globals().update({k: getattr(_real, k) for k in dir(_real) if not k.startswith("__")})
__version__ = _real.__version__
"""


def _demo(kiln_bin, out, *extra, expect_rc=0):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(REPO, "demo"), os.path.join(REPO, "exporter")]))
    cmd = [sys.executable, "-m", "kiln_demo", "--out", out, "--kiln", kiln_bin, "--steps", "20",
           "--image-size", str(SIZE), "--images", ",".join(IMAGES), "--repeat", "2"] + list(extra)
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600)
    print(proc.stdout)
    assert proc.returncode == expect_rc, "demo exited %d, not %d:\n%s" % (proc.returncode, expect_rc, proc.stdout)
    return proc.stdout


def test_demo_tiny_writes_grids_and_report_and_kiln_matches(kiln_bin, work_dir):
    out = os.path.join(work_dir, "demo")
    log = _demo(kiln_bin, out, "--retrain")
    assert "saved checkpoint" in log and "kiln ran on: " in log
    assert "\r" not in log  # into a pipe, the progress bar prints plain lines
    assert "train: 100%" in log and "20/20" in log and "loss=" in log

    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    assert rep["kiln_matches_pytorch"] is True
    assert 0 <= rep["max_abs_error"] < 1e-4 and rep["max_abs_error"] == max(im["max_abs_error"] for im in rep["images"])
    assert [im["name"] for im in rep["images"]] == list(IMAGES)
    for im in rep["images"]:
        # Same reconstruction on both sides: the PSNRs agree far better than the 0.01 dB the grid shows.
        assert math.isfinite(im["psnr_pytorch_db"]) and abs(im["psnr_pytorch_db"] - im["psnr_kiln_db"]) < 1e-3
        with Image.open(os.path.join(out, im["grid"])) as grid:
            grid.load()
            # Four panels of the image at its own size (longer side 64, each side a multiple of 8),
            # enlarged to at least 192 rows, with 6-pixel gaps.
            h, w = (int(v) for v in SIZES[im["name"]].split("x"))
            scale = -(-192 // h)
            assert grid.format == "PNG" and grid.size[0] == 4 * scale * w + 5 * 6
        assert im["difference_amplification"] >= 1
    t = rep["timing"]
    assert t["images"] == len(IMAGES) and t["image_sizes"] == [SIZES[n] for n in IMAGES]
    assert "running kiln on 2 images, each at its own size (64x64, 40x64)" in log
    assert "any size from 8x8 to 64x64" in log
    assert t["kiln_ms_per_image"] > 0 and t["pytorch_ms_per_image"] > 0 and t["kiln_load_ms"] >= 0
    assert t["kiln_device"] == rep["environment"]["kiln device"] and t["kiln_device"] in log
    assert rep["training"]["steps"] == 20 and rep["training"]["reused_checkpoint"] is False
    for key in ("torch", "python", "numpy", "scikit-image", "pillow", "gpu"):
        assert rep["environment"][key]

    with open(os.path.join(out, "report.md")) as f:
        md = f.read()
    assert "**kiln matches PyTorch**" in md
    for name in IMAGES:
        assert "[grid_%s.png](grid_%s.png)" % (name, name) in md
    assert os.path.isfile(os.path.join(out, "model", "golden", "layers.manifest"))

    # A second run takes the checkpoint instead of training.
    log = _demo(kiln_bin, out)
    assert "reusing checkpoint" in log and "train:" not in log
    with open(os.path.join(out, "report.json")) as f:
        again = json.load(f)
    assert again["training"]["reused_checkpoint"] is True and again["training"]["steps"] == 20
    assert [im["psnr_kiln_db"] for im in again["images"]] == [im["psnr_kiln_db"] for im in rep["images"]]


    # A kiln that is off by 1e-3 in one element fails the demo, and the report says so.
    faulty = os.path.join(work_dir, "faulty_build")
    os.makedirs(os.path.join(faulty, "python", "kiln"), exist_ok=True)
    with open(os.path.join(faulty, "python", "kiln", "__init__.py"), "w") as f:
        f.write(FAULTY_KILN % os.path.join(os.path.dirname(kiln_bin), "python", "kiln"))
    log = _demo(faulty, out, expect_rc=1)
    assert "kiln and PyTorch differ by 1.00e-03, more than 0.0001" in log and "kiln compare --model" in log
    with open(os.path.join(out, "report.json")) as f:
        bad = json.load(f)
    assert bad["kiln_matches_pytorch"] is False and abs(bad["max_abs_error"] - 1e-3) < 1e-6
    with open(os.path.join(out, "report.md")) as f:
        assert "**kiln DIFFERS from PyTorch**" in f.read()
