"""kiln: run models exported by kiln-export on the GPU (cuDNN, cuBLASLt) or the CPU reference path.

    import kiln
    engine = kiln.load("resnet50", device="auto", precision="fp16", max_batch=32)
    ctx = engine.context()                        # one per thread; the engine is shared
    out = ctx.run({"input": batch})               # numpy float32 NCHW in -> {"name": numpy array}
    out = ctx.run(torch_cuda_tensor)              # a CUDA tensor in -> CUDA tensors out, no copy

Host arrays: any real dtype, converted to float32 C-contiguous; the batch is the first dimension (any
batch from 1 to engine.max_batch; for a model exported with --dynamic-hw, any height x width in
engine.hw_ranges, changing freely from run to run). Device arrays: float32, C-contiguous, on the engine's GPU, given
through __cuda_array_interface__ (PyTorch, CuPy, Numba). PyTorch inputs give torch tensors out, ordered
on torch's current stream (no host synchronization); other device inputs give kiln.DeviceArray outputs
after the run has finished (or pass `out=`). The GIL is released while a model runs, so other Python
threads progress meanwhile.

Errors are kiln.Error subclasses carrying kiln's message (which file, line, layer and field):
FormatError (files), ModelError (the network), UsageError (arguments, shapes), and LibraryError with
CudaError / CudnnError / CublasError (library failures).
"""
import os
import sys
import threading


def _load_extension():
    """Imports kiln._kiln with its CUDA libraries shared process-wide (Note [CUDA libraries in one
    process], _libraries.py): RTLD_GLOBAL, because cuDNN looks up symbols at cudnnCreate that it cannot
    find in a privately loaded extension (a null call inside cudnn::graph::LibraryConfig::init, seen on
    the H200 host); kiln's own symbols are hidden, so only the CUDA libraries become visible."""
    from . import _build_info, _libraries
    cuda, cudnn = _build_info.CUDA_MAJOR, _build_info.CUDNN_MAJOR
    wanted = []
    if cuda and cudnn:  # a build with the GPU backend
        wanted = [("libcudart.so.%s" % cuda, ("nvidia-cuda-runtime",), _build_info.CUDA_VERSION),
                  ("libcublasLt.so.%s" % cuda, ("nvidia-cublas",), _build_info.CUDA_VERSION),
                  ("libcublas.so.%s" % cuda, ("nvidia-cublas",), _build_info.CUDA_VERSION),
                  ("libcudnn.so.%s" % cudnn, ("nvidia-cudnn",), _build_info.CUDNN_VERSION)]
    report = _libraries.bind_before_extension(wanted)
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_GLOBAL)
    try:
        from . import _kiln as extension
    finally:
        sys.setdlopenflags(flags)
    return extension, report


_, _LIBRARY_REPORT = _load_extension()

from ._kiln import (  # noqa: E402,F401  (re-exported)
    CublasError,
    CudaError,
    CudnnError,
    DeviceArray,
    Error,
    FormatError,
    LibraryError,
    ModelError,
    UsageError,
    __version__,
    built_with_cuda,
    built_with_cudnn,
)
from . import _kiln  # noqa: E402

__all__ = ["load", "load_replicas", "Engine", "Context", "DeviceArray", "gpu_available", "library_report", "Error", "FormatError", "ModelError",
           "UsageError", "LibraryError", "CudaError", "CudnnError", "CublasError", "__version__"]


def library_report():
    """How kiln's CUDA libraries were bound at import: [(soname, path opened first or None, why)]
    (python/kiln/_libraries.py; a None path means the extension found the library the usual way)."""
    return list(_LIBRARY_REPORT)


def gpu_available():
    """(True, "") when this build has a GPU backend and a CUDA device is visible, else (False, why)."""
    return _kiln.gpu_available()


def _parse_device(device):
    """("cpu"|"gpu"|"auto", gpu index) from "cpu", "gpu", "auto", "gpu:N" or "cuda:N"."""
    text = str(device)
    for prefix in ("gpu:", "cuda:"):
        if text.startswith(prefix):
            index = text[len(prefix):]
            if not index.isdigit():
                raise UsageError("device: expected 'gpu:N' with N a GPU index (0, 1, ...), got '%s'" % text)
            return "gpu", int(index)
    return ("gpu" if text == "cuda" else text), 0


def load(path, device="auto", precision="fp32", max_batch=0, algo="heuristic", workspace_mb=256, plan_cache="",
         fp32_layers=""):
    """Loads an export folder (or its model.yaml) once: weights to the device, algorithms chosen.

    device: "gpu" (GPU 0), "gpu:N" or "cuda:N" (GPU N), "cpu" (the reference path, fp32 only) or "auto"
    (GPU 0 when one is usable). Every call on the engine and its contexts makes its GPU current and
    gives the caller's current device back.
    precision: "fp32" | "tf32" | "fp16" (GPU). max_batch: the largest batch contexts will run
    (0: the batch written in model.yaml). algo: "heuristic" (fast load) or "find" (times candidates).
    workspace_mb: the per-layer workspace cap in MiB. plan_cache: the GPU plan cache's directory
    ("": $KILN_PLAN_CACHE, else ~/.cache/kiln/plans; "off": memory only), where chosen cuDNN engines
    and compiled plans are kept for later loads.
    fp32_layers (fp16 only): layers kept in float32, for a network whose stem amplifies half rounding:
    "6" (the first six layers), "..features.3" (every layer up to that one), "features.0*" (a prefix)
    or layer names, comma-separated; their inputs are converted where the precision changes.
    """
    kind, gpu = _parse_device(device)
    return Engine(_kiln.load(str(path), kind, precision, algo, int(max_batch), int(workspace_mb), str(plan_cache), gpu,
                             str(fp32_layers)))


