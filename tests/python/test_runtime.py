"""The Python package on the CPU reference path: results against golden outputs and PyTorch, input forms,
every batch, the error types with kiln's messages, inspect, the GIL released during a run, threads."""
import os
import shutil
import threading
import time

import numpy as np
import pytest

import kiln
from conftest import rel_l2, torch_reference


def test_version_and_build_info():
    assert kiln.__version__.count(".") == 2
    assert kiln.built_with_cuda and kiln.built_with_cudnn


def test_run_matches_golden_outputs(autoencoder):
    _, folder, inputs, golden = autoencoder
    engine = kiln.load(folder, device="cpu")
    assert engine.device == "cpu" and "cpu" in engine.description
    out = engine.context().run(inputs)
    assert list(out) == list(golden)
    for name in golden:
        assert out[name].dtype == np.float32 and out[name].shape == golden[name].shape
        assert rel_l2(out[name], golden[name]) < 1e-5
        assert np.isfinite(out[name]).all()


def test_input_forms_give_the_same_result(autoencoder):
    _, folder, inputs, _ = autoencoder
    ctx = kiln.load(folder, device="cpu").context()
    (name, x), = inputs.items()
    by_dict = ctx.run({name: x})
    by_list = ctx.run([x])
    by_array = ctx.run(x)
    from_float64 = ctx.run(x.astype(np.float64))
    from_fortran_order = ctx.run(np.asfortranarray(x))
    for other in (by_list, by_array, from_float64, from_fortran_order):
        for k in by_dict:
            np.testing.assert_array_equal(other[k], by_dict[k])


def test_every_batch_up_to_max_matches_pytorch(autoencoder):
    model, folder, inputs, _ = autoencoder
    engine = kiln.load(folder, device="cpu", max_batch=4)
    assert engine.max_batch == 4 and engine.inputs[0]["shape"][0] == 4
    ctx = engine.context()
    rng = np.random.default_rng(7)
    for batch in (3, 1, 4, 2):  # changing between runs of one context
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        (out,) = ctx.run(x).values()
        assert out.shape[0] == batch
        assert rel_l2(out, torch_reference(model, x)) < 1e-5


def test_outputs_own_their_memory(autoencoder):
    _, folder, inputs, golden = autoencoder
    ctx = kiln.load(folder, device="cpu").context()
    first = ctx.run(inputs)
    kept = {k: v.copy() for k, v in first.items()}
    ctx.run({k: v * 2 for k, v in inputs.items()})  # a second run must not write into the first's arrays
    for k in kept:
        np.testing.assert_array_equal(first[k], kept[k])
        assert first[k].flags.owndata or first[k].base is not None


def test_error_types_form_a_hierarchy():
    for kind in (kiln.FormatError, kiln.ModelError, kiln.UsageError, kiln.LibraryError):
        assert issubclass(kind, kiln.Error)
    for kind in (kiln.CudaError, kiln.CudnnError, kiln.CublasError):
        assert issubclass(kind, kiln.LibraryError)
    assert issubclass(kiln.Error, RuntimeError)


def test_missing_folder_is_a_format_error(tmp_path):
    with pytest.raises(kiln.FormatError, match="nowhere"):
        kiln.load(str(tmp_path / "nowhere"), device="cpu")


def test_truncated_blob_is_a_format_error(autoencoder, tmp_path):
    _, folder, _, _ = autoencoder
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    blob = next(p for p in os.listdir(broken) if p.endswith(".bin"))
    with open(broken / blob, "r+b") as f:
        f.truncate(100)
    with pytest.raises(kiln.FormatError, match=blob):
        kiln.load(str(broken), device="cpu")


def test_unknown_op_is_a_model_error(autoencoder, tmp_path):
    _, folder, _, _ = autoencoder
    broken = tmp_path / "unknown_op"
    shutil.copytree(folder, broken)
    yaml = (broken / "model.yaml").read_text()
    assert "op: conv2d" in yaml
    (broken / "model.yaml").write_text(yaml.replace("op: conv2d", "op: conv9d", 1))
    with pytest.raises(kiln.ModelError, match="conv9d"):
        kiln.load(str(broken), device="cpu")


