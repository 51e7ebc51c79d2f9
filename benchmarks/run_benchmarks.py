#!/usr/bin/env python3
"""kiln against PyTorch on a GPU host, side by side.

For each model (anchors section 1: autoencoder 3x512x512, resnet18 and resnet50 3x224x224, unet 3x256x256),
batch and precision it measures, in one invocation: PyTorch eager (cudnn.benchmark, inference_mode), eager
inside a CUDA graph, torch.compile(mode="max-autotune") and kiln (`kiln bench --no-transfers`, with and
without --cuda-graph, and through its Python package with CUDA tensors: benchmarks/peer_kiln.py). Every peer gets the same weights (one nn.Module, seeded, exported once with
kiln_export) and the same input tensor, is timed with CUDA events, median of --iterations after --warmup.

Outputs in --out: results.json (merged with what is there, so several short invocations build one table;
a peer already measured is kept unless --force), results.md and chart.png. Measurements stop cleanly
before --time-budget-s; the cheap peers of every cell run first and torch.compile (30-120 s per cell) last.

  python3 benchmarks/run_benchmarks.py --models resnet18 --precisions fp32,tf32 --kiln build-gpu-host/kiln
  bash benchmarks/gpu_bench.sh --models resnet18,resnet50 --precisions fp32,tf32,fp16   (on a GPU host)
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time


def _import_kiln_first():
    """Imports kiln's Python package (peer kiln-py, the correctness check) from the build folder of
    --kiln before anything imports torch: python/kiln/__init__.py, Note [CUDA libraries in one process]."""
    argv = sys.argv[1:]
    kiln = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--kiln"), None)
    kiln = kiln or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build-gpu-host", "kiln")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(kiln)), "python"))
    try:
        import kiln  # noqa: F401
    except ImportError as e:
        print("run_benchmarks.py: no kiln Python package beside %s (%s): kiln-py and the check will fail" % (kiln, e))


_import_kiln_first()

import torch  # noqa: E402

import peer_kiln  # noqa: E402
import peers_torch  # noqa: E402
import tables  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHAPES = {"autoencoder": (3, 512, 512), "resnet18": (3, 224, 224), "resnet50": (3, 224, 224), "unet": (3, 256, 256)}
# torchvision's standard families (kiln_export.zoo.TORCHVISION), not in the default set: --models mobilenet_v2,...
ZOO_SHAPES = {name: (3, 224, 224) for name in (
    "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x1_0", "densenet121",
    "fcn_resnet50", "deeplabv3_mobilenet_v3_large", "convnext_tiny")}
# fp32 eager+graph ms at batch 1 and 32 (anchors section 1), to estimate how long a measurement takes.
EST_MS = {("autoencoder", 1): 1.64, ("autoencoder", 32): 44.5, ("resnet18", 1): 1.24, ("resnet18", 32): 4.12,
          ("resnet50", 1): 2.24, ("resnet50", 32): 10.7, ("unet", 1): 1.13, ("unet", 32): 20.7}
# torch.compile max-autotune seconds per model (anchors section 1).
EST_COMPILE_S = {"autoencoder": 47, "resnet18": 59, "resnet50": 122, "unet": 57}


def _list(text):
    return [t for t in text.split(",") if t]


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=_HelpFormatter)
    p.add_argument("--models", type=_list, default=list(SHAPES),
                   help="comma-separated, of %s (default) or of %s" % (",".join(SHAPES), ",".join(ZOO_SHAPES)))
    p.add_argument("--precisions", type=_list, default=["fp32", "tf32", "fp16"], help="of fp32,tf32,fp16")
    p.add_argument("--batches", type=lambda t: [int(b) for b in _list(t)], default=[1, 32], help="e.g. 1,32")
    p.add_argument("--peers", type=_list, default=list(tables.PEERS), help="of %s" % ",".join(tables.PEERS))
    p.add_argument("--compile-precisions", type=_list, default=["fp16"],
                   help="precisions torch.compile runs in ('all' for every one); compiling costs 30-120 s per "
                        "model and batch (default fp16, as in anchors section 1)")
    p.add_argument("--kiln", default=os.path.join(ROOT, "build-gpu-host", "kiln"), help="the kiln executable")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="results.json/.md and chart.png go here")
    p.add_argument("--work", default="/tmp/kiln_bench_work", help="exported models, inputs, kiln JSON (not results)")
    p.add_argument("--iterations", type=int, default=200, help="timed runs per peer (median reported)")
    p.add_argument("--warmup", type=int, default=30, help="warm-up calls per PyTorch peer")
    p.add_argument("--kiln-warmup-ms", type=int, default=300, help="kiln bench --warmup-ms")
    p.add_argument("--time-budget-s", type=float, default=540, help="start no measurement that may end after this")
    p.add_argument("--force", action="store_true", help="measure again what results.json already holds")
    p.add_argument("--no-check", action="store_true", help="skip kiln compare against PyTorch's golden outputs")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and inputs")
    args = p.parse_args(argv)
    for name, chosen, known in (("--models", args.models, dict(SHAPES, **ZOO_SHAPES)), ("--precisions", args.precisions, tables.PRECISIONS),
                                ("--peers", args.peers, tables.PEERS)):
        bad = [c for c in chosen if c not in known]
        if bad:
            p.error("%s: unknown %s (choose from %s)" % (name, ",".join(bad), ",".join(known)))
    if "all" in args.compile_precisions:
        args.compile_precisions = list(tables.PRECISIONS)
    return args


def _run_text(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                              cwd=ROOT, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def environment():
    import torchvision  # noqa: F401 - its version is part of the record
    env = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
           "gpu": torch.cuda.get_device_name(0),
           "driver": _run_text(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]) or "unknown",
           "cuda": "%s (PyTorch's)" % torch.version.cuda,
           "cudnn": "%s (PyTorch's)" % torch.backends.cudnn.version(),
           "torch": torch.__version__, "torchvision": torchvision.__version__,
           "kiln_commit": _run_text(["git", "rev-parse", "--short", "HEAD"]) or "unknown"}
    nvcc = _run_text(["nvcc", "--version"]).splitlines()
    if nvcc:
        env["cuda"] += ", nvcc: " + nvcc[-1]
    return env


def load_results(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"schema": 1, "cells": {}, "commands": []}


def save_results(results, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def estimate_s(peer, model, batch, args):
    ms1, ms32 = EST_MS.get((model, 1), 2.0), EST_MS.get((model, 32), 10.0)  # zoo models: a rough guess
    run_s = (args.iterations + args.warmup) * (ms1 + (ms32 - ms1) * max(0, batch - 1) / 31) * 1.5 / 1e3
    if peer == "compile":
        return 1.3 * EST_COMPILE_S.get(model, 120) + run_s
    return (8 if peer.startswith("kiln") else 3) + run_s


def measure(peer, model, batch, precision, ctx, args):
    if peer in peers_torch.TORCH_PEERS:
        return peers_torch.TORCH_PEERS[peer](ctx["master"], ctx["x"], precision, args.warmup, args.iterations)
    if peer == "kiln-py":
        return peer_kiln.run_kiln_python(args.kiln, ctx["folder"], ctx["x"], precision, batch, args.warmup,
                                         args.iterations)
    return peer_kiln.run_kiln(args.kiln, ctx["folder"], ctx["input"], precision, batch, peer == "kiln-graph",
                              args.kiln_warmup_ms, args.iterations, args.work)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    if not torch.cuda.is_available():
        sys.exit("run_benchmarks.py: no CUDA device visible to PyTorch %s" % torch.__version__)
    if any(p.startswith("kiln") for p in args.peers) and not os.access(args.kiln, os.X_OK):
        sys.exit("run_benchmarks.py: no kiln executable at %s (build it, or pass --kiln)" % args.kiln)
    from kiln_export import zoo
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    results = load_results(results_path)
    results["environment"] = environment()
    command = os.environ.get("KILN_BENCH_COMMAND") or \
        "python3 benchmarks/run_benchmarks.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results["commands"] = [c for c in results.get("commands", []) if c != command] + [command]
    results["skipped"] = []

    # Phase 1: every peer but torch.compile in every cell; phase 2: torch.compile (the slow one) last.
    contexts = {}
    for phase in (1, 2):
        for model in args.models:
            for batch in args.batches:
                for precision in args.precisions:
                    key = tables.cell_key(model, batch, precision)
                    cell = results["cells"].setdefault(key, {"model": model, "batch": batch, "precision": precision,
                                                             "peers": {}})
                    for peer in args.peers:
                        if (peer == "compile") != (phase == 2):
                            continue
                        if peer == "compile" and precision not in args.compile_precisions:
                            continue
                        old = cell["peers"].get(peer)
                        if old and old.get("status") in ("ok", "n/a (not yet)") and not args.force:
                            continue
                        elapsed = time.time() - start
                        if elapsed + estimate_s(peer, model, batch, args) > args.time_budget_s:
                            results["skipped"].append(key + ":" + peer)
                            continue
                        ctx = context(contexts, model, batch, zoo, args, results, cell)
                        print("[%5.0f s] %-11s b%-3d %s %-10s" % (elapsed, model, batch, precision, peer), end=" ",
                              flush=True)
                        try:
                            rec = measure(peer, model, batch, precision, ctx, args)
                        except Exception as e:  # noqa: BLE001 - one failing peer must not end the run
                            rec = {"status": "error", "message": "%s: %s" % (type(e).__name__, str(e)[:300])}
                        peers_torch.release()
                        rec["measured_at"] = results["environment"]["date"]
                        cell["peers"][peer] = rec
                        desc = rec.get("device_description", "")  # "gpu 0: NAME, cuDNN 9.19.0, fp32, ..."
                        if "cuDNN " in desc:
                            results["environment"]["kiln_cudnn"] = desc.split("cuDNN ")[1].split(",")[0]
                        print("%s ms" % tables._num(rec["ms"]) if rec.get("status") == "ok" else rec["status"],
                              rec.get("message", ""))
                        save_results(results, results_path)
    save_results(results, results_path)
    why_no_chart = tables.write_outputs(results, args.out)
    print(tables.markdown(results))
    if why_no_chart:
        print(why_no_chart)
    if results["skipped"]:
        print("time budget: skipped %d measurement(s); run the same command again (with this results.json in "
              "--out) to fill them in: %s" % (len(results["skipped"]), ", ".join(results["skipped"])))
    print("done in %.0f s: %s" % (time.time() - start, results_path))


def context(contexts, model, batch, zoo, args, results, cell):
    """The module, export, input and correctness check of (model, batch), made once and cached."""
    if model not in contexts:
        torch.manual_seed(args.seed)
        shape = SHAPES.get(model) or ZOO_SHAPES[model]
        master = (zoo.MODELS.get(model) or zoo.TORCHVISION[model])().eval()
        gen = torch.Generator().manual_seed(args.seed)
        example = torch.randn((1,) + shape, generator=gen)
        if model in ZOO_SHAPES:
            # Activations of order 1 (zoo.calibrate_batchnorm), so the fp16 correctness check means something.
            zoo.calibrate_batchnorm(master, torch.randn((2,) + shape, generator=gen))
        folder, input_name = peer_kiln.export_once(model, master, example, args.work)
        contexts[model] = {"master": master, "folder": folder, "input_name": input_name, "batches": {},
                           "checks": {}}
    m = contexts[model]
    if batch not in m["batches"]:
        gen = torch.Generator().manual_seed(args.seed + batch)
        x = torch.randn((batch,) + (SHAPES.get(model) or ZOO_SHAPES[model]), generator=gen)
        m["batches"][batch] = {"x": x, "input": peer_kiln.write_input(model, m["input_name"], x, args.work)}
    precision = cell["precision"]
    if not args.no_check and any(p.startswith("kiln") for p in args.peers) and precision not in m["checks"]:
        m["checks"][precision] = peer_kiln.check_kiln(args.kiln, m["folder"], precision, args.work)
    if precision in m["checks"]:
        cell["check"] = m["checks"][precision]
    return dict(master=m["master"], folder=m["folder"], **m["batches"][batch])


if __name__ == "__main__":
    main()
