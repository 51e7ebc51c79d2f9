"""`kiln compare --layers` names the layer whose weight was planted wrong, and only that one as the first.

The model is exported with golden layers from PyTorch; then one element of the 3rd conv's weight is changed
in weights.bin (and the manifest's CRC-32 recomputed, so the file is valid and only the numbers are wrong).
"""
import json
import os
import re
import struct
import subprocess
import zlib

import torch
import yaml

from kiln_demo.model import Autoencoder
from kiln_export import export, read_manifest, read_tensors

TOLERANCE = ["--atol", "1e-4", "--rtol", "1e-4"]
MARKER = "<-- first layer beyond tolerance"


def _compare(kiln_bin, model_dir, json_path):
    proc = subprocess.run([kiln_bin, "compare", "--model", model_dir, "--layers", "--device", "cpu",
                           "--json", json_path] + TOLERANCE,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    print(proc.stdout)
    with open(json_path) as f:
        return proc.returncode, proc.stdout, json.load(f)


def _plant(model_dir, tensor_name, element, delta):
    """Adds `delta` to element `element` of `tensor_name` in weights.bin and rewrites the crc32 line."""
    manifest = os.path.join(model_dir, "weights.manifest")
    entry = next(t for t in read_manifest(manifest).tensors if t.name == tensor_name)
    blob_path = os.path.join(model_dir, "weights.bin")
    with open(blob_path, "rb") as f:
        blob = bytearray(f.read())
    at = entry.offset + 4 * element
    before = struct.unpack_from("<f", blob, at)[0]
    struct.pack_into("<f", blob, at, before + delta)
    with open(blob_path, "wb") as f:
        f.write(blob)
    with open(manifest) as f:
        text = f.read()
    text, count = re.subn(r"(?m)^crc32 [0-9a-f]{8}$", "crc32 %08x" % (zlib.crc32(bytes(blob)) & 0xFFFFFFFF), text)
    assert count == 1
    with open(manifest, "w") as f:
        f.write(text)


def test_compare_layers_names_planted_fault(kiln_bin, work_dir):
    torch.manual_seed(11)
    model_dir = os.path.join(work_dir, "model")
    export(Autoencoder(), torch.rand(1, 3, 32, 32), model_dir, golden_layers=True)
    with open(os.path.join(model_dir, "model.yaml")) as f:
        layers = yaml.safe_load(f)["layers"]
    convs = [layer for layer in layers if layer["op"] == "conv2d"]
    target = convs[2]["name"]
    target_index = [layer["name"] for layer in layers].index(target)
    assert target_index > 0

    # Unchanged, every layer passes: the failure below comes from the planted weight alone.
    rc, out, clean = _compare(kiln_bin, model_dir, os.path.join(work_dir, "clean.json"))
    assert rc == 0 and clean["pass"] is True and clean["first_divergent_layer"] == "" and MARKER not in out

    _plant(model_dir, convs[2]["weights"]["weight"], element=5, delta=0.5)
    read_tensors(os.path.join(model_dir, "weights.manifest"))  # still a valid file: CRC and layout check out

    rc, out, faulty = _compare(kiln_bin, model_dir, os.path.join(work_dir, "planted.json"))
    assert rc == 1 and faulty["pass"] is False
    assert faulty["first_divergent_layer"] == target
    by_name = {layer["name"]: layer for layer in faulty["layers"]}
    assert [layer["name"] for layer in faulty["layers"]] == [layer["name"] for layer in layers]
    for layer in layers[:target_index]:
        assert by_name[layer["name"]]["pass"] is True, layer["name"]
    assert by_name[target]["pass"] is False and by_name[target]["max_abs"] > 1e-3
    marked = [line for line in out.splitlines() if MARKER in line]
    assert len(marked) == 1 and marked[0].split()[1] == target, marked
