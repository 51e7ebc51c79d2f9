#!/usr/bin/env python3
"""Writes the seed corpora (tests/fuzz/seeds/<target>/) and libFuzzer dictionaries (tests/fuzz/dicts/)
of kiln's fuzz targets. Standard library only; every file is small (< 8 KiB).

    python3 tests/fuzz/make_seeds.py                   # the hand-made seeds and the dictionaries
    python3 tests/fuzz/make_seeds.py --with-exporter   # + real kiln_export outputs (needs PyTorch:
                                                       #   /usr/bin/python3 on Debian), files exporter-*

Without --with-exporter, existing exporter-* seeds are kept; every other seed file is rewritten.

Input layouts (tests/fuzz/fuzz_common.h): manifest and model.yaml seeds are the files themselves; a
fuzz_model_folder seed is FLAGS + model.yaml + SEP + weights.manifest + SEP + blob and a fuzz_tensor_file
seed is FLAGS + manifest + SEP + blob, SEP = "\\n@@@@\\n", FLAGS one byte (bit 0: resize/zero-pad the
blob, bit 1: fix the crc32 line, bits 2-3: max batch, bit 6: keep every layer's output).
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEP = b"\n@@@@\n"
MAX_SEED = 8192
TARGETS = ("fuzz_manifest", "fuzz_model_yaml", "fuzz_model_folder", "fuzz_tensor_file")

# Weights every hand-made model draws from. Must match kWeights in fuzz_model_yaml.cpp, which builds
# model.yaml seeds against this manifest.
SHARED_WEIGHTS = [
    ("conv.weight", "f32", [4, 3, 3, 3]),
    ("conv.bias", "f32", [4]),
    ("dw.weight", "f32", [4, 1, 3, 3]),
    ("convt.weight", "f32", [4, 2, 2, 2]),
    ("convt.bias", "f32", [2]),
    ("bn.scale", "f32", [4]),
    ("bn.shift", "f32", [4]),
    ("fc.weight", "f32", [5, 4]),
    ("fc.bias", "f32", [5]),
    ("fc2.weight", "f16", [3, 5]),
]


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def values(n, salt):
    """Deterministic small values in [-0.5, 0.5)."""
    return [((i * 37 + salt * 11) % 17 - 8) / 16.0 for i in range(n)]


def tensor_file(tensors, blob_name, alignment=256, crlf=False, comments=False):
    """(manifest bytes, blob bytes) for tensors = [(name, dtype, shape, list of floats)], per formats/README.md."""
    lines, blob, end = [], bytearray(), 0
    for i, (name, dtype, shape, data) in enumerate(tensors):
        fmt = "<%d%s" % (len(data), "f" if dtype == "f32" else "e")
        raw = struct.pack(fmt, *data)
        offset = (end + alignment - 1) // alignment * alignment if i else 0
        blob += bytes(offset - len(blob)) + raw
        lines.append("%s %s %d %d [%s]" % (name, dtype, offset, len(raw), ",".join(str(d) for d in shape)))
        end = offset + len(raw)
    size = (end + alignment - 1) // alignment * alignment if tensors else 0
    blob += bytes(size - len(blob))
    head = ["kiln-manifest 1", "blob " + blob_name, "blob-size %d" % size, "alignment %d" % alignment,
            "crc32 %08x" % (zlib.crc32(bytes(blob)) & 0xFFFFFFFF), "tensors %d" % len(tensors)]
    if comments:
        head.insert(1, "# written by tests/fuzz/make_seeds.py")
        head.insert(5, "")
        lines.append("# end")
    nl = "\r\n" if crlf else "\n"
    return (nl.join(head + lines) + nl).encode(), bytes(blob)


def shared_weights(alignment=16):
    return tensor_file([(n, d, s, values(count(s), i)) for i, (n, d, s) in enumerate(SHARED_WEIGHTS)],
                       "weights.bin", alignment)


def flow(d):
    def v(x):
        if isinstance(x, bool):
            return "true" if x else "false"
        if isinstance(x, list):
            return "[" + ", ".join(v(e) for e in x) + "]"
        return str(x)
    return "{" + ", ".join("%s: %s" % (k, v(x)) for k, x in d.items()) + "}"


def model_yaml(name, inputs, layers, outputs, hw_range=None):
    """Exporter-style model.yaml. inputs = [(name, shape)], layers = [(name, op, inputs, attrs, weights)];
    hw_range ((min_h, min_w), (max_h, max_w)) makes the 4-D inputs' height and width dynamic."""
    out = ["format: kiln-model", "version: 1", "name: \"%s\"" % name, "weights: weights.manifest", "inputs:"]
    for n, s in inputs:
        extra = ""
        if hw_range and len(s) == 4:
            extra = ", min_hw: [%d, %d], max_hw: [%d, %d]" % (hw_range[0] + hw_range[1])
        out.append("  - {name: %s, shape: [%s], dtype: f32%s}" % (n, ", ".join(map(str, s)), extra))
    out.append("layers:")
    for lname, op, ins, attrs, weights in layers:
        out += ["  - name: " + lname, "    op: " + op, "    inputs: [%s]" % ", ".join(ins)]
        if attrs:
            out.append("    attributes: " + flow(attrs))
        if weights:
            out.append("    weights: " + flow(weights))
    out.append("outputs: [%s]" % ", ".join(outputs))
    return ("\n".join(out) + "\n").encode()


