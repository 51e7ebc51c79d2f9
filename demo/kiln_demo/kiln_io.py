"""kiln's side of the demo: export the model, load it with kiln's Python package and run it."""
import copy
import statistics
import time

import numpy as np
import torch

from kiln_export import export

from .kiln_package import REPO, import_kiln  # noqa: F401  (the pipeline's entry points)



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
