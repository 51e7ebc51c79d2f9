"""kiln's side of the demo: export the model, load it with kiln's Python package and run it."""
import copy
import statistics
import time

import numpy as np
import torch

from kiln_export import export

from .kiln_package import REPO, import_kiln  # noqa: F401  (the pipeline's entry points)



def export_model(model, example, out_dir, hw_range):
    """Exports `model` (eval mode, on any device) with `example` ([1, 3, H, W]) as its example input and
    any height x width in `hw_range` ((min_h, min_w), (max_h, max_w)) at run time, with every layer's
    golden output so `kiln compare --layers` can check it layer by layer."""
    cpu_model = copy.deepcopy(model).cpu().eval()
    return export(cpu_model, example.cpu(), out_dir, golden_layers=True, name="kiln_demo autoencoder",
                  dynamic_hw=hw_range)


def run_kiln(kiln, model_dir, images, device, repeat):
    """Loads the export with kiln's Python package and runs `images` ([3, H, W] float32 arrays, each its
    own size) one after the other through one context: once to warm up (the first run of each size
    builds that size's plans), then `repeat` times, each image timed host to host (copies to and from
    the device included). Returns (outputs [3, H, W] in order, facts: device, load_ms, first_run_ms
    (all images' first runs), median_ms (of all images' runs together))."""
    start = time.perf_counter()
    engine = kiln.load(model_dir, device=device, max_batch=1)
    load_ms = (time.perf_counter() - start) * 1e3
    ctx = engine.context()
    rounds = []
    for _ in range(repeat + 1):
        total, outs = 0.0, []
        for im in images:
            start = time.perf_counter()
            outputs = ctx.run(im[None])
            total += (time.perf_counter() - start) * 1e3
            if len(outputs) != 1:
                raise RuntimeError("%s has %d outputs; the demo model has one" % (model_dir, len(outputs)))
            outs.append(next(iter(outputs.values()))[0])
        rounds.append(total)
    info = {"device": engine.description, "load_ms": load_ms, "first_run_ms": rounds[0],
            "median_ms": statistics.median(rounds[1:]) if repeat > 0 else rounds[0]}
    return outs, info


def run_pytorch(model, images, device, repeat, timed):
    """Runs `images` one after the other once to warm up, then `repeat` times, as run_kiln does.
    Returns (outputs in order, seconds of the first round, list of seconds of the others), each image
    timed host to host (copies to and from the device included) as kiln's are."""
    rounds = []
    with torch.no_grad():
        for _ in range(repeat + 1):
            total, outs = 0.0, []
            for im in images:
                out, seconds = timed(lambda: model(torch.from_numpy(im[None]).to(device)).cpu(), device)
                total += seconds
                outs.append(out.numpy()[0])
            rounds.append(total)
    return outs, rounds[0], rounds[1:]
