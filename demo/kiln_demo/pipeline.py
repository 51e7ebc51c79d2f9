"""The demo from end to end: train (or reuse the checkpoint), export, run kiln and PyTorch on whole
images, compare, draw the grids, write the report."""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from kiln_export import ExportError

from . import data, images, kiln_io, report, train
from .model import WIDTHS, flops_per_image, parameter_count


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python3 -m kiln_demo",
        description="Trains a small convolutional autoencoder on scikit-image's sample images (or reuses its "
                    "checkpoint), exports it with kiln_export, runs it through kiln and through PyTorch on whole "
                    "images and writes PNG grids (input | PyTorch | kiln | difference) and report.md/report.json "
                    "into --out. Exits 1 when kiln and PyTorch disagree by more than %g." % report.MATCH_ATOL)
    p.add_argument("--out", required=True, help="output folder (created; the demo's files in it are replaced)")
    p.add_argument("--steps", type=int, default=600, help="training steps at most (default: 600)")
    p.add_argument("--time-limit-s", type=float, default=120.0, help="training time at most, seconds (default: 120)")
    p.add_argument("--image-size", type=int, default=384,
                   help="longer side each shown image is scaled to, keeping its aspect ratio, then each side "
                        "cropped to a multiple of %d; 0 = the images' own sizes (default: 384). kiln runs every "
                        "image at its own size through one export (kiln_export --dynamic-hw)" % 2 ** len(WIDTHS))
    p.add_argument("--patch-size", type=int, default=64, help="training patch side (default: 64, at most --image-size)")
    p.add_argument("--images", default=",".join(data.DEMO_IMAGES),
                   help="comma-separated skimage.data images to show (default: %(default)s)")
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                   help="for PyTorch and kiln: auto = the GPU when one is present (default: auto)")
    p.add_argument("--kiln", default="",
                   help="kiln build folder (or its kiln executable) whose Python package to use (default: an "
                        "installed kiln package, $KILN_BIN's folder, or the newest build*/ folder)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs after the warm-up, for both (default: 5)")
    p.add_argument("--checkpoint", default="", help="checkpoint file (default: OUT/checkpoint.pt)")
    p.add_argument("--retrain", action="store_true", help="train even when the checkpoint exists")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the patch sampler (default: 0)")
    args = p.parse_args(argv)
    multiple = 2 ** len(WIDTHS)
    if args.image_size != 0 and (args.image_size < multiple or args.image_size % multiple):
        p.error("--image-size %d: must be 0 or a positive multiple of %d (the encoder halves it %d times)"
                % (args.image_size, multiple, len(WIDTHS)))
    if not multiple <= args.patch_size or args.patch_size % multiple or \
            (args.image_size and args.patch_size > args.image_size):
        p.error("--patch-size %d: must be a multiple of %d between %d and --image-size (%d)"
                % (args.patch_size, multiple, multiple, args.image_size))
    if args.steps < 1 or args.time_limit_s <= 0 or args.repeat < 1:
        p.error("--steps and --repeat must be at least 1 and --time-limit-s positive")
    args.images = [n.strip() for n in args.images.split(",") if n.strip()]
    if not args.images:
        p.error("--images: name at least one image")
    return args


def log(text):
    print(text, flush=True)


def pick_device(choice):
    """(torch device, its description, GPU name or None) for --device."""
    has_cuda = torch.cuda.is_available()
    if choice == "gpu" and not has_cuda:
        raise RuntimeError("--device gpu: PyTorch sees no CUDA device (torch %s)" % torch.__version__)
    if choice != "cpu" and has_cuda:
        name = torch.cuda.get_device_name(0)
        return torch.device("cuda", 0), "cuda:0 (%s, PyTorch %s)" % (name, torch.__version__), name
    threads = torch.get_num_threads()
    return torch.device("cpu"), "cpu (%d thread%s)" % (threads, "" if threads == 1 else "s"), None