def load_replicas(path, devices, precision="fp32", max_batch=0, algo="heuristic", workspace_mb=256, plan_cache="",
                  fp32_layers=""):
    """Loads one engine per GPU index in `devices` (e.g. [0, 1]; an index may repeat), in that order: the
    files are read and checked once, the weights staged once in pinned memory and copied to every GPU,
    and each engine chooses its own plans on its GPU. The other arguments are load()'s. Make contexts
    from each engine and feed them from threads (the GIL is released while a model runs):

        engines = kiln.load_replicas("resnet50", [0, 1], precision="fp16", max_batch=32)
        contexts = [e.context() for e in engines]      # contexts[k] runs on engines[k].gpu
    """
    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__"):
        raise UsageError("load_replicas: devices must be a list of GPU indices such as [0, 1], got %r" % (devices,))
    indices = []
    for d in devices:
        if isinstance(d, bool) or not isinstance(d, int):
            raise UsageError("load_replicas: devices: %r is not a GPU index (0, 1, ...)" % (d,))
        indices.append(d)
    handles = _kiln.load_replicas(str(path), indices, precision, algo, int(max_batch), int(workspace_mb),
                                  str(plan_cache), str(fp32_layers))
    return [Engine(h) for h in handles]


class Engine:
    """A loaded model: immutable, shareable between threads. Make one Context per thread."""

    def __init__(self, handle):
        self._handle = handle
        # The engine is immutable: read its inputs and outputs once, not at every run.
        self._inputs = handle.inputs
        self._outputs = handle.outputs
        self._input_names = [t["name"] for t in self._inputs]

    device = property(lambda self: self._handle.device, doc='"gpu" or "cpu"')
    gpu = property(lambda self: self._handle.gpu, doc="the CUDA device index of a GPU engine, -1 on the CPU")
    description = property(lambda self: self._handle.description, doc="device, library versions, precision")
    precision = property(lambda self: self._handle.precision)
    max_batch = property(lambda self: self._handle.max_batch)
    inputs = property(lambda self: [dict(t) for t in self._inputs],
                      doc="[{'name', 'shape'}] at max batch (a dynamic input at its largest height x width)")
    dynamic = property(lambda self: self._handle.dynamic,
                       doc="True when some input takes any height x width in a range (export --dynamic-hw)")
    hw_ranges = property(lambda self: self._handle.hw_ranges,
                         doc="{input name: ((min_h, min_w), (max_h, max_w))} of the dynamic inputs")
    outputs = property(lambda self: [dict(t) for t in self._outputs], doc="[{'name', 'shape'}] at max batch")

    def context(self):
        """A new execution context (its own activation memory, workspace and stream on the GPU)."""
        return Context(self)

    def layers(self):
        """Every layer in execution order (inspect()["layers"]): index, name, op, inputs, output,
        output_shape, attributes (as in model.yaml), weights ([{role, name, shape, dtype, parameters}]),
        parameters, flops (at max batch), and on the GPU implementation and workspace_bytes."""
        return self.inspect()["layers"]

    def inspect(self):
        """What `kiln inspect --json` shows, as a dict: model, name, device (the description), batch (the
        maximum), inputs, outputs, parameters, weights_file, weight_bytes, layers, plus precision,
        activation_bytes and on the GPU workspace_bytes."""
        return self._handle.inspect()

    def __repr__(self):
        return "kiln.Engine(%s, max_batch=%d, %s)" % (
            ", ".join("%s%s" % (t["name"], list(t["shape"])) for t in self.inputs), self.max_batch, self.description)


def _is_device_array(x):
    return hasattr(x, "__cuda_array_interface__")


def _is_torch_tensor(x):
    return type(x).__module__.startswith("torch") and hasattr(x, "is_cuda")


