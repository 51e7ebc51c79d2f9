"""kiln's side of the demo: export the model, write the input batch, run the `kiln` tool, read its output."""
import copy
import json
import os
import shutil
import subprocess

import numpy as np
import torch

from kiln_export import export, read_tensors, write_tensors

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_kiln(explicit):
    """The kiln executable: --kiln, else $KILN_BIN, else the newest of the repo's build/kiln and
    build-*/kiln, else `kiln` on PATH. Raises RuntimeError saying how to build it when none is found."""
    def usable(path):
        return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)
    if explicit:
        if not usable(explicit):
            raise RuntimeError("--kiln %s: no executable there" % explicit)
        return os.path.abspath(explicit)
    if usable(os.environ.get("KILN_BIN", "")):
        return os.path.abspath(os.environ["KILN_BIN"])
    builds = [os.path.join(REPO, d, "kiln") for d in sorted(os.listdir(REPO))
              if d == "build" or d.startswith("build-")] if os.path.isdir(REPO) else []
    builds = [b for b in builds if usable(b)]
    if builds:
        return max(builds, key=os.path.getmtime)
    on_path = shutil.which("kiln")
    if on_path:
        return on_path
    raise RuntimeError("no kiln executable found: build it (cmake -S . -B build && cmake --build build "
                       "--target kiln) or pass --kiln PATH")


def export_model(model, example, out_dir):
    """Exports `model` (eval mode, on any device) for inputs shaped like `example` ([1, 3, S, S]),
    with every layer's golden output so `kiln compare --layers` can check it layer by layer."""
    cpu_model = copy.deepcopy(model).cpu().eval()
    return export(cpu_model, example.cpu(), out_dir, golden_layers=True, name="kiln_demo autoencoder")


def run_kiln(kiln, model_dir, input_name, batch, work_dir, device, repeat):
    """Runs `kiln run` on `batch` ([N, 3, S, S] float32 numpy, the model input `input_name`) with --repeat
    and --json.
    Returns (output array [N, 3, S, S], kiln's JSON report as a dict)."""
    os.makedirs(work_dir, exist_ok=True)
    input_path = os.path.join(work_dir, "input.manifest")
    output_path = os.path.join(work_dir, "output.manifest")
    json_path = os.path.join(work_dir, "kiln_run.json")
    write_tensors(input_path, {input_name: np.ascontiguousarray(batch, dtype=np.float32)})
    cmd = [kiln, "run", "--model", model_dir, "--input", input_path, "--output", output_path,
           "--device", device, "--repeat", str(repeat), "--json", json_path]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        raise RuntimeError("kiln run failed (exit %d): %s\n%s" % (proc.returncode, " ".join(cmd), proc.stdout))
    with open(json_path) as f:
        info = json.load(f)
    outputs = read_tensors(output_path)
    if len(outputs) != 1:
        raise RuntimeError("%s holds %d tensors; the demo model has one output" % (output_path, len(outputs)))
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
