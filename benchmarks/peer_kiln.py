"""kiln's side of benchmarks/run_benchmarks.py: export a reference model once, write the shared inputs,
check kiln's outputs and time it.

Peers:
- kiln, kiln-graph: `kiln bench --no-transfers [--cuda-graph]` (device buffers in and out, like the PyTorch
  peers' device tensors), its "GPU compute" median, CUDA events per iteration. It runs in its own process
  on purpose: its load time, CUDA context and peak device memory are then kiln's alone, not mixed with
  this process's PyTorch allocator.
- kiln-py: kiln through its Python package in this process, the way a PyTorch user calls it: a CUDA
  tensor in, preallocated CUDA tensors out (`ctx.run(x, out=...)`), timed with the same CUDA event pairs
  as the PyTorch peers (so Python's per-call cost is in it). Its input is float32 in every precision
  (kiln converts at the boundary, inside the timed call); peak memory is not measured (PyTorch's
  allocator does not see kiln's memory: the kiln row has it).
The correctness check loads the export through the Python package and compares its golden tensors.
"""
import json
import os
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "exporter"))

# Largest relative L2 error of the correctness check against PyTorch's CPU output (the targets of the
# performance issue: fp32 1e-5, fp16 1e-2; tf32 rounds inputs to 10 bits like fp16 does).
CHECK_REL_L2 = {"fp32": 1e-5, "tf32": 1e-2, "fp16": 1e-2}


def export_once(name, master, example, work):
    """Exports `master` (on the CPU, eval mode) to work/models/<name> unless an export of the same weights
    (same checksum, same PyTorch) already sits there. Returns (folder, the model's input name)."""
    from kiln_export import export

    folder = os.path.join(work, "models", name)
    stamp_path = os.path.join(work, "models", name + ".stamp.json")
    stamp = {"model": name, "torch": torch.__version__, "shape": list(example.shape),
             "checksum": float(sum(p.double().sum() for p in master.state_dict().values()))}
    if os.path.exists(os.path.join(folder, "model.yaml")) and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            old = json.load(f)
        if {k: v for k, v in old.items() if k != "input"} == stamp:
            return folder, old["input"]
    result = export(master, example, folder, name=name)
    stamp["input"] = result.inputs[0]
    with open(stamp_path, "w") as f:
        json.dump(stamp, f)
    return folder, stamp["input"]


def write_input(name, tensor_name, x, work):
    """Writes the input tensor `x` (float32, batch first) as `tensor_name` for kiln bench --input; None if
    this kiln_export has no write_tensors (kiln then draws its own random inputs)."""
    try:
        from kiln_export import write_tensors
    except ImportError:
        return None
    os.makedirs(os.path.join(work, "inputs"), exist_ok=True)
    path = os.path.join(work, "inputs", "%s_b%d.manifest" % (name, x.shape[0]))
    write_tensors(path, [(tensor_name, x.numpy())])
    return path


def _run(cmd, timeout):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % timeout


def run_kiln(kiln, folder, input_path, precision, batch, graph, warmup_ms, iterations, work, timeout=300):
    """One `kiln bench` run; returns the peer record (status ok / n/a (not yet) / error)."""
    tag = "%s_b%d_%s%s" % (os.path.basename(folder), batch, precision, "_graph" if graph else "")
    json_path = os.path.join(work, "kiln_json", tag + ".json")
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    cmd = [kiln, "bench", "--model", folder, "--device", "gpu", "--precision", precision, "--batch", str(batch),
           "--no-transfers", "--warmup-ms", str(warmup_ms), "--iterations", str(iterations), "--duration-s", "0",
           "--json", json_path]
    if input_path:
        cmd += ["--input", input_path]
    if graph:
        cmd.append("--cuda-graph")
    rc, out, err = _run(cmd, timeout)
    if rc == 2 and "not supported" in err:
        return {"status": "n/a (not yet)", "message": err.strip().splitlines()[-1]}
    if rc != 0:
        lines = (err or out).strip().splitlines()
        return {"status": "error", "message": "rc=%s: %s" % (rc, lines[-1] if lines else "")}
    with open(json_path) as f:
        j = json.load(f)
    compute = j["ms"]["compute"]
    return {"status": "ok", "ms": compute["median"], "ms_p10": None, "ms_p90": compute["p90"],
            "runs": compute["count"], "peak_mib": j["memory"]["extra_over_weights_bytes"] / 2**20,
            "peak_in_use_mib": j["memory"]["peak_bytes"] / 2**20,
            "startup_s": j["load"]["to_first_result_ms"] / 1e3, "load": j["load"],
            "device_description": j["device_description"], "warnings": j["warnings"],
            "command": " ".join(cmd)}


def import_kiln(kiln_bin):
    """kiln's Python package from the build folder of the kiln executable `kiln_bin`."""
    package = os.path.join(os.path.dirname(os.path.abspath(kiln_bin)), "python")
    if package not in sys.path:
        sys.path.insert(0, package)
    import kiln
    return kiln


def run_kiln_python(kiln_bin, folder, x, precision, batch, warmup, iterations):
    """kiln-py: one engine at max batch `batch`, CUDA tensors in and out, timed as peers_torch times eager."""
    import peers_torch
    kiln = import_kiln(kiln_bin)
    t0 = time.perf_counter()
    engine = kiln.load(folder, device="gpu", precision=precision, max_batch=batch)
    ctx = engine.context()
    xd = x.cuda().float().contiguous()
    out = {o["name"]: torch.empty([batch] + list(o["shape"][1:]), device="cuda") for o in engine.outputs}
    ctx.run(xd, out=out)
    torch.cuda.synchronize()
    startup = time.perf_counter() - t0
    result = peers_torch.time_calls(lambda: ctx.run(xd, out=out), warmup, iterations)
    result.update({"status": "ok", "startup_s": startup, "peak_mib": None,
                   "device_description": engine.description})
    return result


def check_kiln(kiln_bin, folder, precision, work=None):
    """The export's golden inputs through the Python package at this precision; the worst relative L2
    error of the outputs against the golden ones: PASS / FAIL against CHECK_REL_L2, or error."""
    from kiln_export import read_tensors
    limit = CHECK_REL_L2[precision]
    try:
        kiln = import_kiln(kiln_bin)
        inputs = read_tensors(os.path.join(folder, "golden", "inputs.manifest"))
        golden = read_tensors(os.path.join(folder, "golden", "outputs.manifest"))
        engine = kiln.load(folder, device="gpu", precision=precision)
        got = engine.context().run(inputs)
    except Exception as e:  # noqa: BLE001 - recorded in the cell, the run goes on
        return {"status": "error", "message": "%s: %s" % (type(e).__name__, str(e)[:300])}
    worst = 0.0
    for name, want in golden.items():
        err = float(((got[name].astype("float64") - want) ** 2).sum() ** 0.5 / max((want.astype("float64") ** 2).sum() ** 0.5, 1e-30))
        worst = max(worst, err)
    return {"status": "PASS" if worst <= limit else "FAIL", "limit": limit, "metric": "relative_l2", "error": worst}
