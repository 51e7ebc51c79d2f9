"""Models exported once per session for the runtime tests: the zoo's autoencoder at 32x32 with golden
outputs (batch 1), and the same network exported at batch 4 for batch and threading tests."""
import numpy as np
import pytest
import torch

from kiln_export import export, read_tensors
from kiln_export import zoo


def _export(tmp_path_factory, name, shape, seed, dynamic_hw=None):
    torch.manual_seed(seed)
    model = zoo.autoencoder().eval()
    example = torch.randn(*shape)
    out = tmp_path_factory.mktemp(name) / "model"
    export(model, example, str(out), dynamic_hw=dynamic_hw)
    return model, str(out)


@pytest.fixture(scope="session")
def autoencoder(tmp_path_factory):
    """(torch model, export folder, golden inputs dict, golden outputs dict)."""
    model, folder = _export(tmp_path_factory, "ae", (1, 3, 32, 32), 1)
    return model, folder, read_tensors(folder + "/golden/inputs.manifest"), read_tensors(folder + "/golden/outputs.manifest")


@pytest.fixture(scope="session")
def dynamic_autoencoder(tmp_path_factory):
    """(torch model, export folder) of the autoencoder for any size from 16x16 to 96x128."""
    return _export(tmp_path_factory, "ae_dynamic", (1, 3, 32, 32), 1, dynamic_hw=((16, 16), (96, 128)))


def rel_l2(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def torch_reference(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()
