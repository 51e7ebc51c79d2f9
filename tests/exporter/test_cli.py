"""The command line: --help, a zoo model through a real subprocess, checkpoints and error exits."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import kiln_ref
from conftest import EXPORTER
from kiln_export import read_tensors
from kiln_export.cli import main

MODEL_FILE = textwrap.dedent("""\
    import torch
    from torch import nn


    class Payload:
        pass


    def build():
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.Flatten(), nn.Linear(4 * 8 * 8, 5))


    def softsign():
        return nn.Sequential(nn.Conv2d(3, 4, 1), nn.Softsign())


    def not_a_module():
        return 42
""")


def _run(*args):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(EXPORTER), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "kiln_export"] + list(args), env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "netdef.py"
    path.write_text(MODEL_FILE)
    return str(path)


def test_help():
    r = _run("--help")
    assert r.returncode == 0, r.stderr
    for word in ("MODULE:CALLABLE", "--checkpoint", "--input-shape", "--golden-layers", "--dtype", "--seed",
                 "weights_only=True", "kiln_export.zoo:autoencoder"):
        assert word in r.stdout, word


def test_zoo_model_in_a_subprocess(tmp_path):
    out = tmp_path / "ae"
    r = _run("--model", "kiln_export.zoo:autoencoder", "--input-shape", "1,3,32,32", "--out", str(out),
             "--golden-layers", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "wrote %s (38 layers; inputs input; outputs head.1)" % out in r.stdout
    m = kiln_ref.check_against_golden(str(out))
    assert m["name"] == "autoencoder" and m["inputs"][0]["shape"] == [1, 3, 32, 32]
    x = read_tensors(str(out / "golden" / "inputs.manifest"))["input"]
    want = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3)).numpy()
    assert (x == want).all(), "the example input is standard normal noise from --seed"


def test_checkpoint_is_loaded(tmp_path, model_file):
    sys.path.insert(0, os.path.dirname(model_file))
    try:
        import netdef
    finally:
        sys.path.remove(os.path.dirname(model_file))
    torch.manual_seed(99)
    trained = netdef.build()
    with torch.no_grad():
        trained[1].running_mean.uniform_(-1, 1)
    torch.save(trained.state_dict(), str(tmp_path / "plain.pt"))
    torch.save({"state_dict": trained.state_dict(), "epoch": 3}, str(tmp_path / "wrapped.pt"))
    for ckpt in ("plain.pt", "wrapped.pt"):
        out = tmp_path / ("out_" + ckpt)
        assert main(["--model", model_file + ":build", "--checkpoint", str(tmp_path / ckpt), "--input-shape",
                     "2,3,8,8", "--out", str(out), "--dtype", "f16"]) == 0
        w = read_tensors(str(out / "weights.manifest"))
        np.testing.assert_array_equal(w["4.weight"], trained[4].weight.detach().numpy().astype(np.float16))
        kiln_ref.check_against_golden(str(out), tol=2e-2)  # f16 weights against f32 PyTorch


def test_checkpoint_with_arbitrary_objects_is_refused(tmp_path, model_file, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location("netdef", model_file)
    netdef = importlib.util.module_from_spec(spec)
    sys.modules["netdef"] = netdef
    try:
        spec.loader.exec_module(netdef)
        torch.save({"state_dict": netdef.build().state_dict(), "payload": netdef.Payload()}, str(tmp_path / "p.pt"))
    finally:
        del sys.modules["netdef"]
    out = tmp_path / "out"
    assert main(["--model", model_file + ":build", "--checkpoint", str(tmp_path / "p.pt"), "--input-shape",
                 "1,3,8,8", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "kiln_export: error: --checkpoint: %s could not be loaded as tensors only (weights_only=True)" \
        % (tmp_path / "p.pt") in err
    assert "does not unpickle arbitrary objects" in err
    assert not out.exists()


def test_checkpoint_that_does_not_fit(tmp_path, model_file, capsys):
    torch.save({"0.weight": torch.zeros(1)}, str(tmp_path / "bad.pt"))
    assert main(["--model", model_file + ":build", "--checkpoint", str(tmp_path / "bad.pt"), "--input-shape",
                 "1,3,8,8", "--out", str(tmp_path / "out")]) == 1
    assert "does not fit the model: Error(s) in loading state_dict" in capsys.readouterr().err


@pytest.mark.parametrize("spec,message", [
    (":softsign", "module `1` (torch.nn.Softsign): module type torch.nn.Softsign is not supported"),
    (":not_a_module", "returned int, not a torch.nn.Module"),
    (":missing", "has no attribute 'missing'"),
])
def test_errors_exit_1_with_a_message(tmp_path, model_file, capsys, spec, message):
    out = tmp_path / "out"
    assert main(["--model", model_file + spec, "--input-shape", "1,3,8,8", "--out", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_command_lines(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--model", "kiln_export.zoo:unet", "--input-shape", "1,3,x", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "expected comma-separated integers like 1,3,224,224, found '1,3,x'" in capsys.readouterr().err
    assert main(["--model", "no_such_module_kiln:f", "--input-shape", "1,3,8,8", "--out", str(tmp_path / "o")]) == 1
    assert "cannot import module 'no_such_module_kiln'" in capsys.readouterr().err
