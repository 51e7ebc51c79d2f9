"""Statistics of kiln against PyTorch and the report files (report.json, report.md)."""
import json
import math
import os
import statistics

import numpy as np

# kiln's CPU reference path and cuDNN both sum in float32 in another order than PyTorch: outputs in
# (0, 1) agree to about 1e-6. Beyond 1e-4 something is wrong, not rounding.
MATCH_ATOL = 1e-4


def psnr(reference, estimate):
    """Peak signal-to-noise ratio in dB for images in [0, 1], capped at 120 dB so that equal images
    give a number JSON can hold, not infinity."""
    mse = float(np.mean((np.asarray(reference, np.float64) - np.asarray(estimate, np.float64)) ** 2))
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def image_stats(name, image, torch_out, kiln_out):
    err = np.abs(np.asarray(kiln_out, np.float64) - np.asarray(torch_out, np.float64))
    return {"name": name, "max_abs_error": float(err.max()), "mean_abs_error": float(err.mean()),
            "psnr_pytorch_db": psnr(image, torch_out), "psnr_kiln_db": psnr(image, kiln_out)}


def summary(images, timing, training, model, environment):
    """The report as a JSON-ready dict. images: image_stats() entries (each with its grid file added)."""
    max_abs = max(im["max_abs_error"] for im in images)
    return {
        "kiln_matches_pytorch": bool(max_abs < MATCH_ATOL),
        "match_tolerance_abs": MATCH_ATOL,
        "max_abs_error": max_abs,
        "mean_abs_error": statistics.fmean(im["mean_abs_error"] for im in images),
        "images": images,
        "timing": timing,
        "training": training,
        "model": model,
        "environment": environment,
    }


def _ms(x):
    return "%.2f ms" % x if x < 100 else "%.0f ms" % x


def markdown(rep):
    t, env, tr, m = rep["timing"], rep["environment"], rep["training"], rep["model"]
    seen = [im["name"] for im in rep["images"] if im["name"] in tr.get("images", [])]
    verdict = "**kiln matches PyTorch**" if rep["kiln_matches_pytorch"] else "**kiln DIFFERS from PyTorch**"
    lines = [
        "# kiln demo: autoencoder, kiln vs PyTorch",
        "",
        "%s: largest difference %.2e over %d images (tolerance %.0e), mean %.2e."
        % (verdict, rep["max_abs_error"], len(rep["images"]), rep["match_tolerance_abs"], rep["mean_abs_error"]),
        "",
        "| image | max abs error | mean abs error | PSNR PyTorch | PSNR kiln | grid |",
        "|---|---|---|---|---|---|",
    ]
    for im in rep["images"]:
        lines.append("| %s | %.2e | %.2e | %.2f dB | %.2f dB | [%s](%s) |"
                     % (im["name"], im["max_abs_error"], im["mean_abs_error"], im["psnr_pytorch_db"],
                        im["psnr_kiln_db"], im["grid"], im["grid"]))
    lines += [
        "",
        "PSNR is each reconstruction against its input; %s." % (
            "none of these images was trained on" if not seen else "%s also served for training" % ", ".join(seen)),
        "",
        "## Time per image (each at its own size: %s; one context, median of %d rounds after a warm-up)"
        % (", ".join(t["image_sizes"]), t["repeat"]),
        "",
        "| | device | per image | first round (every size new) | model load |",
        "|---|---|---|---|---|",
        "| kiln | %s | %s | %s | %s |" % (t["kiln_device"], _ms(t["kiln_ms_per_image"]),
                                         _ms(t["kiln_first_run_ms"]), _ms(t["kiln_load_ms"])),
        "| PyTorch | %s | %s | %s | - |" % (t["pytorch_device"], _ms(t["pytorch_ms_per_image"]),
                                          _ms(t["pytorch_first_run_ms"])),
        "",
        "PyTorch is timed %s; kiln's times are `kiln run --repeat`'s, which include the copies to and from "
        "the device." % t["pytorch_timing"],
        "",
        "## Model and training",
        "",
        "- autoencoder: widths %s, %d parameters, %.2f GFLOP per image on average; exported once to `%s` (%d "
        "kiln layers) for every size" % (m["widths"], m["parameters"], m["gflop_per_image"], m["export_dir"],
                                         m["kiln_layers"]),
        "- training: %s steps of %d %dx%d patches in %.1f s on %s, final loss %.4g%s"
        % (tr.get("steps", "?"), tr.get("batch", 0), tr.get("patch_size", 0), tr.get("patch_size", 0),
           tr.get("seconds", 0.0), tr.get("device", "?"), tr.get("final_loss", float("nan")),
           " (checkpoint reused)" if tr.get("reused_checkpoint") else ""),
        "",
        "## Environment",
        "",
    ]
    lines += ["- %s: %s" % (k, v) for k, v in env.items()]
    return "\n".join(lines) + "\n"


def write(out_dir, rep):
    """Writes out_dir/report.json and out_dir/report.md; returns their paths."""
    json_path, md_path = os.path.join(out_dir, "report.json"), os.path.join(out_dir, "report.md")
    with open(json_path, "w") as f:
        json.dump(rep, f, indent=2, sort_keys=False, allow_nan=False)
        f.write("\n")
    with open(md_path, "w") as f:
        f.write(markdown(rep))
    return json_path, md_path
