"""Dynamic height x width on the GPU: for each model, precision and size, `kiln bench` of the export with
--dynamic-hw (loaded for the range's largest size, as an application would, then run at the size) next
to a fixed-size export of that size. Reports the new size's one-time build (graph, ops, algorithm
choice: the per-shape first-run cost), the steady state of both, and the activation arena of both.

    python3 benchmarks/dynamic_bench.py --kiln BUILD/kiln --work DIR --out dynamic.md [--json FILE]
        [--models autoencoder,unet] [--precisions fp16,fp32] [--sizes 256x256,...] [--batch 1]

Timings: `kiln bench --no-transfers --cuda-graph`, median GPU compute ms per batch.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "exporter"))
from kiln_export import export, zoo  # noqa: E402

RANGE = ((16, 16), (1088, 1920))


def export_at(name, folder, hw, dynamic):
    if os.path.isfile(os.path.join(folder, "model.yaml")):
        return
    torch.manual_seed(0)
    model = getattr(zoo, name)().eval()
    example = torch.randn(1, 3, hw[0], hw[1], generator=torch.Generator().manual_seed(0))
    export(model, example, folder, dynamic_hw=RANGE if dynamic else None, name=name)


def bench(kiln, folder, precision, batch, shape, json_path):
    cmd = [kiln, "bench", "--model", folder, "--device", "gpu", "--precision", precision, "--batch", str(batch),
           "--no-transfers", "--cuda-graph", "--warmup-ms", "100", "--duration-s", "0.5", "--json", json_path]
    if shape:
        cmd += ["--shape", shape]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["rc %d" % done.returncode])[-1]}
    with open(json_path) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kiln", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True, help="markdown table")
    p.add_argument("--json", help="raw rows")
    p.add_argument("--models", default="autoencoder,unet")
    p.add_argument("--precisions", default="fp16,fp32")
    p.add_argument("--sizes", default="256x256,720x1280,1080x1920")
    p.add_argument("--batch", type=int, default=1)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rows = []
    for name in args.models.split(","):
        dyn = os.path.join(args.work, name + "_dynamic")
        export_at(name, dyn, (64, 64), True)
        for prec in args.precisions.split(","):
            for size in args.sizes.split(","):
                h, w = (int(v) for v in size.split("x"))
                fixed = os.path.join(args.work, "%s_%dx%d" % (name, h, w))
                export_at(name, fixed, (h, w), False)
                d = bench(args.kiln, dyn, prec, args.batch, size, os.path.join(args.work, "d_%s_%s_%s.json" % (name, prec, size)))
                f = bench(args.kiln, fixed, prec, args.batch, None, os.path.join(args.work, "f_%s_%s_%s.json" % (name, prec, size)))
                row = {"model": name, "precision": prec, "size": size, "batch": args.batch}
                for key, r in (("dynamic", d), ("fixed", f)):
                    if "error" in r:
                        row[key + "_error"] = r["error"]
                        continue
                    row[key + "_ms"] = r["ms"]["compute"]["median"]
                    row[key + "_arena_mib"] = r["memory"]["arena_bytes"] / 2 ** 20 if "memory" in r else None
                    row[key + "_first_result_ms"] = r["load"]["to_first_result_ms"]
                    row[key + "_shape_build_ms"] = r["load"].get("shape_build_ms", 0.0)
                rows.append(row)
                print(json.dumps(row), flush=True)
    lines = ["# Dynamic height x width: one export for every size vs a fixed export per size",
             "",
             "%s, `kiln bench --no-transfers --cuda-graph`, batch %d, median GPU ms per batch. The dynamic export "
             "(range %dx%d..%dx%d) is loaded for the range's largest size; *new size* is the one-time build of a "
             "size a context has not seen (its graph, every op and algorithm choice: the first-run cost), "
             "*arena* the activation memory each context holds." % (
                 datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), args.batch,
                 RANGE[0][0], RANGE[0][1], RANGE[1][0], RANGE[1][1]),
             "",
             "| model | prec | size | new size (ms) | dynamic (ms) | fixed export (ms) | dynamic / fixed | arena dynamic / fixed (MiB) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "dynamic_ms" not in r or "fixed_ms" not in r:
            lines.append("| %s | %s | %s | error: %s | | | | |" % (r["model"], r["precision"], r["size"],
                                                              r.get("dynamic_error") or r.get("fixed_error")))
            continue
        lines.append("| %s | %s | %s | %.0f | %.3f | %.3f | %.2f | %.0f / %.0f |" % (
            r["model"], r["precision"], r["size"], r["dynamic_shape_build_ms"], r["dynamic_ms"], r["fixed_ms"],
            r["dynamic_ms"] / r["fixed_ms"], r["dynamic_arena_mib"] or 0, r["fixed_arena_mib"] or 0))
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
