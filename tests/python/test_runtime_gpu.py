"""The Python package on the GPU: host arrays and CUDA tensors (PyTorch, and a bare
__cuda_array_interface__ object standing in for CuPy/Numba) in and out without copies, ordering on the
caller's stream, fp16, and the device-side usage errors. run_pytest.py skips this file without a GPU."""
import numpy as np
import pytest
import torch

import kiln
from conftest import rel_l2, torch_reference


class InterfaceOnly:
    """A device array known only through __cuda_array_interface__ (as CuPy or Numba hand them over)."""

    def __init__(self, tensor, stream=None):
        self._tensor = tensor  # keeps the memory alive
        cai = dict(tensor.__cuda_array_interface__)
        cai["stream"] = stream
        self.__cuda_array_interface__ = cai


def test_host_arrays_on_the_gpu_match_golden(autoencoder):
    _, folder, inputs, golden = autoencoder
    engine = kiln.load(folder, device="gpu")
    assert engine.device == "gpu" and "gpu" in engine.description
    out = engine.context().run(inputs)
    for k in golden:
        assert rel_l2(out[k], golden[k]) < 1e-5


def test_torch_cuda_tensors_in_and_out(autoencoder):
    model, folder, _, _ = autoencoder
    engine = kiln.load(folder, device="gpu", max_batch=4)
    ctx = engine.context()
    x = torch.randn(3, 3, 32, 32, device="cuda")
    out = ctx.run(x)
    (y,) = out.values()
    assert isinstance(y, torch.Tensor) and y.is_cuda and y.dtype == torch.float32 and y.shape[0] == 3
    assert rel_l2(y.cpu().numpy(), torch_reference(model, x.cpu().numpy())) < 1e-5
    # Same numbers as the host path, bit for bit.
    (host,) = ctx.run(x.cpu().numpy()).values()
    np.testing.assert_array_equal(y.cpu().numpy(), host)


def test_preallocated_outputs_are_written_in_place(autoencoder):
    _, folder, _, _ = autoencoder
    engine = kiln.load(folder, device="gpu", max_batch=2)
    ctx = engine.context()
    x = torch.randn(2, 3, 32, 32, device="cuda")
    name = engine.outputs[0]["name"]
    y = torch.full((2,) + tuple(engine.outputs[0]["shape"][1:]), float("nan"), device="cuda")
    out = ctx.run({engine.inputs[0]["name"]: x}, out={name: y})
    assert out[name] is y
    assert torch.isfinite(y).all()


def test_runs_are_ordered_on_the_callers_stream(autoencoder):
    """The input is produced and the output consumed on a side stream, with no host synchronization in
    between: kiln must wait for the producer and make the consumer wait for it."""
    model, folder, _, _ = autoencoder
    ctx = kiln.load(folder, device="gpu", max_batch=4).context()
    side = torch.cuda.Stream()
    base = torch.randn(4, 3, 32, 32, device="cuda")
    torch.cuda.synchronize()
    with torch.cuda.stream(side):
        torch.cuda._sleep(50_000_000)  # ~tens of ms of GPU time before the input is written
        x = base * 2.0
        (y,) = ctx.run(x).values()
        z = y + 0.0  # consumed on the same stream
    side.synchronize()
    want = torch_reference(model, (base * 2.0).cpu().numpy())
    assert rel_l2(z.cpu().numpy(), want) < 1e-5


def test_cuda_array_interface_objects_get_device_arrays(autoencoder):
    model, folder, _, _ = autoencoder
    ctx = kiln.load(folder, device="gpu", max_batch=2).context()
    x = torch.randn(2, 3, 32, 32, device="cuda")
    torch.cuda.synchronize()
    (y,) = ctx.run(InterfaceOnly(x)).values()
    assert isinstance(y, kiln.DeviceArray) and y.shape == (2, 3, 32, 32) and y.dtype == "float32"
    cai = y.__cuda_array_interface__
    assert cai["typestr"] == "<f4" and cai["version"] == 3 and cai["data"][0] == y.data_ptr
    as_torch = torch.as_tensor(y, device="cuda")  # no copy: same address
    assert as_torch.data_ptr() == y.data_ptr
    want = torch_reference(model, x.cpu().numpy())
    assert rel_l2(y.numpy(), want) < 1e-5
    # With the producer's stream named in the interface (v3), kiln orders by events instead.
    (y2,) = ctx.run(InterfaceOnly(x, stream=torch.cuda.current_stream().cuda_stream or 1)).values()
    torch.cuda.synchronize()
    np.testing.assert_array_equal(y2.numpy(), y.numpy())


def test_fp16_engine_takes_and_gives_float32(autoencoder):
    model, folder, _, _ = autoencoder
    ctx = kiln.load(folder, device="gpu", precision="fp16", max_batch=2).context()
    x = torch.randn(2, 3, 32, 32, device="cuda")
    (y,) = ctx.run(x).values()
    assert y.dtype == torch.float32
    assert rel_l2(y.cpu().numpy(), torch_reference(model, x.cpu().numpy())) < 1e-2


