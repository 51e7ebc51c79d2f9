"""The model-zoo acceptance check: each torchvision model (random weights, eval mode) exports with
kiln_export and `kiln compare` agrees with PyTorch's output within a relative L2 bound, with every value
finite. CI runs it on the CPU reference at a small input; the GPU host in fp32 and fp16 at 224x224.

  python3 tests/zoo/zoo_check.py --kiln build/kiln --models mobilenet_v2,squeezenet1_1 --shape 1,3,64,64 \
      --work /tmp/zoo --device cpu [--precision fp32] [--max-rel-l2 1e-5] [--json out.json]

Prints one line per model: export time, layers, every output's relative L2 and max abs error; exits 1
when any model fails to export, to run, or is beyond the bound (the defaults: 1e-5, fp16 1e-2; with
--noise-factor F in fp32, the larger of the bound and F times PyTorch's own fp32-vs-fp64 error)."""
import argparse
import copy
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "exporter"))

import torch  # noqa: E402

from kiln_export import ExportError, export, zoo  # noqa: E402

try:
    import torchvision  # noqa: E402,F401  (the zoo's models)
except ImportError as e:
    print("zoo_check skipped: %s cannot import torchvision (%s)" % (sys.executable, e))
    sys.exit(77)

BOUND = {"fp32": 1e-5, "tf32": 1e-2, "fp16": 1e-2}


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--kiln", required=True, help="the kiln executable")
    p.add_argument("--models", default=",".join(zoo.TORCHVISION), help="comma-separated names of kiln_export.zoo")
    p.add_argument("--shape", default="1,3,64,64", help="example input N,C,H,W (default 1,3,64,64)")
    p.add_argument("--work", required=True, help="exported models go here")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    p.add_argument("--precision", default="fp32", choices=sorted(BOUND))
    p.add_argument("--max-rel-l2", type=float, default=None, help="bound on each output's relative L2")
    p.add_argument("--noise-factor", type=float, default=0.0,
                   help="also pass a model whose error is within this many times PyTorch's own float32 error "
                        "(its fp32 output against fp64; two float32 computations differ by about twice that), "
                        "for models whose own noise is near the bound; 0: the bound alone")
    p.add_argument("--calibrate-bn", action="store_true",
                   help="BatchNorm statistics from random inputs (zoo.calibrate_batchnorm): activations of order 1 "
                        "instead of the ~1e-15 logits random torchvision weights give, which float16 cannot hold")
    p.add_argument("--fp32-layers", default="", metavar="SPEC",
                   help="fp16: the layers kiln keeps in float32 (kiln compare --fp32-layers), for every model listed")
    p.add_argument("--reuse", action="store_true", help="keep a model already exported in --work")
    p.add_argument("--json", default=None, help="write every model's figures here")
    return p.parse_args()


def export_model(name, shape, folder, reuse, calibrate, half):
    """Exports (or, with reuse, rebuilds the same seeded model without exporting) and returns the export's
    seconds, its layer count and PyTorch's own error on the example input (torch_half_error / torch_noise)."""
    reused = reuse and os.path.isfile(os.path.join(folder, "model.yaml"))
    torch.manual_seed(0)
    model = zoo.MODELS.get(name, zoo.TORCHVISION.get(name))()
    x = torch.randn(*shape)
    if calibrate:
        # BatchNorm statistics of random inputs of this size (zoo.calibrate_batchnorm says why); a batch of
        # 2 at least, since train-mode BatchNorm needs more than one value per channel.
        zoo.calibrate_batchnorm(model, torch.randn(max(2, shape[0]), *shape[1:]))
    model.eval()  # as export() runs it: the yardstick must see the running statistics, not the batch's
    noise = torch_half_error(model, x) if half else torch_noise(model, x)
    if reused:
        return 0.0, None, noise
    start = time.perf_counter()
    result = export(model, x, folder)
    seconds = time.perf_counter() - start
    return seconds, len(result.layers), noise


def _first_tensor(y):
    return next(iter(y.values())) if isinstance(y, dict) else y


def torch_half_error(model, x):
    """PyTorch's own float16 error on this input, on the GPU (cuDNN, channels-last half, as kiln's fp16
    path runs): the relative L2 of its half output against its float32 CPU one. None without CUDA."""
    if not torch.cuda.is_available():
        return None
    with torch.no_grad():
        ref = _first_tensor(model(x)).double()
        half = copy.deepcopy(model).cuda().half().to(memory_format=torch.channels_last)
        y = _first_tensor(half(x.cuda().half().to(memory_format=torch.channels_last))).double().cpu()
    norm = float(ref.norm())
    return float((y - ref).norm()) / norm if norm > 0 else 0.0


