"""The demo's small pieces: difference scale, PSNR, checkpoint round trip and the messages of bad arguments."""
import numpy as np
import pytest
import torch

from kiln_demo import data, images, pipeline, report, train
from kiln_demo.model import Autoencoder


@pytest.mark.parametrize("max_abs, factor", [(1.19e-7, 1e6), (1e-6, 1e6), (0.5, 1.0), (0.05, 10.0), (0.0, 1.0)])
def test_amplification_maps_the_largest_difference_into_a_tenth_to_one(max_abs, factor):
    assert images.amplification(max_abs) == pytest.approx(factor)
    assert max_abs * images.amplification(max_abs) <= 1.0
    assert images.power_text(1e6) == "1e6"


def test_difference_panel_is_grey_and_scaled():
    rng = np.random.default_rng(3)
    a = rng.random((3, 8, 8)).astype(np.float32)
    b = a.copy()
    b[1, 2, 5] += 3e-7
    panel, factor = images.difference_panel(a, b)
    assert factor == pytest.approx(1e6)
    assert panel.shape == (3, 8, 8) and (panel[0] == panel[2]).all()
    assert panel[0, 2, 5] == pytest.approx(0.3, rel=0.05) and panel.sum() == pytest.approx(3 * panel[0, 2, 5])


def test_psnr():
    x = np.zeros((3, 4, 4))
    assert report.psnr(x, x + 0.1) == pytest.approx(20.0)
    assert report.psnr(x, x) == pytest.approx(120.0)  # capped, so JSON never holds infinity


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    torch.manual_seed(5)
    model = Autoencoder().eval()
    path = str(tmp_path / "c.pt")
    train.save_checkpoint(path, model, {"steps": 3, "final_loss": 0.25})
    back, facts = train.load_checkpoint(path, torch.device("cpu"))
    assert facts == {"steps": 3, "final_loss": 0.25}
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(model(x), back(x))


def test_checkpoint_of_another_model_is_refused_with_advice(tmp_path):
    path = str(tmp_path / "c.pt")
    train.save_checkpoint(path, Autoencoder(widths=(8, 16, 32)), {})
    with pytest.raises(RuntimeError, match=r"c\.pt does not fit this demo's model .*pass --retrain"):
        train.load_checkpoint(path, torch.device("cpu"))


def test_fit_keeps_the_aspect_ratio_and_crops_to_the_multiple():
    img = np.random.default_rng(0).random((400, 610, 3)).astype(np.float32)
    assert data.fit(img[:, :600], 64, 8).shape == (40, 64, 3)  # 42.7 rows -> 43, cropped to 40
    assert data.fit(img[:, :600], 0, 8).shape == (400, 600, 3)  # its own size
    assert data.fit(img[:, :601], 0, 8).shape == (400, 600, 3)
    np.testing.assert_array_equal(data.fit(img[:, :603], 0, 8), img[:, 1:601])  # centred crop


def test_unknown_image_names_itself():
    with pytest.raises(ValueError, match=r"skimage.data has no image 'no_such_picture'"):
        data.load("no_such_picture")


@pytest.mark.parametrize("args, message", [
    (["--image-size", "60"], "--image-size 60: must be 0 or a positive multiple of 8"),
    (["--patch-size", "128", "--image-size", "64"], "--patch-size 128: must be a multiple of 8 between 8 and"),
    (["--steps", "0"], "--steps and --repeat must be at least 1"),
])
def test_bad_arguments_are_named(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        pipeline.parse_args(["--out", "x"] + args)
    assert e.value.code == 2 and message in capsys.readouterr().err