def test_usage_errors_name_what_is_wrong(autoencoder):
    _, folder, inputs, _ = autoencoder
    engine = kiln.load(folder, device="cpu", max_batch=2)
    ctx = engine.context()
    (name, x), = inputs.items()
    with pytest.raises(kiln.UsageError, match=r"%s.*\[1, ?3, ?16, ?16\]|%s.*1,3,16,16" % (name, name)):
        ctx.run(np.zeros((1, 3, 16, 16), np.float32) + 0.5)
    with pytest.raises(kiln.UsageError, match="batch 3"):
        ctx.run(np.concatenate([x, x, x]))
    with pytest.raises(kiln.UsageError, match="'nope' is not a model input"):
        ctx.run({"nope": x})
    with pytest.raises(kiln.UsageError, match="takes 1 input"):
        ctx.run([x, x])
    with pytest.raises(kiln.UsageError, match="dtype"):
        ctx.run(np.array([["a"]]))
    with pytest.raises(kiln.UsageError, match="device tensors need an engine loaded on the GPU|out= is for device"):
        ctx.run(x, out={})
    with pytest.raises(kiln.UsageError, match="precision='fp16' needs the GPU"):
        kiln.load(folder, device="cpu", precision="fp16")
    with pytest.raises(kiln.UsageError, match="device: expected"):
        kiln.load(folder, device="tpu")
    with pytest.raises(kiln.UsageError, match="fp32_layers='3' keeps layers of an fp16 GPU engine"):
        kiln.load(folder, device="cpu", fp32_layers="3")


def test_gpu_device_without_a_gpu_suggests_cpu(autoencoder):
    ok, why = kiln.gpu_available()
    if ok:
        pytest.skip("a GPU is present: the no-GPU message cannot be produced here")
    assert why
    with pytest.raises(kiln.UsageError, match="device='cpu'"):
        kiln.load(autoencoder[1], device="gpu")


def test_inspect_lists_layers_attributes_and_weights(autoencoder):
    _, folder, _, _ = autoencoder
    engine = kiln.load(folder, device="cpu")
    info = engine.inspect()
    assert info["device"] == engine.description and info["precision"] == "fp32" and info["batch"] == 1
    assert info["activation_bytes"] > 0 and "implementation" not in info["layers"][0]
    layers = info["layers"]
    assert [l["name"] for l in layers] == [l["name"] for l in engine.layers()]
    conv = next(l for l in layers if l["op"] == "conv2d")
    assert "kernel" in conv["attributes"] or "kernel_size" in conv["attributes"]
    roles = {w["role"]: w for w in conv["weights"]}
    assert "weight" in roles and len(roles["weight"]["shape"]) == 4 and roles["weight"]["dtype"] == "f32"
    assert conv["parameters"] == sum(int(np.prod(w["shape"])) for w in conv["weights"])
    assert conv["flops"] > 0 and conv["output_shape"][0] == 1
    # The parameter count is that of the weight file.
    from kiln_export import read_tensors
    blob_total = sum(t.size for t in read_tensors(os.path.join(folder, "weights.manifest")).values())
    assert info["parameters"] == blob_total
    assert layers[-1]["output"] == info["outputs"][0]["name"]
    assert "max_batch=1" in repr(engine)


def test_gil_is_released_while_a_run_is_in_flight(autoencoder, tmp_path):
    """A second thread must progress while the first is inside ctx.run: with the GIL held, the counter
    thread would not run at all for the run's duration."""
    model, _, _, _ = autoencoder
    from kiln_export import export
    import torch
    folder = str(tmp_path / "big")
    export(model, torch.randn(2, 3, 64, 64), folder)
    ctx = kiln.load(folder, device="cpu").context()
    x = np.random.default_rng(3).standard_normal((2, 3, 64, 64)).astype(np.float32)
    ctx.run(x)  # warm caches so the measured run is mostly C++
    stop = threading.Event()
    ticks = [0]

    def count():
        while not stop.is_set():
            ticks[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)
    start_ticks = ticks[0]
    start = time.perf_counter()
    ctx.run(x)
    seconds = time.perf_counter() - start
    during = ticks[0] - start_ticks
    stop.set()
    counter.join()
    assert seconds > 0.05, "the run is too short to tell (%.3f s): make the model bigger" % seconds
    # A Python loop makes ~10^6-10^7 increments per second; holding the GIL would allow ~one switch
    # interval (5 ms) at most.
    assert during > 20000 * seconds, "counter moved %d times in %.3f s" % (during, seconds)