def torch_noise(model, x):
    """PyTorch's own float32 error on this input: the relative L2 of its float32 output against its float64
    one (the yardstick for kiln's: two float32 computations differ by about twice this)."""
    with torch.no_grad():
        y32 = _first_tensor(model(x)).double()
        y64 = _first_tensor(copy.deepcopy(model).double()(x.double()))
    norm = float(y64.norm())
    return float((y32 - y64).norm()) / norm if norm > 0 else 0.0


def main():
    args = parse()
    bound = args.max_rel_l2 if args.max_rel_l2 is not None else BOUND[args.precision]
    shape = tuple(int(d) for d in args.shape.split(","))
    report, failed = [], 0
    for name in [m for m in args.models.split(",") if m]:
        folder = os.path.join(args.work, name)
        row = {"model": name, "shape": list(shape), "device": args.device, "precision": args.precision,
               "calibrated_bn": args.calibrate_bn, "fp32_layers": args.fp32_layers}
        try:
            half = args.precision == "fp16"
            row["export_s"], row["layers"], noise = export_model(name, shape, folder, args.reuse, args.calibrate_bn,
                                                                 half)
            row["torch_fp16_vs_fp32" if half else "torch_fp32_vs_fp64"] = noise
        except ExportError as e:
            row["error"] = "export: %s" % e
        if "error" not in row:
            stats = os.path.join(args.work, "%s.compare.%s.%s%s.json" % (name, args.device, args.precision,
                                                                          ".fp32_" + args.fp32_layers if args.fp32_layers else ""))
            # Element tolerances loose enough that the relative L2 bound below is the criterion.
            cmd = [args.kiln, "compare", "--model", folder, "--device", args.device, "--precision", args.precision,
                   "--atol", "1e30", "--rtol", "1e30", "--json", stats]
            if args.fp32_layers:
                cmd += ["--fp32-layers", args.fp32_layers]
            run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            if run.returncode != 0 or not os.path.isfile(stats):
                row["error"] = "kiln compare exited %d: %s" % (run.returncode, run.stdout.strip()[-400:])
            else:
                with open(stats, encoding="utf-8") as f:
                    data = json.load(f)
                row["outputs"] = {o["name"]: {"relative_l2": o["relative_l2"], "max_abs": o["max_abs"]}
                                  for o in data["outputs"]}
                row["finite"] = data["finite"]
                worst = max(o["relative_l2"] for o in data["outputs"])
                allowed = bound
                if args.noise_factor > 0 and row.get("torch_fp32_vs_fp64") is not None:
                    allowed = max(bound, args.noise_factor * row["torch_fp32_vs_fp64"])
                row["bound"] = allowed
                if not data["finite"] or not worst <= allowed:
                    row["error"] = "relative L2 %.3g beyond %.2g or not finite (finite: %s)" % (worst, allowed,
                                                                                              data["finite"])
        ok = "error" not in row
        failed += not ok
        figures = ", ".join("%s rel L2 %.2e max abs %.2e" % (k, v["relative_l2"], v["max_abs"])
                            for k, v in row.get("outputs", {}).items())
        if figures and row.get("torch_fp32_vs_fp64") is not None:
            figures += " (PyTorch's own fp32 vs fp64: %.2e)" % row["torch_fp32_vs_fp64"]
        if figures and row.get("torch_fp16_vs_fp32") is not None:
            figures += " (PyTorch's own fp16 on the GPU vs fp32: %.2e)" % row["torch_fp16_vs_fp32"]
        print("%-30s %s %s %s%s%s: %s%s" % (name, args.device, args.precision, "x".join(map(str, shape)),
                                             " (calibrated BN)" if args.calibrate_bn else "",
                                             " (fp32 layers %s)" % args.fp32_layers if args.fp32_layers else "",
                                           "PASS" if ok else "FAIL", (" - " + figures) if figures else "")
              + ("" if ok else " - " + row["error"]), flush=True)
        report.append(row)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    print("zoo: %d of %d models pass (relative L2 <= %.0e)" % (len(report) - failed, len(report), bound))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
