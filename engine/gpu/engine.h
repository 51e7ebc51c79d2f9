// kiln's GPU backend: cuDNN 9 (graph API for convolutions), cuBLASLt and small CUDA kernels.
//
//   auto engine = kiln::gpu::GpuEngine::load("models/unet", {}, {/*max_batch=*/8});
//   kiln::gpu::ExecutionContext ctx(engine);                  // owns arena, workspace, stream
//   kiln::RunResult r = ctx.run(inputs, /*batch=*/3);         // host in -> host out, synchronous
//
// GpuEngine is immutable after load and shareable across threads (std::shared_ptr<const GpuEngine>):
// the graph, the weights on the device (one allocation, one copy), the memory plan, and each layer's
// chosen algorithm. It holds no per-inference state.
//
// ExecutionContext holds everything an inference writes: the activation arena (one allocation, laid
// out by the engine's memory plan), the shared workspace (one allocation, the largest any layer
// needs), a stream (its own, or the caller's), cuDNN/cuBLASLt handles bound to that stream, and pinned
// staging buffers. One context serves one thread at a time; several contexts may run concurrently on
// different streams and give bit-identical results (nondeterministic engines are never chosen).
//
// Batch sizes: a context runs any batch 1..max_batch without reloading. cuDNN plans are per shape, so
// a context builds each layer's plans for a batch the first time it runs that batch and caches them
// (call prepare(batch) to do it ahead). Every batch re-applies the engine config chosen at load for
// max batch and re-selects only if cuDNN refuses it for the smaller shape. A smaller batch uses a
// prefix of every arena block, so the arena never grows.
//
// Precision::Fp16 stores activations as half, rank-4 ones NHWC with channels padded to multiples of 8
// (Note [fp16 layout] in engine/gpu/layout.h). The caller's side does not change: run, run_device and
// capture_device take and give float32 in the model's logical (NCHW) order, converted by small kernels
// at the boundary; kept layer outputs are converted on the host.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/timing.h"
#include "engine/graph.h"
#include "engine/host_tensor.h"

namespace kiln::gpu {

class GpuOp;
class DeviceWeights;

// How one layer runs on the GPU, for `kiln inspect --device gpu`.
struct LayerReport {
  std::string name;
  std::string op;
  // "cudnn graph eng0_k3=1 (conv+bias+relu fused)", "cudnn legacy pooling", "cuda kernel",
  // "cublasLt (bias epilogue)", "view", "fused into enc.0".
  std::string implementation;
  std::uint64_t workspace_bytes = 0;  // at max batch
};

// Where GpuEngine::load spent its time: host wall milliseconds, each phase finished (synchronized)
// before the next starts. For `kiln bench`'s start-up split.
struct LoadTimings {
  double parse_ms = 0;   // model.yaml + manifest read and checked, graph built (0 when loaded from a Graph)
  double device_ms = 0;  // device selection and properties (CUDA context creation, if this is the first call)
  double upload_ms = 0;  // the weight blob read into pinned memory (size, CRC-32 checked) and copied over
  double select_ms = 0;  // fusion, memory plan, every layer's algorithm choice (cuDNN heuristics or timing)
};

class GpuEngine {
 public:
  // Loads `model` (folder or model.yaml): the graph and manifest through kiln::load_graph, then the
  // blob straight into pinned memory and onto the device. Throws FormatError / ModelError for bad
  // files, CudaError / CudnnError / CublasError (naming the layer) for library failures, UsageError
  // for bad options.
  static std::shared_ptr<const GpuEngine> load(const std::string& model, const GpuEngineOptions& options = {},
                                               const GraphBuildOptions& graph_options = {});
  // Same, from a built graph (the engine takes it over; its manifest's blob is read from disk).
  static std::shared_ptr<const GpuEngine> load(Graph graph, const GpuEngineOptions& options = {});

  ~GpuEngine();
  GpuEngine(const GpuEngine&) = delete;
  GpuEngine& operator=(const GpuEngine&) = delete;