CONV = {"weight": "conv.weight", "bias": "conv.bias"}
MODELS = {
    # Every op of formats/README.md once, on a batch of 2.
    "all_ops": model_yaml("all_ops", [("x", [2, 3, 8, 8])], [
        ("c1", "conv2d", ["x"], {"out_channels": 4, "kernel_size": [3, 3], "padding": [1, 1]}, CONV),
        ("r", "relu", ["c1"], {}, {}),
        ("bn", "batch_norm", ["r"], {}, {"scale": "bn.scale", "shift": "bn.shift"}),
        ("lk", "leaky_relu", ["bn"], {"negative_slope": 0.2}, {}),
        ("dw", "conv2d", ["lk"], {"out_channels": 4, "kernel_size": 3, "padding": 1, "groups": 4},
         {"weight": "dw.weight"}),
        ("e", "elu", ["dw"], {"alpha": 0.5}, {}),
        ("a", "add", ["r", "e"], {}, {}),
        ("mp", "max_pool2d", ["a"], {"kernel_size": [2, 2]}, {}),
        ("ap", "avg_pool2d", ["mp"], {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}, {}),
        ("up", "upsample_nearest", ["ap"], {"scale": [2, 2]}, {}),
        ("cat", "concat", ["up", "lk"], {"axis": 1}, {}),
        ("n", "lrn", ["cat"], {"size": 3, "alpha": 0.001, "beta": 0.75, "k": 2.0}, {}),
        ("sm", "softmax", ["n"], {"axis": 1}, {}),
        ("ct", "conv_transpose2d", ["up"], {"out_channels": 2, "kernel_size": [2, 2], "stride": [2, 2]},
         {"weight": "convt.weight", "bias": "convt.bias"}),
        ("sg", "sigmoid", ["ct"], {}, {}),
        ("th", "tanh", ["sg"], {}, {}),
        ("gap", "global_avg_pool2d", ["e"], {}, {}),
        ("fl", "flatten", ["gap"], {}, {}),
        ("fc", "linear", ["fl"], {"out_features": 5}, {"weight": "fc.weight", "bias": "fc.bias"}),
        ("fc2", "linear", ["fc"], {"out_features": 3}, {"weight": "fc2.weight"}),
        ("p", "softmax", ["fc2"], {}, {}),
    ], ["sm", "th", "p"]),
    "mlp": model_yaml("mlp", [("x", [3, 4])], [
        ("fc", "linear", ["x"], {"out_features": 5}, {"weight": "fc.weight", "bias": "fc.bias"}),
        ("r", "relu", ["fc"], {}, {}),
        ("fc2", "linear", ["r"], {"out_features": 3}, {"weight": "fc2.weight"}),
        ("p", "softmax", ["fc2"], {}, {}),
    ], ["p", "r"]),
    # Skip links: tensors that stay alive across several steps, an in-place add, a padded strided pool.
    "skip": model_yaml("skip", [("x", [1, 4, 6, 6])], [
        ("dw", "conv2d", ["x"], {"out_channels": 4, "kernel_size": [3, 3], "padding": [1, 1], "groups": 4},
         {"weight": "dw.weight"}),
        ("r", "relu", ["dw"], {}, {}),
        ("a", "add", ["x", "r"], {}, {}),
        ("cat", "concat", ["a", "x", "r"], {}, {}),
        ("mp", "max_pool2d", ["cat"], {"kernel_size": 3, "stride": 2, "padding": 1}, {}),
        ("ct", "conv_transpose2d", ["a"], {"out_channels": 2, "kernel_size": 2, "stride": 1, "padding": 1,
                                           "dilation": 2, "output_padding": 0}, {"weight": "convt.weight"}),
    ], ["mp", "a", "ct"]),
    # A dynamic height x width (min_hw/max_hw): the graph is built for the range's largest size.
    "dynamic": model_yaml("dynamic", [("x", [1, 4, 6, 6])], [
        ("dw", "conv2d", ["x"], {"out_channels": 4, "kernel_size": [3, 3], "padding": [1, 1], "groups": 4},
         {"weight": "dw.weight"}),
        ("mp", "max_pool2d", ["dw"], {"kernel_size": 2}, {}),
        ("g", "global_avg_pool2d", ["mp"], {}, {}),
    ], ["mp", "g"], hw_range=((2, 2), (64, 96))),
    # The smallest spatial case: a 3x3 kernel on a 3x3 input, strides and dilation.
    "tiny": model_yaml("tiny", [("x", [1, 3, 5, 5])], [
        ("c1", "conv2d", ["x"], {"out_channels": 4, "kernel_size": 3, "stride": 2, "dilation": 2}, CONV),
        ("fl", "flatten", ["c1"], {}, {}),
        ("fc", "linear", ["fl"], {"out_features": 5}, {"weight": "fc.weight"}),
        ("s", "sigmoid", ["fc"], {}, {}),
    ], ["s"]),
}

