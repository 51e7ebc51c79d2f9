"""Dynamic height x width end to end: the autoencoder and the U-Net, each exported once with
--dynamic-hw, run at several sizes and batches in turn through ONE kiln context (size and batch change
between consecutive runs) and compared with PyTorch at every size; `kiln compare` at a size other than
the export's; the memory of the largest size against a fixed export of it; the out-of-range error.

    python3 dynamic_shapes.py --kiln BUILD/kiln --work DIR [--device cpu|gpu] [--precision fp32|fp16]
        [--sizes 1x32x48,2x64x64,...] [--json FILE]

Needs PYTHONPATH with the kiln package (BUILD/python) and the exporter. Exit 0 when every size is within
--tol (default 1e-5 fp32, 1e-2 fp16, relative L2, no NaN/Inf); prints one table row per run; exit 77
(skipped) for --device gpu without a usable GPU.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

import kiln
from kiln_export import export, zoo
from kiln_export.writer import tensor_files, write_folder

CPU_SIZES = "1x32x48,2x64x64,1x96x64,3x48x80,1x64x96,2x32x48"
GPU_SIZES = "1x64x64,4x256x256,1x1080x1920,2x720x1280,1x96x160,2x1080x1920,1x64x64"
RANGE = ((16, 16), (1088, 1920))
MODELS = ("autoencoder", "unet")
EXAMPLE = (1, 3, 64, 64)


def parse_sizes(text):
    out = []
    for item in text.split(","):
        n, h, w = (int(v) for v in item.split("x"))
        out.append((n, h, w))
    return out


def rel_l2(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def reference(model, x, device):
    with torch.no_grad():
        if device == "gpu" and torch.cuda.is_available():
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
            y = model.cuda()(torch.from_numpy(x).cuda())
        else:
            y = model.cpu()(torch.from_numpy(x))
        if isinstance(y, dict):  # torchvision's segmentation models: {"out": ...}
            y = y["out"]
        return y.cpu().numpy()


def build(name):
    """kiln_export.zoo's model `name`, or torchvision's segmentation model for "tv:NAME"."""
    if name.startswith("tv:"):
        from torchvision.models import segmentation
        return getattr(segmentation, name[3:])(weights=None, weights_backbone=None).eval()
    return getattr(zoo, name)().eval()


def export_model(name, folder, hw_range):
    torch.manual_seed(0)
    model = build(name)
    example = torch.randn(*EXAMPLE, generator=torch.Generator().manual_seed(0))
    export(model, example, folder, dynamic_hw=hw_range, name=name)
    return model


def check_compare_at_another_size(args, name, model, folder, size):
    """`kiln compare` against golden tensors written at `size` (not the export's)."""
    n, h, w = size
    x = np.random.default_rng(5).standard_normal((n, 3, h, w)).astype(np.float32)
    y = reference(model, x, "cpu")
    golden = os.path.join(args.work, name.replace(":", "_") + "_golden_%dx%d" % (h, w))
    files = {}
    files.update(tensor_files("inputs", [(kiln_input_name(folder), x)]))
    files.update(tensor_files("outputs", [(kiln_output_name(folder), y)]))
    if os.path.isdir(golden):
        shutil.rmtree(golden)
    write_folder(golden, files)
    cmd = [args.kiln, "compare", "--model", folder, "--golden", golden, "--device", args.device,
           "--precision", args.precision]
    if args.precision == "fp16":  # half activations: ~1e-3 of outputs in (0, 1) (the autoencoder's sigmoid)
        cmd += ["--atol", "1e-2", "--rtol", "1e-2"]
    else:  # as the e2e compares: untrained deep nets' float32 summation order moves values by ~1e-5
        cmd += ["--atol", "1e-4", "--rtol", "1e-4"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    print("  kiln compare at %dx%dx%d: rc %d; %s" % (n, h, w, done.returncode,
                                                     (done.stdout.strip().splitlines() or ["(no output)"])[-1]))
    return done.returncode == 0


def kiln_input_name(folder):
    return kiln.load(folder, device="cpu").inputs[0]["name"]


def kiln_output_name(folder):
    return kiln.load(folder, device="cpu").outputs[0]["name"]


def check_memory(args, name, folder, engine):
    """The dynamic engine's arena and workspace against a fixed export at the range's largest size."""
    if args.device != "gpu":
        return True
    fixed = os.path.join(args.work, name.replace(":", "_") + "_fixed_max")
    torch.manual_seed(0)
    model = build(name)
    big = torch.randn(1, 3, RANGE[1][0], RANGE[1][1], generator=torch.Generator().manual_seed(0))
    export(model, big, fixed, name=name)
    a = engine.inspect()
    b = kiln.load(fixed, device="gpu", precision=args.precision, max_batch=engine.max_batch).inspect()
    same = (a["activation_bytes"], a.get("workspace_bytes")) == (b["activation_bytes"], b.get("workspace_bytes"))
    print("  memory at the largest size: dynamic arena %d + workspace %s bytes, fixed export %d + %s: %s"
          % (a["activation_bytes"], a.get("workspace_bytes"), b["activation_bytes"], b.get("workspace_bytes"),
             "equal" if same else "DIFFERENT"))
    return same


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kiln", required=True, help="the kiln executable (for kiln compare)")
    p.add_argument("--work", required=True, help="scratch folder for the exports")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    p.add_argument("--precision", default="fp32", choices=("fp32", "fp16"))
    p.add_argument("--sizes", help="NxHxW,... run in this order (default: %s on the CPU, %s on the GPU)"
                   % (CPU_SIZES, GPU_SIZES))
    p.add_argument("--tol", type=float, help="relative L2 bound (default 1e-5 fp32, 1e-2 fp16)")
    p.add_argument("--models", default=",".join(MODELS),
                   help="kiln_export.zoo names, or tv:NAME for torchvision's segmentation models (default: %(default)s)")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args()
    if args.device == "gpu":
        available, why = kiln.gpu_available()
        if not available:
            print("skipped: --device gpu: %s" % why)
            return 77
    sizes = parse_sizes(args.sizes or (GPU_SIZES if args.device == "gpu" else CPU_SIZES))
    tol = args.tol if args.tol is not None else (1e-2 if args.precision == "fp16" else 1e-5)
    os.makedirs(args.work, exist_ok=True)
    max_batch = max(n for n, _, _ in sizes)
    rows, ok = [], True
    for name in args.models.split(","):
        folder = os.path.join(args.work, name.replace(":", "_"))
        model = export_model(name, folder, RANGE)
        engine = kiln.load(folder, device=args.device, precision=args.precision, max_batch=max_batch)
        assert engine.dynamic and engine.hw_ranges
        ctx = engine.context()
        print("%s (%s, %s): one context, max batch %d, range %s" % (name, engine.description, args.precision,
                                                                  max_batch, engine.hw_ranges))
        rng = np.random.default_rng(1)
        seen = set()
        for n, h, w in sizes:
            x = rng.standard_normal((n, 3, h, w)).astype(np.float32)
            t = time.perf_counter()
            (y,) = ctx.run(x).values()
            first_ms = (time.perf_counter() - t) * 1e3
            ref = reference(model, x, args.device)
            err = rel_l2(y, ref)
            finite = bool(np.isfinite(y).all())
            good = y.shape == ref.shape and finite and err <= tol
            ok = ok and good
            new = (h, w) not in seen
            seen.add((h, w))
            rows.append({"model": name, "device": args.device, "precision": args.precision, "batch": n,
                         "height": h, "width": w, "rel_l2": err, "finite": finite, "pass": good,
                         "run_ms": first_ms, "new_size": new})
            print("  %-12s %dx%dx%-5d rel L2 %.2e  %s  run %.1f ms%s" % (
                name, n, h, w, err, "PASS" if good else "FAIL", first_ms, " (new size)" if new else ""))
        try:
            ctx.run(np.zeros((1, 3, 8, 8), np.float32))
            print("  out-of-range 8x8: no error: FAIL")
            ok = False
        except kiln.UsageError as e:
            print("  out-of-range 8x8: UsageError: %s" % e)
            ok = ok and "16 <= H <= 1088" in str(e)
        ok = check_compare_at_another_size(args, name, model, folder, (2, 48, 80)) and ok
        ok = check_memory(args, name, folder, engine) and ok
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print("dynamic shapes: %d runs, %s" % (len(rows), "all PASS" if ok else "FAILURES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
