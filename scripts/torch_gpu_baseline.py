"""PyTorch's own GPU-versus-CPU disagreement for a model exported with kiln_export's CLI defaults.

Rebuilds the model exactly as `python3 -m kiln_export --model M --seed S` did (same seed, same weights),
runs the exported golden input through it on CUDA in float32 with TF32 off, and compares with the
golden output PyTorch computed on the CPU, using the statistics `kiln compare` prints. It is the
yardstick for kiln's own GPU error: kiln cannot be expected to agree with the CPU more closely than
PyTorch's GPU path does.

  python3 scripts/torch_gpu_baseline.py --model kiln_export.zoo:resnet50 --export-dir models/resnet50
"""
import argparse
import sys

import numpy as np
import torch

from kiln_export.cli import load_callable
from kiln_export.reader import read_tensors


def stats(actual, expected, rtol):
    abs_err = np.abs(actual.astype(np.float64) - expected)
    rel_err = abs_err / np.maximum(np.abs(expected), np.finfo(np.float32).tiny)
    over_rtol = rel_err > rtol
    return {
        "max_abs": float(abs_err.max()),
        "mean_abs": float(abs_err.mean()),
        "rel_l2": float(np.linalg.norm(actual - expected) / np.linalg.norm(expected)),
        "required_atol_at_rtol": float(abs_err[over_rtol].max()) if over_rtol.any() else 0.0,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="MODULE:CALLABLE given to kiln_export")
    p.add_argument("--export-dir", required=True, help="the folder kiln_export wrote")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rtol", type=float, default=1e-5)
    args = p.parse_args()
    if not torch.cuda.is_available():
        print("torch_gpu_baseline: no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(args.seed)
    model = load_callable(args.model)().eval().cuda()
    inputs = read_tensors(args.export_dir + "/golden/inputs.manifest")
    outputs = read_tensors(args.export_dir + "/golden/outputs.manifest")
    with torch.inference_mode():
        y = model(*[torch.from_numpy(np.ascontiguousarray(v)).cuda() for v in inputs.values()])
    y = y if isinstance(y, (tuple, list)) else (y,)
    for (name, expected), got in zip(outputs.items(), y):
        s = stats(got.float().cpu().numpy(), expected.astype(np.float64), args.rtol)
        print("pytorch cuda fp32 vs pytorch cpu, %s %s: max abs %.3g  mean abs %.3g  rel L2 %.3g  "
              "atol needed at rtol %g: %.3g" % (args.model, name, s["max_abs"], s["mean_abs"], s["rel_l2"],
                                                args.rtol, s["required_atol_at_rtol"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
