"""kiln's side of benchmarks/run_benchmarks.py: export a reference model once, write the shared inputs,
run `kiln bench` (and `kiln compare` as a correctness check) in a subprocess and read their JSON.

kiln is timed with `kiln bench --no-transfers` (device buffers in and out, like the PyTorch peers' device
tensors): its "GPU compute" median, CUDA events per iteration. fp16 is not in kiln's GPU engine yet:
kiln bench refuses it with a usage error (exit 2, "not supported"), recorded as "n/a (not yet)"; the
cells fill in by themselves once it works.
"""
import json
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "exporter"))

# Tolerances of the correctness check against PyTorch's CPU output (scripts/gpu_check.sh explains them).
CHECK_TOLERANCES = {"fp32": ("1e-4", "1e-5"), "tf32": ("5e-2", "1e-2"), "fp16": ("2.5e-1", "2e-2")}


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


def check_kiln(kiln, folder, precision, work, timeout=300):
    """`kiln compare` of the exported golden tensors at this precision: PASS / FAIL / n/a with a summary."""
    atol, rtol = CHECK_TOLERANCES[precision]
    json_path = os.path.join(work, "kiln_json", "%s_%s_compare.json" % (os.path.basename(folder), precision))
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    rc, out, err = _run([kiln, "compare", "--model", folder, "--device", "gpu", "--precision", precision,
                         "--atol", atol, "--rtol", rtol, "--json", json_path], timeout)
    if rc == 2 and ("not supported" in err or "expected one of" in err):
        return {"status": "n/a"}
    if rc not in (0, 1):
        lines = (err or out).strip().splitlines()
        return {"status": "error", "message": "rc=%s: %s" % (rc, lines[-1] if lines else "")}
    with open(json_path) as f:
        j = json.load(f)
    metric = "relative_l2" if j["outputs"] and "relative_l2" in j["outputs"][0] else "max_rel"
    worst = max((o[metric] or 0.0) for o in j["outputs"]) if j["outputs"] else 0.0
    return {"status": "PASS" if rc == 0 else "FAIL", "atol": atol, "rtol": rtol, "metric": metric, "error": worst}