def strict_fp32():
    """Makes PyTorch convolve in IEEE float32 on the GPU. By default it uses TF32 there (10-bit mantissa)
    on Ampere and later, which moves this model's outputs by ~1e-3: it would compare kiln's float32 with
    a rounder reference. The newer API is used where it exists, since PyTorch 2.9 deprecates the old."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        conv.fp32_precision = "ieee"
        torch.backends.cuda.matmul.fp32_precision = "ieee"
    else:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False


def _git_version():
    try:
        out = subprocess.run(["git", "-C", kiln_io.REPO, "describe", "--always", "--dirty"], timeout=10,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions():
    import PIL
    import skimage
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "scikit-image": skimage.__version__, "pillow": PIL.__version__, "kiln (git)": _git_version()}


def get_model(args, device, checkpoint):
    if os.path.exists(checkpoint) and not args.retrain:
        model, facts = train.load_checkpoint(checkpoint, device)
        log("reusing checkpoint %s (%s steps, final loss %.4g; --retrain to train again)"
            % (checkpoint, facts.get("steps", "?"), facts.get("final_loss", float("nan"))))
        return model, dict(facts, reused_checkpoint=True)
    model, facts = train.train(device, args.steps, args.time_limit_s, args.patch_size, args.seed, log)
    train.save_checkpoint(checkpoint, model, facts)
    log("saved checkpoint %s" % checkpoint)
    return model, dict(facts, reused_checkpoint=False)


def run(args):
    started = time.monotonic()
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    for old in os.listdir(out):  # grids of images an earlier run showed would pass for this run's
        if old.startswith("grid_") and old.endswith(".png"):
            os.remove(os.path.join(out, old))
    device, torch_desc, gpu_name = pick_device(args.device)
    kiln, kiln_where = kiln_io.import_kiln(args.kiln)
    if gpu_name or args.device == "cpu":
        where = ("kiln runs on the CPU too" if args.device == "cpu"
                 else "kiln runs on the GPU if its GPU backend is built")
    else:
        where = "no GPU here, so kiln takes its CPU reference path"
    log("PyTorch runs on %s; kiln %s is %s (--device %s): %s" % (torch_desc, kiln.__version__, kiln_where,
                                                                 args.device, where))
    multiple = 2 ** len(WIDTHS)
    shown = [np.ascontiguousarray(data.fit(data.load(n), args.image_size, multiple).transpose(2, 0, 1),
                                  dtype=np.float32) for n in args.images]
    sizes = ["%dx%d" % im.shape[1:] for im in shown]

    model, training = get_model(args, device, args.checkpoint or os.path.join(out, "checkpoint.pt"))
    model_dir = os.path.join(out, "model")
    # One export for every size: the range runs from the smallest size the network takes to the largest
    # image shown (the GPU's activation memory is sized once for that).
    hw_range = ((multiple, multiple), (max(im.shape[1] for im in shown), max(im.shape[2] for im in shown)))
    exported = kiln_io.export_model(model, torch.from_numpy(shown[0][None]), model_dir, hw_range)
    log("exported %s: %d kiln layers, any size from %dx%d to %dx%d" % (
        model_dir, len(exported.layers), hw_range[0][0], hw_range[0][1], hw_range[1][0], hw_range[1][1]))

    log("running kiln on %d images, each at its own size (%s) ..." % (len(shown), ", ".join(sizes)))
    kiln_out, kinfo = kiln_io.run_kiln(kiln, model_dir, shown, args.device, args.repeat)
    log("kiln ran on: %s" % kinfo["device"])
    if device.type == "cuda":
        strict_fp32()
    torch_out, torch_first, torch_times = kiln_io.run_pytorch(model, shown, device, args.repeat, train.timed)

    count = len(shown)
    timing = {
        "image_sizes": sizes, "images": count, "repeat": args.repeat,
        "kiln_device": kinfo["device"], "kiln_ms_per_image": kinfo["median_ms"] / count,
        "kiln_load_ms": kinfo["load_ms"], "kiln_first_run_ms": kinfo["first_run_ms"],
        "pytorch_device": torch_desc, "pytorch_ms_per_image": statistics.median(torch_times) * 1e3 / count,
        "pytorch_first_run_ms": torch_first * 1e3,
        "pytorch_timing": ("host to host with CUDA synchronisation, fp32 convolutions (TF32 off)"
                           if device.type == "cuda" else
                           "in this process on the %s" % torch_desc.replace("cpu (", "CPU (", 1)),
    }
    per_image = []
    for i, name in enumerate(args.images):
        stats = report.image_stats(name, shown[i], torch_out[i], kiln_out[i])
        stats["grid"] = "grid_%s.png" % name
        footer = "%s  |  kiln: %s  |  PyTorch: %s  |  max abs error %.2e" % (
            sizes[i], kinfo["device"], torch_desc, stats["max_abs_error"])
        stats["difference_amplification"] = images.save_grid(os.path.join(out, stats["grid"]), name, shown[i],
                                                             torch_out[i], kiln_out[i], stats, footer)
        per_image.append(stats)
    model_facts = {"widths": list(WIDTHS), "parameters": parameter_count(model),
                   "gflop_per_image": statistics.fmean(flops_per_image(model, im.shape[1], im.shape[2])
                                                       for im in shown) / 1e9,
                   "export_dir": model_dir, "kiln_layers": len(exported.layers)}
    env = {"pytorch device": torch_desc, "gpu": gpu_name or "none", "kiln device": kinfo["device"],
           "kiln package": kiln_where, "host": "%s, %d CPUs" % (platform.platform(), os.cpu_count() or 0)}
    env.update(_versions())
    rep = report.summary(per_image, timing, training, model_facts, env)
    json_path, md_path = report.write(out, rep)

    for im in per_image:
        log("  %-12s max abs error %.2e  PSNR PyTorch %.2f dB, kiln %.2f dB  -> %s"
            % (im["name"], im["max_abs_error"], im["psnr_pytorch_db"], im["psnr_kiln_db"],
               os.path.join(out, im["grid"])))
    log("time per image: kiln %.2f ms (%s), PyTorch %.2f ms (%s)" % (
        timing["kiln_ms_per_image"], kinfo["device"], timing["pytorch_ms_per_image"], torch_desc))
    log("report: %s and %s (%.0f s in all)" % (md_path, json_path, time.monotonic() - started))
    if not rep["kiln_matches_pytorch"]:
        log("kiln_demo: kiln and PyTorch differ by %.2e, more than %g: run `kiln compare --model %s --layers` "
            "to find the first layer that differs" % (rep["max_abs_error"], report.MATCH_ATOL, model_dir))
        return 1
    log("kiln matches PyTorch (largest difference %.2e < %g)" % (rep["max_abs_error"], report.MATCH_ATOL))
    return 0


def main(argv):
    args = parse_args(argv)
    try:
        return run(args)
    except (RuntimeError, ValueError, OSError, ExportError) as e:  # FormatError is a ValueError
        print("kiln_demo: error: %s" % e, file=sys.stderr)
        return 1
