"""Training (bounded by steps and wall time) and the checkpoint it leaves behind."""
import json
import os
import time

import numpy as np
import torch

from . import data
from .model import Autoencoder
from .progress import Progress

BATCH = 16
LEARNING_RATE = 4e-3
WARMUP_STEPS = 30
# Patches at these short sides of the training images, so they show details at the scales that the
# whole images are shown at.
SCALES = (256, 384)


def _lr(step, steps):
    # Linear warm-up, then linear decay to 2%: steadier final weights than a constant rate in a short run.
    return LEARNING_RATE * (min(1.0, (step + 1) / WARMUP_STEPS) * (1.0 - step / steps) + 0.02)


def train(device, steps, time_limit_s, patch, seed, log):
    """Trains a fresh Autoencoder on random patches for `steps` steps or `time_limit_s` seconds, whichever
    ends first. Returns (model in eval mode, facts about the run for the report)."""
    torch.manual_seed(seed)
    images, used = data.load_training_images(data.TRAIN_IMAGES, SCALES, log)
    sampler = data.PatchSampler(images, patch, seed)
    model = Autoencoder().to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    log("training on %d sample images (%s), %dx%d patches, batch %d, on %s: at most %d steps or %.0f s"
        % (len(used), ", ".join(used), patch, patch, BATCH, device, steps, time_limit_s))
    bar = Progress("train", steps, time_limit_s)
    done, loss = 0, float("nan")
    while done < steps and bar.elapsed() < time_limit_s:
        for group in opt.param_groups:
            group["lr"] = _lr(done, steps)
        x = torch.from_numpy(sampler.batch(BATCH)).to(device)
        batch_loss = torch.mean((model(x) - x) ** 2)
        opt.zero_grad()
        batch_loss.backward()
        opt.step()
        done += 1
        loss = batch_loss.item()
        bar.update(done, loss=loss)
    seconds = bar.elapsed()
    bar.close("" if done == steps else "stopped by the time limit after %d of %d steps" % (done, steps))
    if not np.isfinite(loss):
        raise RuntimeError("training diverged (loss %s); try again with --retrain --seed N" % loss)
    facts = {"steps": done, "steps_asked": steps, "seconds": round(seconds, 2), "final_loss": loss,
             "patch_size": patch, "batch": BATCH, "images": used, "device": str(device), "seed": seed}
    return model.eval(), facts


def save_checkpoint(path, model, facts):
    """Saves {'state_dict': ..., 'facts_json': ...}: tensors, containers and strings only, so it loads with
    torch.load(weights_only=True) here and with `kiln_export --checkpoint`. The facts travel as a JSON
    string because PyTorch 1.13's weights-only unpickler refuses Python floats."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = path + ".tmp"
    torch.save({"state_dict": state, "facts_json": json.dumps(facts)}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, device):
    """Returns (model in eval mode, facts) from a checkpoint written by save_checkpoint. Raises
    RuntimeError, naming the file, when it is not one (or was made for other layer widths)."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # a PyTorch without weights_only (before 1.13)
        saved = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same advice
        raise RuntimeError("%s is not a readable checkpoint (%s: %s); delete it or pass --retrain"
                           % (path, type(e).__name__, e)) from e
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise RuntimeError("%s holds no 'state_dict'; delete it or pass --retrain" % path)
    model = Autoencoder()
    try:
        model.load_state_dict(saved["state_dict"], strict=True)
    except RuntimeError as e:
        detail = " ".join(line.strip() for line in str(e).splitlines()[1:3])  # line 0 only says "Error(s)"
        raise RuntimeError("%s does not fit this demo's model (%s); delete it or pass --retrain"
                           % (path, detail)) from e
    try:
        facts = json.loads(saved.get("facts_json", "{}"))
    except ValueError:
        facts = {}
    return model.to(device).eval(), facts


def timed(fn, device):
    """Runs fn() and returns (its result, wall seconds), waiting for the GPU's queue when on CUDA."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - start
