// What the Python package `kiln` wraps (python/kiln/__init__.py): one engine/context pair over either
// backend, the CPU reference executor or the GPU engine, so the bindings hold no backend branches.
// Plain C++ (no pybind11, no Python): the binding layer converts arrays and releases the GIL around
// Context::run and Context::run_device.
//
// Thread-safety follows the C++ API: an Engine is immutable and shared by every Context made from it;
// a Context serves one thread at a time (the Python wrapper serializes its calls with a lock).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/host_tensor.h"

namespace kiln {
class CpuExecutor;
struct LoadedModel;
namespace gpu {
class GpuEngine;
class ExecutionContext;
}  // namespace gpu
}  // namespace kiln

namespace kiln::python {

struct LoadOptions {
  std::string device = "auto";  // "cpu" | "gpu" | "auto" (the GPU when one is usable)
  std::string precision = "fp32";
  std::string algo = "heuristic";
  std::int64_t max_batch = 0;  // 0: the batch written in model.yaml
  std::int64_t workspace_mb = 256;
  std::string plan_cache;  // "" = the default directory, "off" = memory only
  int gpu = 0;             // the CUDA device a GPU engine goes on (load_replicas takes a list instead)
  std::string fp32_layers;  // fp16: the layers kept in float32 (GpuEngineOptions::fp32_layers)
};

class Engine {
 public:
  // Loads `path` (an export folder or its model.yaml). Throws kiln's typed errors: FormatError and
  // ModelError for the files, UsageError for options (a "gpu" device without one says to use "cpu"),
  // LibraryError kinds for CUDA/cuDNN/cuBLAS failures.
  static std::shared_ptr<const Engine> load(const std::string& path, const LoadOptions& options);
  // Load once, place many (gpu::GpuEngine::load_replicas): one GPU engine per entry of `gpus` (options.gpu
  // and options.device ignored), the files read and checked once, the weights staged once and copied to
  // each device. Throws as load() does, UsageError for an empty list, a negative index or no usable GPU,
  // and the device's error naming it for an index that does not exist.
  static std::vector<std::shared_ptr<const Engine>> load_replicas(const std::string& path, const std::vector<int>& gpus,
                                                                  const LoadOptions& options);
  ~Engine();

  const Graph& graph() const;
  bool on_gpu() const { return gpu_ != nullptr; }
  // The CUDA device of a GPU engine, -1 on the CPU path.
  int gpu_index() const;
  const std::string& precision() const { return precision_; }  // "fp32" on the CPU
  std::string description() const;
  // The GPU engine, or null on the CPU path.
  const std::shared_ptr<const gpu::GpuEngine>& gpu_engine() const { return gpu_; }
  const CpuExecutor* cpu_executor() const { return cpu_executor_.get(); }

 private:
  Engine() = default;
  std::shared_ptr<const gpu::GpuEngine> gpu_;
  std::unique_ptr<LoadedModel> cpu_model_;
  std::unique_ptr<CpuExecutor> cpu_executor_;
  std::string precision_ = "fp32";
};

// A device buffer for one run_device argument: its address and the float32 shape it holds.
struct DeviceTensor {
  std::uintptr_t address = 0;
  Shape shape;
};

class Context {
 public:
  explicit Context(std::shared_ptr<const Engine> engine);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Engine& engine() const { return *engine_; }

  // Host tensors (float32, C-contiguous, batch first) in the model's input order; runs synchronously.
  // The batch is the first input's first dimension. Throws UsageError naming the input for a bad
  // shape or batch.
  RunResult run(const std::vector<HostTensor>& inputs);

  // Device buffers (float32, C-contiguous, on the engine's GPU) in input and output order. With
  // `caller_stream`, the run waits for the work already queued on that stream and the stream waits for
  // the run: nothing blocks the host (the CUDA stream semantics of PyTorch and CuPy). Without it, the
  // call returns once the outputs are written. Inputs may have any height × width a dynamic input
  // allows; outputs must then have output_shapes(). Throws UsageError (naming the tensor) for a CPU
  // engine, a shape the model does not take, or memory that is not on the engine's GPU.
  void run_device(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs,
                  std::optional<std::uintptr_t> caller_stream);

  // The output shapes of a run of inputs of `input_shapes` (batch first): a dynamic model's outputs
  // follow its inputs' height × width. Throws UsageError naming an input the model does not take.
  std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes);

  // Builds the GPU plans for `batch` ahead of its first run (nothing to do on the CPU).
  void prepare(std::int64_t batch);
  // The batch sizes whose plans are built (GPU); empty on the CPU.
  std::vector<std::int64_t> prepared_batches() const;

 private:
  std::int64_t checked_batch(const std::vector<Shape>& input_shapes) const;
  void check_device_tensor(const DeviceTensor& t, const std::string& name, const Shape& want) const;

  std::shared_ptr<const Engine> engine_;
  std::unique_ptr<gpu::ExecutionContext> gpu_context_;
  struct Events;
  std::unique_ptr<Events> events_;
};

}  // namespace kiln::python