# model.yaml written by hand in block style, with comments and quoted strings.
BLOCK_YAML = b"""# a model.yaml in block style
format: kiln-model
version: 1
name: 'block style'
weights: "weights.manifest"
inputs:
  - name: x
    shape:
      - 2
      - 4
      - 4
      - 4
    dtype: f32
  - name: y
    shape: [2, 4, 4, 4]
    dtype: f32
layers:
  - name: sum
    op: add
    inputs:
      - x
      - y
  - name: bn
    op: batch_norm
    inputs: [sum]
    weights:
      scale: bn.scale
      shift: bn.shift
  - name: act
    op: leaky_relu
    inputs: [bn]
    attributes:
      negative_slope: 1.5e-2
  - name: pool
    op: avg_pool2d
    inputs: [act]
    attributes:
      kernel_size: [2, 1]
      stride: [1, 2]
      padding: [1, 0]
      count_include_pad: true
outputs:
  - pool   # the only output
"""


def write_seed(target, name, data):
    if len(data) >= MAX_SEED:
        print("make_seeds: skipping %s/%s (%d bytes >= %d)" % (target, name, len(data), MAX_SEED))
        return
    path = os.path.join(HERE, "seeds", target, name)
    with open(path, "wb") as f:
        f.write(data)


def folder_seed(flags, yaml, manifest, blob=b""):
    return flags + yaml + SEP + manifest + SEP + blob


