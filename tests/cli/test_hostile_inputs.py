"""The kiln tool on inputs a user may be handed: each ends fast, with its documented exit code and a one-line
message naming the file or tensor (kiln --help lists the codes). Runs the CPU reference path on the
autoencoder the e2e test exported (KILN_MODEL)."""
import os
import shutil
import subprocess

import numpy as np
import pytest

from kiln_export import read_tensors, write_tensors

KILN = os.environ["KILN_BIN"]
MODEL = os.environ["KILN_MODEL"]


def kiln(*args, timeout=60):
    return subprocess.run([KILN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)


@pytest.fixture
def golden_input():
    return read_tensors(os.path.join(MODEL, "golden", "inputs.manifest"))


def test_help_documents_the_exit_codes():
    r = kiln("--help")
    assert r.returncode == 0
    for code in ("0 success", "2 bad command line", "3 a model or input file", "4 a CUDA, cuDNN or cuBLAS", "5 an internal"):
        assert code in r.stdout


def test_named_pipe_as_input_is_refused_at_once(tmp_path):
    fifo = tmp_path / "in.manifest"
    os.mkfifo(fifo)
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", str(fifo), "--output", str(tmp_path / "o.manifest"),
             timeout=20)
    assert r.returncode == 3, r.stderr
    assert "it is a named pipe, not a regular file" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_model_yaml_that_is_a_pipe_or_a_folder_is_named(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    os.remove(model / "model.yaml")
    os.mkfifo(model / "model.yaml")
    r = kiln("inspect", "--model", str(model), timeout=20)
    assert r.returncode == 3 and "model.yaml: cannot read the model: it is a named pipe" in r.stderr, r.stderr
    os.remove(model / "model.yaml")
    os.mkdir(model / "model.yaml")
    r = kiln("inspect", "--model", str(model), timeout=20)
    assert r.returncode == 3 and "it is a directory, not a regular file" in r.stderr, r.stderr


def test_extra_tensors_in_an_input_file_are_refused_or_warned(tmp_path, golden_input):
    tensors = dict(golden_input)
    tensors["not_an_input"] = np.zeros((1, 3), np.float32)
    path = str(tmp_path / "in.manifest")
    write_tensors(path, tensors)
    out = str(tmp_path / "o.manifest")
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", path, "--output", out)
    assert r.returncode == 2, r.stderr
    assert "1 tensor(s) that are not model inputs ('not_an_input'); pass --allow-extra-inputs" in r.stderr
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", path, "--output", out, "--allow-extra-inputs")
    assert r.returncode == 0, r.stderr
    assert "warning:" in r.stderr and "not_an_input" in r.stderr


def test_check_finite_names_a_nan_input(tmp_path, golden_input):
    name, x = next(iter(golden_input.items()))
    x = np.array(x, np.float32)
    x.flat[5] = np.nan
    path = str(tmp_path / "nan.manifest")
    write_tensors(path, {name: x})
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", path, "--output", str(tmp_path / "o.manifest"),
             "--check-finite")
    assert r.returncode == 1, r.stderr
    assert "check-finite: input tensor '%s' element 5 is nan" % name in r.stderr
    # Off by default for run: the NaN runs through silently, as before.
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", path, "--output", str(tmp_path / "o.manifest"))
    assert r.returncode == 0, r.stderr


def test_check_finite_names_the_first_layer_that_overflows(tmp_path, golden_input):
    name, x = next(iter(golden_input.items()))
    huge = np.full(np.shape(x), 3e38, np.float32)  # finite, but the first convolution overflows
    path = str(tmp_path / "huge.manifest")
    write_tensors(path, {name: huge})
    r = kiln("run", "--model", MODEL, "--device", "cpu", "--input", path, "--output", str(tmp_path / "o.manifest"),
             "--check-finite")
    assert r.returncode == 1, r.stderr
    assert "check-finite: output tensor" in r.stderr
    assert "check-finite: first non-finite layer output: " in r.stderr
    assert "layer enc.0 (conv2d): output element" in r.stderr and "(the model's inputs are finite)" in r.stderr


def test_compare_checks_finite_by_default(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    inputs = read_tensors(str(model / "golden" / "inputs.manifest"))
    name = next(iter(inputs))
    x = np.array(inputs[name], np.float32)
    x.flat[0] = np.inf
    write_tensors(str(model / "golden" / "inputs.manifest"), {name: x})
    r = kiln("compare", "--model", str(model), "--device", "cpu")
    assert r.returncode == 1
    assert "check-finite: input tensor '%s' element 0 is inf" % name in r.stderr