  const Graph& graph() const { return graph_; }
  const GpuEngineOptions& options() const { return options_; }
  std::int64_t max_batch() const { return graph_.max_batch(); }
  // The arena layout every context allocates (fusion makes an activation's output a view of its
  // convolution's; with keep_all_layer_outputs nothing is reused).
  const MemoryPlan& memory_plan() const { return plan_; }
  std::uint64_t workspace_bytes() const { return workspace_bytes_; }
  std::uint64_t weight_bytes() const;
  const std::vector<LayerReport>& layer_reports() const { return reports_; }
  // "gpu 0: NVIDIA H100 80GB HBM3, cuDNN 9.14.0, fp32, heuristic"
  const std::string& device_description() const { return description_; }
  const LoadTimings& load_timings() const { return timings_; }

  // Internal to kiln_gpu (used by ExecutionContext).
  const GpuOp* op(int layer) const { return ops_[static_cast<std::size_t>(layer)].get(); }

 private:
  GpuEngine(Graph graph, const GpuEngineOptions& options);
  void decide_fusion();
  void build_ops();

  Graph graph_;
  GpuEngineOptions options_;
  std::vector<int> fused_into_;                // per layer: the convolution an activation was folded into, or -1
  MemoryPlan plan_;
  std::unique_ptr<DeviceWeights> weights_;
  std::vector<std::unique_ptr<GpuOp>> ops_;    // per layer
  std::uint64_t workspace_bytes_ = 0;
  std::vector<LayerReport> reports_;
  std::string description_;
  LoadTimings timings_;
};

class ExecutionContext {
 public:
  // `stream`: run on the caller's stream (which must outlive the context), or on an own non-blocking
  // stream when null. Allocates the arena, workspace and pinned staging buffers now.
  explicit ExecutionContext(std::shared_ptr<const GpuEngine> engine, cudaStream_t stream = nullptr);
  ~ExecutionContext();
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;
  ExecutionContext(ExecutionContext&&) noexcept;
  ExecutionContext& operator=(ExecutionContext&&) noexcept;

  // Host tensors in -> host tensors out. `inputs` in the model's input order (names, if given, must
  // match), each with the input shape at `batch`. Copies go through pinned memory asynchronously on
  // the context's stream; returns after the outputs are on the host. With options.keep_layer_outputs
  // (engine loaded with keep_all_layer_outputs) RunResult::layers holds every layer's output.
  // Throws UsageError for a bad batch, input count, name or size (naming the input).
  RunResult run(const std::vector<HostTensor>& inputs, std::int64_t batch, const RunOptions& options = {});

  // Device pointers in -> device pointers out, enqueued on stream() and NOT synchronized. Inputs are
  // copied into the arena first (device-to-device), so they may alias nothing the network writes;
  // outputs receive the model's outputs at `batch`. Pointers must hold the shapes at `batch`.
  void run_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs, std::int64_t batch);

  // Builds the plans for `batch` now instead of at its first run.
  void prepare(std::int64_t batch);

  // Captures run_device(inputs, outputs, batch) into a CUDA graph. Prepares `batch` and runs it once
  // uncaptured first (so plan building, lazy kernel loading and library first-use work stay out of the
  // capture), synchronizes, then captures. Each CapturedRun::replay() repeats the same copies and
  // kernels on the same pointers: the caller keeps them alive and writes new inputs in place. The
  // context must outlive the CapturedRun, and one context must not run two captured or uncaptured
  // runs at the same time (they share the arena). Throws CudaError (naming the layer) when a layer
  // does something that cannot be captured.
  CapturedRun capture_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                             std::int64_t batch);

  // run_device with a CUDA event recorded before the input copies, after them, after each layer and
  // after the output copies; synchronizes and returns the times (engine/gpu/timing.h). The events add
  // a little time between layers, so time whole runs with plain run_device. The events are created at
  // the first call and kept; run_device and run never record them.
  ProfiledRun run_device_profiled(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                                  std::int64_t batch);
  // Waits for the stream.
  void synchronize();

  cudaStream_t stream() const;
  const GpuEngine& engine() const;
  // Device pointer of graph tensor `index` in this context's arena (valid for the context's life;
  // its contents are those of the last run, for tensors still alive at its end). Fp16: the data is half
  // in the stored layout (Note [fp16 layout]), despite the pointer type.
  const float* device_tensor(int index) const;
  // Batches this context has built plans for.
  std::vector<std::int64_t> prepared_batches() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace kiln::gpu
