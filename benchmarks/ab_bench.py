#!/usr/bin/env python3
"""Two kiln builds side by side on one GPU, in one run: the before/after table of a change.

For every model x precision x batch it runs `kiln bench --no-transfers --cuda-graph` with build A, then B,
then A and B again (alternating, so clock and thermal drift hit both alike), and reports each build's
median GPU-compute milliseconds (the better of its two runs), the B/A ratio, the spread between one
build's two runs (the noise floor: a ratio closer to 1 than that is no change) and the start-up time.

    python3 benchmarks/ab_bench.py --a build-old/kiln --b build/kiln --models DIR/resnet50,DIR/unet \\
        --precisions fp16,fp32 --batches 1,32 --out ab.md

Models are kiln export folders (kiln_export --model kiln_export.zoo:NAME ...). Needs no PyTorch.
Writes the markdown table to --out and every run's JSON report beside it.
"""
import argparse
import json
import os
import subprocess
import sys


def bench(kiln, model, precision, batch, work, tag, warmup_ms, duration_s):
    path = os.path.join(work, "%s_%s_%s_b%d.json" % (tag, os.path.basename(model.rstrip("/")), precision, batch))
    cmd = [kiln, "bench", "--model", model, "--device", "gpu", "--precision", precision, "--batch", str(batch),
           "--no-transfers", "--cuda-graph", "--warmup-ms", str(warmup_ms), "--iterations", "20",
           "--duration-s", str(duration_s), "--json", path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0:
        last = (p.stderr or p.stdout).strip().splitlines()
        return {"error": "rc=%d: %s" % (p.returncode, last[-1] if last else "")}
    with open(path) as f:
        j = json.load(f)
    return {"ms": j["ms"]["compute"]["median"], "startup_s": j["load"]["to_first_result_ms"] / 1e3,
            "device": j["device_description"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="kiln binary of the baseline")
    ap.add_argument("--b", required=True, help="kiln binary of the change")
    ap.add_argument("--models", required=True, help="comma-separated export folders")
    ap.add_argument("--precisions", default="fp16,fp32")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--warmup-ms", type=int, default=300)
    ap.add_argument("--duration-s", type=float, default=1.0)
    ap.add_argument("--label-a", default="A")
    ap.add_argument("--label-b", default="B")
    ap.add_argument("--out", required=True, help="markdown table to write (JSON reports go beside it)")
    args = ap.parse_args()
    work = os.path.splitext(args.out)[0] + "_json"
    os.makedirs(work, exist_ok=True)

    rows = []
    device = ""
    for model in args.models.split(","):
        for precision in args.precisions.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                runs = {"a": [], "b": []}
                for rep in range(2):
                    for side in ("a", "b"):
                        r = bench(getattr(args, side), model, precision, batch, work, "%s%d" % (side, rep),
                                  args.warmup_ms, args.duration_s)
                        runs[side].append(r)
                        device = ", ".join(r.get("device", device).split(", ")[:2])  # GPU and cuDNN
                name = os.path.basename(model.rstrip("/"))
                errors = [r["error"] for side in runs.values() for r in side if "error" in r]
                if errors:
                    rows.append("| %s | %s | %d | error: %s | | | | |" % (name, precision, batch, errors[0]))
                    print(rows[-1], flush=True)
                    continue
                best = {s: min(r["ms"] for r in runs[s]) for s in runs}
                spread = max(abs(runs[s][0]["ms"] - runs[s][1]["ms"]) / best[s] for s in runs)
                start = {s: runs[s][-1]["startup_s"] for s in runs}
                rows.append("| %s | %s | %d | %.3f | %.3f | %.3f | %.1f%% | %.2f / %.2f |" % (
                    name, precision, batch, best["a"], best["b"], best["b"] / best["a"], 100 * spread,
                    start["a"], start["b"]))
                print(rows[-1], flush=True)
    header = ["kiln bench --no-transfers --cuda-graph, median GPU-compute ms (better of 2 alternating runs each)",
              "device: " + device, "",
              "| model | precision | batch | %s ms | %s ms | %s/%s | run-to-run spread | start-up s (%s / %s) |" % (
                  args.label_a, args.label_b, args.label_b, args.label_a, args.label_a, args.label_b),
              "|---|---|---|---|---|---|---|---|"]
    with open(args.out, "w") as f:
        f.write("\n".join(header + rows) + "\n")
    print("\n".join(header + rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