class Context:
    """Per-thread state of an Engine. Calls on one context are serialized; use one per thread to run
    concurrently."""

    def __init__(self, engine):
        self.engine = engine
        self._ctx = _kiln.Context(engine._handle)
        self._lock = threading.Lock()

    def prepare(self, batch):
        """Builds the GPU plans for `batch` now instead of at its first run."""
        with self._lock:
            self._ctx.prepare(int(batch))

    def prepared_batches(self):
        return list(self._ctx.prepared_batches())

    def output_shapes(self, input_shapes):
        """The output shapes of a run of inputs of `input_shapes` (a list, batch first): a dynamic model's
        outputs follow its inputs' height x width."""
        with self._lock:
            return [list(s) for s in self._ctx.output_shapes([list(map(int, s)) for s in input_shapes])]

    def run(self, inputs, out=None):
        """Runs the model. `inputs`: a dict {input name: array}, a list in the model's input order, or
        one array for a one-input model. Returns {output name: array} in the model's output order.

        Host arrays (numpy or anything numpy converts) give numpy outputs. Device arrays give device
        outputs (see the module documentation); `out` may name preallocated device outputs
        ({output name: array}, float32, C-contiguous, the output shape at the batch)."""
        named = self._named_inputs(inputs)
        device = [_is_device_array(a) for _, a in named]
        if not any(device):
            if out is not None:
                raise UsageError("Context.run: out= is for device arrays; host runs return new numpy arrays")
            with self._lock:
                return dict(self._ctx.run_host([(n, _as_numpy(a)) for n, a in named]))
        if not all(device):
            host = [n for (n, _), d in zip(named, device) if not d]
            raise UsageError("Context.run: inputs %s are host arrays while others are on the GPU; pass all of them "
                             "on one side" % ", ".join("'%s'" % n for n in host))
        return self._run_device(named, out)

    def _named_inputs(self, inputs):
        names = self.engine._input_names
        if isinstance(inputs, dict):
            unknown = [k for k in inputs if k not in names]
            if unknown:
                raise UsageError("Context.run: %s %s not a model input (the model takes %s)" % (
                    ", ".join("'%s'" % k for k in unknown), "is" if len(unknown) == 1 else "are",
                    ", ".join("'%s'" % n for n in names)))
            missing = [n for n in names if n not in inputs]
            if missing:
                raise UsageError("Context.run: missing input %s" % ", ".join("'%s'" % n for n in missing))
            return [(n, inputs[n]) for n in names]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != len(names):
                raise UsageError("Context.run: the model takes %d input(s) (%s), got %d" % (
                    len(names), ", ".join(names), len(inputs)))
            return list(zip(names, inputs))
        if len(names) != 1:
            raise UsageError("Context.run: the model takes %d inputs (%s); pass a dict" % (len(names), ", ".join(names)))
        return [(names[0], inputs)]

    def _run_device(self, named, out):
        given = [_device_tensor(n, a) for n, a in named]  # (address, shape) of each input
        if self.engine.dynamic:
            with self._lock:  # the outputs' height x width follow the inputs'
                shapes = self._ctx.output_shapes([s for _, s in given])
            out_specs = [(t["name"], list(s)) for t, s in zip(self.engine._outputs, shapes)]
        else:
            batch = given[0][1][0] if given[0][1] else 0
            out_specs = [(t["name"], [batch] + list(t["shape"][1:])) for t in self.engine._outputs]
        torch_inputs = _is_torch_tensor(named[0][1])
        stream = None
        if out is not None:
            missing = [n for n, _ in out_specs if n not in out]
            if missing:
                raise UsageError("Context.run: out= lacks %s" % ", ".join("'%s'" % n for n in missing))
            outputs = [(n, out[n]) for n, _ in out_specs]
        elif torch_inputs:
            import torch
            dev = named[0][1].device
            outputs = [(n, torch.empty(s, dtype=torch.float32, device=dev)) for n, s in out_specs]
        else:
            outputs = [(n, DeviceArray(s, self.engine.gpu)) for n, s in out_specs]
        if torch_inputs:
            import torch
            stream = torch.cuda.current_stream(named[0][1].device).cuda_stream
        else:
            stream = _interface_stream(named[0][1])
        with self._lock:
            self._ctx.run_device(given, [_device_tensor(n, a) for n, a in outputs], stream)
        return dict(outputs)


def _as_numpy(a):
    import numpy as np
    return a if isinstance(a, np.ndarray) else np.asarray(a)


def _device_tensor(name, a):
    """(address, shape) of a float32 C-contiguous device array, from its __cuda_array_interface__."""
    cai = a.__cuda_array_interface__
    if cai.get("typestr") != "<f4":
        raise UsageError("Context.run: '%s' is a device array of type %s; kiln takes float32 ('<f4'): convert it "
                         "first (tensor.float())" % (name, cai.get("typestr")))
    shape = [int(d) for d in cai["shape"]]
    strides = cai.get("strides")
    if strides is not None:
        expected, step = [], 4
        for d in reversed(shape):
            expected.insert(0, step)
            step *= max(d, 1)
        if any(int(s) != e for s, e, d in zip(strides, expected, shape) if d > 1):
            raise UsageError("Context.run: '%s' is not C-contiguous (strides %s); make it contiguous first "
                             "(tensor.contiguous())" % (name, list(strides)))
    return int(cai["data"][0]), shape


def _interface_stream(a):
    # __cuda_array_interface__ v3: the producer's stream (1: legacy default, 2: per-thread default);
    # absent or None: no ordering promised, so kiln synchronizes instead.
    s = a.__cuda_array_interface__.get("stream")
    return None if s is None else int(s)