def hand_made():
    manifest, blob = shared_weights()
    manifest256, blob256 = shared_weights(256)
    for name, yaml in MODELS.items():
        write_seed("fuzz_model_yaml", name + ".yaml", yaml)
        write_seed("fuzz_model_folder", name, folder_seed(b"3", yaml, manifest, blob))
    write_seed("fuzz_model_yaml", "block_style.yaml", BLOCK_YAML)
    # Anchors and aliases (which the reader refuses: they let a small file expand to a huge tree).
    write_seed("fuzz_model_yaml", "anchors.yaml", MODELS["mlp"].replace(b"shape: [3, 4]", b"shape: &s [3, 4]")
               .replace(b"outputs: [p, r]", b"extra: *s\noutputs: [p, r]"))
    write_seed("fuzz_model_folder", "block_style", folder_seed(b"3", BLOCK_YAML, manifest, blob))
    # Exact files (no fixing), alignment 256, max batch 3 with every layer kept, and a broken checksum.
    write_seed("fuzz_model_folder", "all_ops_exact_a256", folder_seed(b"0", MODELS["all_ops"], manifest256, blob256))
    write_seed("fuzz_model_folder", "skip_batch3_keep", folder_seed(b"\x7f", MODELS["skip"], manifest, blob))
    write_seed("fuzz_model_folder", "mlp_bad_crc", folder_seed(b"0", MODELS["mlp"], manifest, blob[:-1] + b"\x01"))

    write_seed("fuzz_manifest", "shared_a16.manifest", manifest)
    write_seed("fuzz_manifest", "shared_a256.manifest", manifest256)
    t = [(n, d, s, values(count(s), i)) for i, (n, d, s) in enumerate(SHARED_WEIGHTS[:4])]
    write_seed("fuzz_manifest", "comments_crlf.manifest", tensor_file(t, "w.bin", 64, crlf=True, comments=True)[0])
    write_seed("fuzz_manifest", "empty.manifest", tensor_file([], "empty.bin")[0])
    write_seed("fuzz_manifest", "scalar_rank8.manifest", tensor_file(
        [("s", "f32", [], [1.0]), ("r8", "f16", [1, 2, 1, 2, 1, 2, 1, 2], values(16, 3))], "x.bin", 16)[0])
    # Textually valid at the limits: a 2^40 dimension and the largest alignment (no blob is read).
    write_seed("fuzz_manifest", "limits.manifest", (
        "kiln-manifest 1\nblob big.bin\nblob-size 4398047559680\nalignment 1048576\ncrc32 00000000\ntensors 2\n"
        "a f32 0 4398046511104 [1099511627776]\nb\tf16\t4398046511104\t2\t[1]\n").encode())

    # Tensor files for the fixed model of fuzz_tensor_file.cpp: inputs x, y of [batch, 3, 4, 4].
    def xy(batch, dtype="f32", alignment=256, names=("x", "y")):
        n = batch * 48
        return tensor_file([(names[0], dtype, [batch, 3, 4, 4], values(n, 1)),
                            (names[1], dtype, [batch, 3, 4, 4], values(n, 2))], "inputs.bin", alignment)
    for name, (m, b), flags in [("xy_batch2", xy(2), b"3"), ("xy_batch1_f16_a16", xy(1, "f16", 16), b"0"),
                                ("xy_swapped", xy(2, names=("y", "x")), b"3"), ("xy_batch3", xy(3, alignment=16), b"3")]:
        write_seed("fuzz_tensor_file", name, flags + m + SEP + b)
        write_seed("fuzz_manifest", name + ".manifest", m)
    m, b = tensor_file([("x", "f32", [2, 3, 4, 4], values(96, 1))], "one.bin", 16)
    write_seed("fuzz_tensor_file", "x_only", b"3" + m + SEP + b)
    m, b = tensor_file([], "none.bin")
    write_seed("fuzz_tensor_file", "no_tensors", b"3" + m + SEP + b)
    m, b = tensor_file([("x", "f32", [2, 48], values(96, 1)), ("y", "f32", [96], values(96, 2)),
                        ("z", "f32", [], [3.0])], "three.bin", 32)
    write_seed("fuzz_tensor_file", "three_reshaped", b"3" + m + SEP + b)


