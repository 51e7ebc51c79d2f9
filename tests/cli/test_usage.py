"""The kiln tool's command line as a newcomer meets it: every command's --help, and the mistakes that used
to give a confusing answer (a rank-3 input, --layers without golden layers, an unwritable --output, a GPU
that is not there, a .onnx given as --model, f16 weights against float32 golden outputs). Each mistake ends
with exit code 2 and one line that names the option or tensor and says what to do, before anything is
loaded or run. Runs the CPU reference path on the autoencoder the e2e test exported (KILN_MODEL)."""
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
import yaml

from kiln_export import read_tensors, write_tensors

KILN = os.environ["KILN_BIN"]
MODEL = os.environ["KILN_MODEL"]
COMMANDS = ("run", "compare", "inspect", "bench", "profile", "tune")


def kiln(*args, timeout=120):
    return subprocess.run([KILN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)


def one_line(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def gpu_present():
    return kiln("inspect", "--model", MODEL, "--device", "gpu").returncode == 0


def test_version_and_top_level_help():
    r = kiln("--version")
    assert r.returncode == 0 and re.match(r"kiln \d+\.\d+\.\d+ \(built with CUDA ", r.stdout), r.stdout
    r = kiln("--help")
    assert r.returncode == 0
    for command in COMMANDS:
        assert re.search(r"^  %s +\S" % command, r.stdout, re.M), command
    r = kiln()
    assert r.returncode == 2 and "usage: kiln <command>" in r.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_explained_with_its_default(command):
    r = kiln(command, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: kiln %s --model DIR" % command)
    options = [line for line in r.stdout.splitlines() if line.startswith("  -")]
    assert len(options) >= 6
    for line in options:
        m = re.match(r"  (-h,--help|--[a-z][a-z0-9-]*)( (\S+))? +(\S.*)$", line)
        assert m, line
        name, metavar, text = m.group(1), m.group(3), m.group(4)
        assert len(text) > 8, line  # explained
        if metavar:  # takes a value: its default or that it is required
            assert "(default: " in text or text.endswith("(required)"), line
    assert "--model DIR" in r.stdout and "(required)" in r.stdout


def test_bad_values_and_unknown_options_name_the_option():
    cases = [(("run", "--model", MODEL, "--output", "o.manifest", "--repeat", "2x"),
              "kiln run: --repeat: expected an integer, got '2x'"),
             (("compare", "--model", MODEL, "--device", "tpu"),
              "kiln compare: --device: expected one of auto|cpu|gpu, got 'tpu'"),
             (("inspect", "--model", MODEL, "--bacth", "2"), "kiln inspect: unknown option --bacth"),
             (("inspect", "--modle", MODEL), "kiln inspect: unknown option --modle"),
             (("compare",), "kiln compare: missing --model DIR"),
             (("comprae", "--model", MODEL), "kiln: unknown command 'comprae'"),
             (("bench", "--model", MODEL, "--devices", "0,x"),
              "kiln bench: --devices: expected up to 16 GPU numbers separated by commas, like 0,1, got '0,x'"),
             (("bench", "--model", MODEL, "--devices", "0,,1"),
              "kiln bench: --devices: expected up to 16 GPU numbers separated by commas, like 0,1, got '0,,1'"),
             (("bench", "--model", MODEL, "--device", "cpu", "--devices", "0,1"),
              "kiln bench: --devices needs the GPU path (--device gpu, or auto on a machine with a GPU)")]
    for args, message in cases:
        r = kiln(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in one_line(r), args


def test_inspect_json_lists_layers_with_attributes_weights_and_parameters(tmp_path):
    r = kiln("inspect", "--model", MODEL, "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    with open(os.path.join(MODEL, "model.yaml")) as f:
        spec = yaml.safe_load(f)
    assert [layer["name"] for layer in j["layers"]] == [layer["name"] for layer in spec["layers"]]
    assert j["inputs"][0]["name"] == spec["inputs"][0]["name"] and j["inputs"][0]["shape"] == spec["inputs"][0]["shape"]
    assert j["outputs"][0]["name"] == spec["outputs"][0]
    conv = next(layer for layer in j["layers"] if layer["op"] == "conv2d")
    written = next(layer for layer in spec["layers"] if layer["name"] == conv["name"])
    assert conv["attributes"]["kernel_size"] == written["attributes"]["kernel_size"]
    assert conv["inputs"] == written["inputs"] and conv["output"] == conv["name"]
    assert conv["output_shape"][0] == spec["inputs"][0]["shape"][0]
    weight = conv["weights"][0]
    assert weight["role"] == "weight" and weight["dtype"] == "f32" and len(weight["shape"]) == 4
    assert weight["parameters"] == int(np.prod(weight["shape"]))
    assert j["parameters"] == sum(layer["parameters"] for layer in j["layers"]) > 0
    assert j["device"].startswith("cpu")

    path = tmp_path / "inspect.json"
    r = kiln("inspect", "--model", MODEL, "--json", str(path))
    assert r.returncode == 0, r.stderr
    assert json.loads(path.read_text()) == j
    header = next(line for line in r.stdout.splitlines() if line.startswith("#"))
    for column in ("layer", "op", "inputs", "output", "attributes", "weights", "params", "GFLOP", "arena offset"):
        assert column in header
    row = next(line for line in r.stdout.splitlines() if line.split()[1:2] == [conv["name"]])
    assert "kernel_size=[%d,%d]" % tuple(written["attributes"]["kernel_size"]) in row
    assert "weight %s f32" % ("[" + ",".join(str(d) for d in weight["shape"]) + "]") in row
    assert row.index("conv2d") == header.index("op")  # aligned columns
    assert re.search(r"^weights: \d+ tensors, [\d,]+ parameters", r.stdout, re.M)


def test_compare_layers_without_golden_layers_says_to_export_them(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    for name in ("layers.manifest", "layers.bin"):
        os.remove(model / "golden" / name)
    r = kiln("compare", "--model", str(model), "--device", "cpu", "--layers")
    assert r.returncode == 2
    line = one_line(r)
    layers = model / "golden" / "layers.manifest"
    assert "--layers: %s does not exist: this export has no golden layer outputs" % layers in line
    assert "--golden-layers" in line
    assert r.stdout == ""  # nothing loaded or run: no device line


def test_output_paths_are_checked_before_anything_runs(tmp_path):
    missing = tmp_path / "no" / "o.manifest"
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--output", str(missing))
    assert r.returncode == 2
    assert one_line(r) == "kiln run: --output: %s: its folder %s does not exist" % (missing, missing.parent)
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--output", str(tmp_path))
    assert r.returncode == 2 and "--output: %s is a folder" % tmp_path in one_line(r)
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--output", str(tmp_path / "o.npy"))
    assert r.returncode == 2 and "tensor files are written as NAME.manifest" in one_line(r)
    r = kiln("compare", "--model", MODEL, "--device", "cpu", "--json", str(missing.with_suffix(".json")))
    assert r.returncode == 2 and one_line(r).startswith("kiln compare: --json: ") and r.stdout == ""
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        r = kiln("run", "--model", MODEL, "--device", "cpu", "--output", str(locked / "o.manifest"))
        assert r.returncode == 2 and "is not writable" in one_line(r)


def test_an_input_without_its_batch_dimension_is_a_rank_error(tmp_path):
    inputs = read_tensors(os.path.join(MODEL, "golden", "inputs.manifest"))
    name, x = next(iter(inputs.items()))
    image = np.array(x[0], np.float32)  # [C,H,W]
    path = str(tmp_path / "image.manifest")
    write_tensors(path, {name: image})
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", path, "--output", str(tmp_path / "o.manifest"))
    assert r.returncode == 2
    want = "[N," + ",".join(str(d) for d in x.shape[1:]) + "]"
    assert ("input '%s' has rank 3 (%s); the model takes rank 4 %s with the batch first"
            % (name, "[" + ",".join(str(d) for d in image.shape) + "]", want)) in one_line(r)


def test_no_gpu_suggests_the_cpu_path():
    if gpu_present():
        pytest.skip("a GPU is present")
    for args in (("inspect",), ("compare",), ("run", "--output", "o.manifest"), ("bench", "--iterations", "1")):
        r = kiln(args[0], "--model", MODEL, "--device", "gpu", *args[1:])
        assert r.returncode == 2, r.stderr
        line = one_line(r)
        assert "--device gpu: no usable GPU: " in line and "--device cpu runs the CPU reference path" in line
    r = kiln("profile", "--model", MODEL)
    assert r.returncode == 2 and "no usable GPU" in one_line(r) and "`kiln bench --device cpu`" in one_line(r)
    r = kiln("tune", "--model", MODEL)
    assert r.returncode == 2 and "kiln tune needs a GPU: " in one_line(r)


@pytest.mark.parametrize("name,what", [("net.onnx", "an ONNX model"), ("net.pt", "a PyTorch checkpoint"),
                                       ("net.engine", "a TensorRT engine"), ("w.safetensors", "a safetensors file")])
def test_a_file_of_another_format_as_model_says_how_to_export(tmp_path, name, what):
    path = tmp_path / name
    path.write_bytes(b"\x08\x07")
    r = kiln("inspect", "--model", str(path))
    assert r.returncode == 2
    line = one_line(r)
    assert "kiln inspect: --model: %s is %s; kiln reads a folder written by kiln_export " % (path, what) in line
    assert "(model.yaml, weights.manifest and weights.bin)" in line
    assert "python3 -m kiln_export --model pkg.module:factory " in line and "--out DIR" in line


def test_f16_weights_get_a_tolerance_that_fits_them_unless_one_is_given(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    weights = read_tensors(str(model / "weights.manifest"))
    write_tensors(str(model / "weights.manifest"), {k: np.asarray(v, np.float16) for k, v in weights.items()})
    r = kiln("compare", "--model", str(model), "--device", "cpu")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ("tolerance: atol 0.01 x each tensor's largest |PyTorch value| (at least 1e-05), rtol 0.01 "
            "(atol and rtol: the default for f16 weights") in r.stdout
    # A tolerance given wins: this one is far below what the rounded weights move the outputs by.
    r = kiln("compare", "--model", str(model), "--device", "cpu", "--atol", "1e-9", "--rtol", "1e-9")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "tolerance: atol 1e-09, rtol 1e-09\n" in r.stdout
    r = kiln("compare", "--model", MODEL, "--device", "cpu")
    assert "tolerance: atol 1e-05, rtol 1e-05 (atol and rtol: the default;" in r.stdout


def test_a_dynamic_export_runs_any_size_in_range_and_names_the_range_otherwise(tmp_path):
    import torch
    from kiln_export import export, zoo
    torch.manual_seed(0)
    folder = str(tmp_path / "unet")
    export(zoo.unet().eval(), torch.randn(1, 3, 32, 32), folder, dynamic_hw=((16, 16), (128, 128)))
    x = np.random.default_rng(0).standard_normal((2, 3, 48, 80)).astype(np.float32)
    write_tensors(str(tmp_path / "in.manifest"), {"x": x})
    r = kiln("run", "--model", folder, "--device", "cpu", "--input", str(tmp_path / "in.manifest"),
             "--output", str(tmp_path / "out.manifest"))
    assert r.returncode == 0, r.stderr
    (y,) = read_tensors(str(tmp_path / "out.manifest")).values()
    assert y.shape == (2, 1, 48, 80)
    r = kiln("bench", "--model", folder, "--device", "cpu", "--shape", "64x96", "--iterations", "1",
             "--duration-s", "0", "--warmup-ms", "0")
    assert r.returncode == 0 and "shape [1,3,64,96]" in r.stdout, r.stderr
    r = kiln("bench", "--model", folder, "--device", "cpu", "--shape", "8x8")
    assert r.returncode == 2
    assert "input 'x' has shape [1,3,8,8]; the model takes [N,3,H,W] with 16 <= H <= 128" in one_line(r)
    r = kiln("bench", "--model", folder, "--device", "cpu", "--shape", "64by64")
    assert r.returncode == 2 and "--shape: expected HEIGHTxWIDTH like 1080x1920, got '64by64'" in one_line(r)
    r = kiln("bench", "--model", MODEL, "--device", "cpu", "--shape", "64x64")
    assert r.returncode == 2 and "this model's input sizes are fixed at export" in one_line(r)


def test_another_size_on_a_fixed_export_says_to_export_with_dynamic_hw(tmp_path):
    inputs = read_tensors(os.path.join(MODEL, "golden", "inputs.manifest"))
    name, x = next(iter(inputs.items()))
    bigger = np.zeros((1, x.shape[1], x.shape[2] * 2, x.shape[3] * 2), np.float32)
    write_tensors(str(tmp_path / "in.manifest"), {name: bigger})
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", str(tmp_path / "in.manifest"),
             "--output", str(tmp_path / "o.manifest"))
    assert r.returncode == 2
    assert "is fixed: export with --dynamic-hw MINxMIN:MAXxMAX for other sizes" in r.stderr.strip().splitlines()[-1]


def test_compare_max_rel_l2_and_the_fp32_layers_search_are_checked(tmp_path):
    r = kiln("compare", "--model", MODEL, "--device", "cpu", "--fp32-layers", "auto")
    assert r.returncode == 2
    assert "--fp32-layers auto" in one_line(r) and "--precision fp16 on the GPU" in one_line(r)
    r = kiln("compare", "--model", MODEL, "--device", "cpu", "--max-rel-l2", "-1")
    assert r.returncode == 2 and "--max-rel-l2: expected a finite number >= 0" in one_line(r)
    # A bound is a criterion of its own: one above the CPU path's error passes, one below it fails.
    stats = tmp_path / "c.json"
    r = kiln("compare", "--model", MODEL, "--device", "cpu", "--max-rel-l2", "1", "--json", str(stats))
    assert r.returncode == 0, r.stdout + r.stderr
    worst = max(o["relative_l2"] for o in json.loads(stats.read_text())["outputs"])
    assert 0 < worst < 1e-4
    r = kiln("compare", "--model", MODEL, "--device", "cpu", "--max-rel-l2", "%g" % (worst / 2), "--json", str(stats))
    assert r.returncode == 1
    assert "is beyond --max-rel-l2" in r.stdout
    assert json.loads(stats.read_text())["pass"] is False
