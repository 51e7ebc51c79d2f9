"""kiln's side of the demo: export the model, load it with kiln's Python package and run it."""
import copy
import importlib
import os
import statistics
import sys
import time

import numpy as np
import torch

from kiln_export import export

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def import_kiln(explicit):
    """kiln's Python package: from the build folder `explicit` (or the folder of the kiln executable
    given), else an installed `kiln`, else $KILN_BIN's build folder, else the newest of the repo's build
    and build-* folders. Returns (module, where it came from). Raises RuntimeError saying how to build
    it when none is found."""
    def package_in(folder):
        return os.path.isfile(os.path.join(folder, "python", "kiln", "__init__.py"))

    def from_build(folder):
        sys.path.insert(0, os.path.join(folder, "python"))
        sys.modules.pop("kiln", None)
        module = importlib.import_module("kiln")
        return module, os.path.dirname(module.__file__)

    if explicit:
        folder = os.path.dirname(os.path.abspath(explicit)) if os.path.isfile(explicit) else os.path.abspath(explicit)
        if not package_in(folder):
            raise RuntimeError("--kiln %s: no kiln Python package in %s/python (build the target kiln_python)"
                               % (explicit, folder))
        return from_build(folder)
    try:
        module = importlib.import_module("kiln")
        return module, os.path.dirname(module.__file__)
    except ImportError:
        pass
    if os.environ.get("KILN_BIN") and package_in(os.path.dirname(os.path.abspath(os.environ["KILN_BIN"]))):
        return from_build(os.path.dirname(os.path.abspath(os.environ["KILN_BIN"])))
    builds = [os.path.join(REPO, d) for d in sorted(os.listdir(REPO))
              if d == "build" or d.startswith("build-")] if os.path.isdir(REPO) else []
    builds = [b for b in builds if package_in(b)]
    if builds:
        return from_build(max(builds, key=lambda b: os.path.getmtime(os.path.join(b, "python", "kiln"))))
    raise RuntimeError("no kiln Python package found: build it (cmake -S . -B build && cmake --build build), "
                       "pip install build/python, or pass --kiln BUILD_DIR")


def export_model(model, example, out_dir):
    """Exports `model` (eval mode, on any device) for inputs shaped like `example` ([1, 3, S, S]),
    with every layer's golden output so `kiln compare --layers` can check it layer by layer."""
    cpu_model = copy.deepcopy(model).cpu().eval()
    return export(cpu_model, example.cpu(), out_dir, golden_layers=True, name="kiln_demo autoencoder")


def run_kiln(kiln, model_dir, batch, device, repeat):
    """Loads the export with kiln's Python package for `batch` ([N, 3, S, S] float32) and runs it once to
    warm up, then `repeat` times, each timed host to host (copies to and from the device included).
    Returns (output array [N, 3, S, S], facts: device, load_ms, first_run_ms, median_ms)."""
    start = time.perf_counter()
    engine = kiln.load(model_dir, device=device, max_batch=len(batch))
    load_ms = (time.perf_counter() - start) * 1e3
    ctx = engine.context()
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        outputs = ctx.run(batch)
        times.append((time.perf_counter() - start) * 1e3)
    if len(outputs) != 1:
        raise RuntimeError("%s has %d outputs; the demo model has one" % (model_dir, len(outputs)))
    info = {"device": engine.description, "load_ms": load_ms, "first_run_ms": times[0],
            "median_ms": statistics.median(times[1:]) if repeat > 0 else times[0]}
    return next(iter(outputs.values())), info


def run_pytorch(model, batch, device, repeat, timed):
    """Runs the model on `batch` once to warm up, then `repeat` times, as `kiln run --repeat` does.
    Returns (output array, seconds of the first run, list of seconds of the others), each timed host
    to host (copies to and from the device included) as kiln's are."""
    times = []
    with torch.no_grad():
        for _ in range(repeat + 1):
            out, seconds = timed(lambda: model(torch.from_numpy(batch).to(device)).cpu(), device)
            times.append(seconds)
    return out.numpy(), times[0], times[1:]