def exporter_seeds(python):
    """kiln_export outputs of the zoo's models: model.yaml and manifests (blobs are too large to keep)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "exporter"))
    for model, dtype in [("autoencoder", "f32"), ("unet", "f16"), ("resnet18", "f32")]:
        out = tempfile.mkdtemp(prefix="kiln-seeds-")
        try:
            subprocess.run([python, "-m", "kiln_export", "--model", "kiln_export.zoo:" + model, "--input-shape",
                            "1,3,32,32", "--dtype", dtype, "--golden-layers", "--out", os.path.join(out, "m")],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            d = os.path.join(out, "m")
            read = lambda *p: open(os.path.join(d, *p), "rb").read()
            yaml, manifest = read("model.yaml"), read("weights.manifest")
            write_seed("fuzz_model_yaml", "exporter-%s.yaml" % model, yaml)
            write_seed("fuzz_manifest", "exporter-%s.manifest" % model, manifest)
            write_seed("fuzz_manifest", "exporter-%s-layers.manifest" % model, read("golden", "layers.manifest"))
            write_seed("fuzz_model_folder", "exporter-%s" % model, folder_seed(b"3", yaml, manifest))
        finally:
            shutil.rmtree(out, ignore_errors=True)


OPS = ["conv2d", "conv_transpose2d", "batch_norm", "relu", "leaky_relu", "sigmoid", "tanh", "elu", "max_pool2d",
       "avg_pool2d", "global_avg_pool2d", "linear", "flatten", "lrn", "softmax", "add", "concat", "upsample_nearest"]
ATTRS = ["out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "output_padding", "negative_slope",
         "alpha", "beta", "k", "size", "axis", "count_include_pad", "out_features", "scale"]
NUMBERS = ["0", "1", "-1", "2", "3", "16", "256", "4096", "65535", "65536", "1048576", "2147483647", "2147483648",
           "4294967296", "1099511627776", "1099511627777", "9223372036854775807", "9223372036854775808",
           "18446744073709551615", "18446744073709551616"]
YAML_WORDS = (["format", "kiln-model", "version", "name", "weights", "inputs", "layers", "outputs", "op", "attributes",
               "shape", "dtype", "f32", "f16", "weight", "bias", "shift", "weights.manifest", "min_hw", "max_hw"] + OPS + ATTRS +
              [": ", "- ", "{", "}", "[", "]", ", ", "&a ", "*a", "<<: ", "!!str ", "!!int ", "!!float ", "!!map ",
               "!!seq ", "? ", "|", ">", "'", '"', "~", "null", "true", "false", ".inf", "-.inf", ".nan", "0x10",
               "0o17", "1e400", "1.5e-2", "-0.0", "---\n", "...\n", "%YAML 1.2\n", "\n", "\n  - ", "    ", "# "] +
              NUMBERS)
MANIFEST_WORDS = (["kiln-manifest 1\n", "kiln-manifest ", "\nblob ", "\nblob-size ", "\nalignment ", "\ncrc32 ",
                   "\ntensors ", " f32 ", " f16 ", "[", "]", ",", "[]", "\n", "\r\n", "\t", "# ", "\n#", " ",
                   "00000000", "ffffffff", "weights.bin", "inputs.bin", "..", ".", "/", "\\", "a.b:c/d-e_f"] + NUMBERS)


def write_dict(name, words):
    def esc(w):
        return "".join(c if (" " <= c <= "~" and c not in '\\"') else "\\x%02x" % ord(c) for c in w)
    with open(os.path.join(HERE, "dicts", name + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary for %s, written by tests/fuzz/make_seeds.py\n" % name)
        for w in dict.fromkeys(words):
            f.write('"%s"\n' % esc(w))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--with-exporter", action="store_true", help="also write kiln_export outputs (needs PyTorch)")
    p.add_argument("--python", default="/usr/bin/python3", help="interpreter with PyTorch for --with-exporter")
    args = p.parse_args()
    for t in TARGETS:
        d = os.path.join(HERE, "seeds", t)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if args.with_exporter or not f.startswith("exporter-"):
                os.remove(os.path.join(d, f))
    os.makedirs(os.path.join(HERE, "dicts"), exist_ok=True)
    hand_made()
    if args.with_exporter:
        exporter_seeds(args.python)
    sep = [SEP.decode()]
    write_dict("fuzz_manifest", MANIFEST_WORDS)
    write_dict("fuzz_model_yaml", YAML_WORDS)
    write_dict("fuzz_model_folder", YAML_WORDS + MANIFEST_WORDS + sep)
    write_dict("fuzz_tensor_file", MANIFEST_WORDS + sep + ["x", "y", "[2,3,4,4]", "[1,3,4,4]", "[2,48]"])
    for t in TARGETS:
        d = os.path.join(HERE, "seeds", t)
        files = sorted(os.listdir(d))
        print("make_seeds: %-18s %2d seeds, %5d bytes" % (t, len(files),
                                                         sum(os.path.getsize(os.path.join(d, f)) for f in files)))


if __name__ == "__main__":
    sys.exit(main())