def test_fp32_layers_keep_chosen_layers_in_float32(autoencoder):
    model, folder, _, _ = autoencoder
    x = torch.randn(2, 3, 32, 32, device="cuda")
    want = torch_reference(model, x.cpu().numpy())
    stem = kiln.load(folder, device="gpu", precision="fp16", max_batch=2, fp32_layers="2")
    assert "2 of" in stem.description and "layers fp32)" in stem.description
    (y,) = stem.context().run(x).values()
    assert rel_l2(y.cpu().numpy(), want) < 1e-2
    # Every layer in float32: as exact as an fp32 engine.
    every = kiln.load(folder, device="gpu", precision="fp16", max_batch=2, fp32_layers="*")
    (z,) = every.context().run(x).values()
    assert rel_l2(z.cpu().numpy(), want) < 1e-5
    with pytest.raises(kiln.UsageError, match="item 'nope'"):
        kiln.load(folder, device="gpu", precision="fp16", fp32_layers="nope")
    with pytest.raises(kiln.UsageError, match="fp16"):
        kiln.load(folder, device="gpu", precision="fp32", fp32_layers="2")


def test_device_usage_errors(autoencoder):
    _, folder, _, _ = autoencoder
    ctx = kiln.load(folder, device="gpu", max_batch=2).context()
    x = torch.randn(2, 3, 32, 32, device="cuda")
    with pytest.raises(kiln.UsageError, match="float32"):
        ctx.run(x.half())
    with pytest.raises(kiln.UsageError, match="not C-contiguous"):
        ctx.run(x.permute(0, 1, 3, 2))
    with pytest.raises(kiln.UsageError, match=r"shape \[2,3,16,16\]|shape \[2, 3, 16, 16\]"):
        ctx.run(torch.randn(2, 3, 16, 16, device="cuda"))
    with pytest.raises(kiln.UsageError, match="batch 3"):
        ctx.run(torch.randn(3, 3, 32, 32, device="cuda"))
    pinned = torch.randn(2, 3, 32, 32).pin_memory()

    class HostPointer:
        __cuda_array_interface__ = dict(x.__cuda_array_interface__, data=(pinned.data_ptr(), False), stream=None)

    with pytest.raises(kiln.UsageError, match="host memory"):
        ctx.run(HostPointer())
    cpu_ctx = kiln.load(folder, device="cpu").context()
    with pytest.raises(kiln.UsageError, match="device tensors need an engine loaded on the GPU"):
        cpu_ctx.run(x[:1])


def test_layers_report_gpu_implementations(autoencoder):
    _, folder, _, _ = autoencoder
    info = kiln.load(folder, device="gpu").inspect()
    assert "gpu" in info["device"] and info["weight_bytes"] > 0 and info["workspace_bytes"] >= 0
    conv = next(l for l in info["layers"] if l["op"] == "conv2d")
    assert "cudnn" in conv["implementation"] and conv["workspace_bytes"] >= 0


def test_replicas_match_a_single_load_bit_for_bit(autoencoder):
    """load_replicas on GPU 0 twice (and on GPU 1 where there is one): every replica gives the single
    engine's numbers exactly, contexts run from threads at once, and the caller's device is kept."""
    import threading
    _, folder, inputs, _ = autoencoder
    single = kiln.load(folder, device="gpu:0", precision="fp16")
    expected = single.context().run(inputs)
    devices = [0, 0] + ([1] if torch.cuda.device_count() > 1 else [])
    before = torch.cuda.current_device()
    engines = kiln.load_replicas(folder, devices, precision="fp16")
    assert [e.gpu for e in engines] == devices and torch.cuda.current_device() == before
    assert all(e.precision == "fp16" and ("gpu %d" % d) in e.description for e, d in zip(engines, devices))
    results = [None] * len(engines)

    def run(k):
        results[k] = engines[k].context().run(inputs)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        for k in expected:
            np.testing.assert_array_equal(got[k], expected[k])


def test_device_arrays_land_on_the_engines_gpu(autoencoder):
    if torch.cuda.device_count() < 2:
        pytest.skip("needs 2 GPUs, %d visible" % torch.cuda.device_count())
    model, folder, _, _ = autoencoder
    engine = kiln.load(folder, device="gpu:1")
    x = torch.randn(1, 3, 32, 32, device="cuda:1")
    (y,) = engine.context().run(InterfaceOnly(x)).values()
    assert rel_l2(y.numpy(), torch_reference(model, x.cpu().numpy())) < 1e-5
    with pytest.raises(kiln.UsageError, match="GPU 0; the engine runs on GPU 1"):
        engine.context().run(torch.randn(1, 3, 32, 32, device="cuda:0"))
