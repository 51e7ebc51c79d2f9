"""results.json -> results.md (tables) and chart.png (grouped bars, log scale) for run_benchmarks.py."""
import os

PEERS = ["eager", "graph", "compile", "kiln", "kiln-graph", "kiln-py"]
LABELS = {"eager": "eager", "graph": "eager+graph", "compile": "compile (max-autotune)", "kiln": "kiln",
          "kiln-graph": "kiln+graph", "kiln-py": "kiln (Python)"}
MODELS = ["autoencoder", "resnet18", "resnet50", "unet"]
PRECISIONS = ["fp32", "tf32", "fp16"]
# FLOPs per image, anchors section 1 (2 x multiply-adds of conv/linear).
FLOPS_PER_IMAGE = {"autoencoder": 33.2e9, "resnet18": 3.63e9, "resnet50": 8.18e9, "unet": 18.4e9}


def cell_key(model, batch, precision):
    return "%s|%d|%s" % (model, batch, precision)


def sorted_cells(results):
    def order(cell):
        return (MODELS.index(cell["model"]) if cell["model"] in MODELS else 99, cell["batch"],
                PRECISIONS.index(cell["precision"]) if cell["precision"] in PRECISIONS else 9)
    return sorted(results.get("cells", {}).values(), key=order)


def _ok(cell, peer):
    rec = cell.get("peers", {}).get(peer)
    return rec if rec and rec.get("status") == "ok" else None


def best_kiln(cell):
    """The faster of kiln and kiln+graph, as (ms, peer) or (None, None)."""
    runs = [(_ok(cell, p)["ms"], p) for p in ("kiln", "kiln-graph") if _ok(cell, p)]
    return min(runs) if runs else (None, None)


def _num(v, digits=3):
    if v is None:
        return "—"
    return ("%." + str(digits if v < 10 else 2) + "f") % v


def _status(cell, peer, field, digits=3):
    rec = cell.get("peers", {}).get(peer)
    if not rec:
        return "—"
    if rec.get("status") != "ok":
        return rec.get("status", "?")
    return _num(rec.get(field), digits)


def _tflops(cell, ms):
    flops = FLOPS_PER_IMAGE.get(cell["model"])
    return "—" if not ms or not flops else "%.1f" % (flops * cell["batch"] / (ms * 1e-3) / 1e12)


def markdown(results):
    env = results.get("environment", {})
    lines = ["# kiln vs PyTorch", ""]
    for k in ("date", "gpu", "driver", "cuda", "cudnn", "kiln_cudnn", "torch", "torchvision", "kiln_commit"):
        if k in env:
            lines.append("- %s: %s" % (k.replace("_", " "), env[k]))
    lines += ["", "Commands that produced these cells:", ""]
    lines += ["    " + c for c in results.get("commands", [])]
    lines += ["", "## Time per batch (ms)", "",
              "Median of the timed runs after warm-up, CUDA events around each call; same weights and inputs for "
              "every peer. kiln: `kiln bench --no-transfers` GPU compute. Speed-up = peer ms / best kiln ms "
              "(> 1: kiln faster). TFLOP/s from the FLOP counts of anchors section 1.", ""]
    head = ["model", "batch", "prec"] + [LABELS[p] for p in PEERS] + \
           ["kiln vs eager", "vs eager+graph", "vs compile", "kiln TFLOP/s", "best peer TFLOP/s", "kiln check"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell in sorted_cells(results):
        kms, _ = best_kiln(cell)
        row = [cell["model"], str(cell["batch"]), cell["precision"]] + [_status(cell, p, "ms") for p in PEERS]
        for peer in ("eager", "graph", "compile"):
            rec = _ok(cell, peer)
            row.append("%.2fx" % (rec["ms"] / kms) if rec and kms else "—")
        peer_ms = [_ok(cell, p)["ms"] for p in ("eager", "graph", "compile") if _ok(cell, p)]
        row += [_tflops(cell, kms), _tflops(cell, min(peer_ms) if peer_ms else None)]
        check = cell.get("check") or {}
        label = {"relative_l2": "rel L2", "max_rel": "max rel"}.get(check.get("metric"), "")
        row.append(check.get("status", "—") + (" (%s %.1e)" % (label, check["error"]) if "error" in check else ""))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Peak device memory above the weights (MiB)", "",
              "PyTorch: torch.cuda.max_memory_allocated() over the first call and the timed calls, minus what was "
              "allocated before and the weights. kiln: activation arena + workspace of one context.", ""]
    head = ["model", "batch", "prec"] + [LABELS[p] for p in PEERS]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell in sorted_cells(results):
        lines.append("| " + " | ".join([cell["model"], str(cell["batch"]), cell["precision"]] +
                                       [_status(cell, p, "peak_mib", 1) for p in PEERS]) + " |")
    lines += ["", "## Start-up to the first result (s)", "",
              "eager: the first call (cudnn.benchmark's search); eager+graph: warm-up, capture, first replay; "
              "compile: torch.compile + first call (the compile time); kiln: load (parse, weight upload, "
              "algorithm selection), context and first inference, after CUDA init.", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell in sorted_cells(results):
        lines.append("| " + " | ".join([cell["model"], str(cell["batch"]), cell["precision"]] +
                                       [_status(cell, p, "startup_s", 2) for p in PEERS]) + " |")
    skipped = results.get("skipped", [])
    if skipped:
        lines += ["", "Not measured in the last invocation (time budget): " + ", ".join(skipped)]
    return "\n".join(lines) + "\n"


def chart(results, path):
    """Grouped bars of ms per cell and peer, log scale. Returns None or why no chart was drawn."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return "no chart: %s" % e
    cells = sorted_cells(results)
    if not cells:
        return "no chart: no cells"
    width = 0.8 / len(PEERS)
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(cells) + 2), 5))
    for i, peer in enumerate(PEERS):
        xs, ys = [], []
        for c, cell in enumerate(cells):
            rec = _ok(cell, peer)
            if rec:
                xs.append(c + (i - (len(PEERS) - 1) / 2) * width)
                ys.append(rec["ms"])
        if xs:
            ax.bar(xs, ys, width, label=LABELS[peer])
    ax.set_yscale("log")
    for i, peer in enumerate(PEERS):  # mark cells a peer cannot run yet (kiln fp16) rather than leave a gap
        for c, cell in enumerate(cells):
            if cell.get("peers", {}).get(peer, {}).get("status", "").startswith("n/a"):
                ax.text(c + (i - (len(PEERS) - 1) / 2) * width, ax.get_ylim()[0] * 1.1, "n/a", rotation=90,
                        ha="center", va="bottom", fontsize=6)
    ax.set_ylabel("ms per batch (median, log scale)")
    ax.set_xticks(range(len(cells)))
    ax.set_xticklabels(["%s\nb%d %s" % (c["model"], c["batch"], c["precision"]) for c in cells], fontsize=7)
    ax.legend(fontsize=8)
    ax.set_title("kiln vs PyTorch: %s" % results.get("environment", {}).get("gpu", ""))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def write_outputs(results, out_dir):
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(markdown(results))
    return chart(results, os.path.join(out_dir, "chart.png"))
