"""The PyTorch peers of benchmarks/run_benchmarks.py: eager, eager inside a CUDA graph, torch.compile.

Each is timed the same way (/work/shared/anchors.md section 1): cudnn.benchmark on, inference_mode,
warm-up calls, then one CUDA event pair around each of N calls and the median of their times. Peak memory
is torch.cuda.max_memory_allocated() during the peer's first call and timed calls, minus the weights (so it
counts the input, activations, workspaces and, for graphs, their private pools). Start-up is the host wall
time of the first call (eager: includes cudnn.benchmark's search), of warm-up + capture + first replay
(graph) or of torch.compile + first call (compile), synchronized.
"""
import copy
import gc
import time

import torch


def set_precision(precision):
    """fp32: no TF32 anywhere; tf32: TF32 in matmuls and convolutions; fp16: half weights (TF32 off)."""
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True


def prepare(master, x, precision):
    """A device copy of `master` and `x` in the precision's dtype and layout (fp16: half + channels_last)."""
    model = copy.deepcopy(master).eval().cuda()
    x = x.cuda()
    if precision == "fp16":
        model = model.half().to(memory_format=torch.channels_last)
        x = x.half().contiguous(memory_format=torch.channels_last)
    return model, x


def weight_bytes(model):
    return sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))


def time_calls(fn, warmup, iterations):
    """Median, 10th and 90th percentile (ms) of `iterations` calls of fn, each between two CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    for s, e in zip(starts, ends):
        s.record()
        fn()
        e.record()
    torch.cuda.synchronize()
    times = sorted(s.elapsed_time(e) for s, e in zip(starts, ends))
    return {"ms": _percentile(times, 50), "ms_p10": _percentile(times, 10), "ms_p90": _percentile(times, 90),
            "runs": iterations}


def _percentile(sorted_values, p):
    """Linear interpolation between ranks, as numpy and kiln bench do."""
    rank = p / 100.0 * (len(sorted_values) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def _measure(first_call, timed_call, model, base, warmup, iterations):
    """Runs first_call (timed on the host as start-up) then timed_call under events; adds the peak memory
    above `base` (what was allocated before the model was copied to the device) and the weights."""
    torch.cuda.synchronize()
    weights = weight_bytes(model)
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    first_call()
    torch.cuda.synchronize()
    startup = time.perf_counter() - t0
    result = time_calls(timed_call, warmup, iterations)
    result["startup_s"] = startup
    result["peak_mib"] = (torch.cuda.max_memory_allocated() - base - weights) / 2**20
    result["status"] = "ok"
    return result


def run_eager(master, x, precision, warmup, iterations):
    set_precision(precision)
    base = torch.cuda.memory_allocated()
    model, x = prepare(master, x, precision)
    with torch.inference_mode():
        return _measure(lambda: model(x), lambda: model(x), model, base, warmup, iterations)


def run_graph(master, x, precision, warmup, iterations):
    """The forward captured once in a CUDA graph (after 3 warm-up calls on a side stream), then replayed."""
    set_precision(precision)
    base = torch.cuda.memory_allocated()
    model, x = prepare(master, x, precision)
    graph = torch.cuda.CUDAGraph()

    def capture():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                model(x)
        torch.cuda.current_stream().wait_stream(side)
        with torch.cuda.graph(graph):
            model(x)
        graph.replay()

    with torch.inference_mode():
        return _measure(capture, graph.replay, model, base, warmup, iterations)


def run_compile(master, x, precision, warmup, iterations):
    """torch.compile(mode="max-autotune"); start-up = compile + first call (compile_s records it too)."""
    if not hasattr(torch, "compile"):
        return {"status": "n/a (torch %s has no torch.compile)" % torch.__version__}
    set_precision(precision)
    base = torch.cuda.memory_allocated()
    model, x = prepare(master, x, precision)
    torch._dynamo.reset()  # a fresh compile per cell: no cache hits from other batches or precisions
    compiled = torch.compile(model, mode="max-autotune")
    with torch.inference_mode():
        result = _measure(lambda: compiled(x), lambda: compiled(x), model, base, warmup, iterations)
    result["compile_s"] = result["startup_s"]
    return result


def release():
    """Frees cached blocks between peers so one peer's pool does not count toward the next one's peak."""
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


TORCH_PEERS = {"eager": run_eager, "graph": run_graph, "compile": run_compile}