def test_contexts_in_threads_share_one_engine(autoencoder):
    model, folder, _, _ = autoencoder
    engine = kiln.load(folder, device="cpu", max_batch=3)
    rng = np.random.default_rng(11)
    batches = [rng.standard_normal((1 + i % 3, 3, 32, 32)).astype(np.float32) for i in range(8)]
    expected = [engine.context().run(b) for b in batches]
    results = [None] * len(batches)
    errors = []

    def work(k):
        try:
            ctx = engine.context()
            for i in range(k, len(batches), 4):
                results[i] = ctx.run(batches[i])
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got, want in zip(results, expected):
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])  # bit-identical across contexts and threads


def test_one_context_serializes_concurrent_calls(autoencoder):
    _, folder, inputs, golden = autoencoder
    ctx = kiln.load(folder, device="cpu").context()
    outs, errors = [], []

    def work():
        try:
            for _ in range(5):
                outs.append(ctx.run(inputs))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(outs) == 15
    for o in outs:
        for k in golden:
            assert rel_l2(o[k], golden[k]) < 1e-5


def test_a_dynamic_export_runs_every_size_in_one_context_and_names_the_range(dynamic_autoencoder):
    model, folder = dynamic_autoencoder
    engine = kiln.load(folder, device="cpu", max_batch=3)
    assert engine.dynamic and engine.hw_ranges == {"input": ((16, 16), (96, 128))}
    assert engine.inputs[0]["shape"] == [3, 3, 96, 128]  # the largest, which memory is planned for
    ctx = engine.context()
    rng = np.random.default_rng(3)
    for n, h, w in [(1, 16, 16), (3, 96, 128), (2, 48, 32), (1, 16, 16)]:
        x = rng.standard_normal((n, 3, h, w)).astype(np.float32)
        assert ctx.output_shapes([x.shape]) == [[n, 3, h, w]]
        (y,) = ctx.run(x).values()
        assert y.shape == (n, 3, h, w)
        assert rel_l2(y, torch_reference(model, x)) < 1e-5
    with pytest.raises(kiln.UsageError, match=r"16 <= H <= 96 and 16 <= W <= 128"):
        ctx.run(np.zeros((1, 3, 8, 16), np.float32))
    with pytest.raises(kiln.UsageError, match=r"has shape \[1,3,200,16\]"):
        ctx.output_shapes([[1, 3, 200, 16]])


def test_a_fixed_export_is_not_dynamic(autoencoder):
    _, folder, _, _ = autoencoder
    engine = kiln.load(folder, device="cpu")
    assert engine.dynamic is False and engine.hw_ranges == {}


def test_device_strings_and_replica_lists_are_checked(autoencoder):
    folder = autoencoder[1]
    for bad in ("gpu:x", "cuda:", "gpu:-1"):
        with pytest.raises(kiln.UsageError, match="gpu:N"):
            kiln.load(folder, device=bad)
    for bad in ("0,1", 3, [0, "1"], [0, 1.5], [True]):
        with pytest.raises(kiln.UsageError, match="load_replicas: devices"):
            kiln.load_replicas(folder, bad)
    with pytest.raises(kiln.UsageError, match="devices is empty"):
        kiln.load_replicas(folder, [])
    with pytest.raises(kiln.UsageError, match="-2 is not a GPU index"):
        kiln.load_replicas(folder, [0, -2])
    assert kiln.load(folder, device="cpu").gpu == -1


def test_replicas_without_a_gpu_say_so(autoencoder):
    ok, why = kiln.gpu_available()
    if ok:
        pytest.skip("a GPU is present: the no-GPU message cannot be produced here")
    with pytest.raises(kiln.UsageError, match="load_replicas: no usable GPU"):
        kiln.load_replicas(autoencoder[1], [0])
    with pytest.raises(kiln.UsageError, match="device='cpu'"):
        kiln.load(autoencoder[1], device="gpu:0")
