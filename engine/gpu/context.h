// ExecutionContext: everything one inference writes, for an engine (engine/gpu/engine.h) that may be
// shared by many contexts.
//
//   kiln::gpu::ExecutionContext ctx(engine);                  // owns arena, workspace, stream
//   kiln::RunResult r = ctx.run(inputs, /*batch=*/3);         // host in -> host out, synchronous
//
// A context holds the activation arena (one allocation, laid out by the engine's memory plan), the
// shared workspace (one allocation, the largest any layer needs), a stream (its own, or the caller's),
// cuDNN/cuBLASLt handles bound to that stream, and pinned staging buffers. One context serves one
// thread at a time; several contexts may run concurrently on different streams and give bit-identical
// results (nondeterministic engines are never chosen).
//
// Batch sizes: a context runs any batch 1..max_batch without reloading. cuDNN plans are per shape, so
// a context builds each layer's plans for a batch the first time it runs that batch and caches them
// (call prepare(batch) to do it ahead). Every batch re-applies the engine config chosen at load for
// max batch and re-selects only if cuDNN refuses it for the smaller shape. A smaller batch uses a
// prefix of every arena block, so the arena never grows.
//
// Input sizes: for a model with a dynamic height × width (Note [input sizes] in engine/graph.cpp) the
// engine is built for the range's largest size, and the arena and workspace are sized for it once, so
// a context never grows. run() takes any size in range from its HostTensors' shapes; the pointer
// overloads taking `input_shapes` (full shapes, batch first, one batch for all) do the same. A size is
// built (its graph, each layer's op and algorithm, within the engine's workspace) the first time the
// context sees it and kept, with its plans per batch, for the kContextShapes most recently used sizes
// (a CapturedRun keeps its own alive). The overloads taking a batch run the engine's own shapes.
//
// Devices (Note [device discipline], engine/gpu/device_scope.h): every call makes the engine's device
// current and gives the caller's back on return; a stream handed to the constructor and the pointers
// run_device takes must be the engine's device's (UsageError naming both devices otherwise).
//
// Precision::Fp16: run, run_device and capture_device take and give float32 in the model's logical
// (NCHW) order, converted by the runtime's copy kernel at the boundary; kept layer outputs are
// converted on the host.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "base/api.h"
#include "engine/gpu/engine.h"
#include "engine/gpu/timing.h"
#include "engine/host_tensor.h"

namespace kiln::gpu {

class KILN_API ExecutionContext {
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
  // outputs receive the model's outputs at `batch`. Pointers must hold the shapes at `batch` and be
  // 4-byte aligned (UsageError naming the input or output otherwise, as for a null pointer).
  void run_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs, std::int64_t batch);
  // The same for inputs of `input_shapes` (any size a dynamic input allows); outputs must hold
  // output_shapes(input_shapes). UsageError naming the input for a shape the model does not take.
  void run_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                  const std::vector<Shape>& input_shapes);

  // Builds the plans for `batch` (or for inputs of `input_shapes`) now instead of at its first run.
  void prepare(std::int64_t batch);
  void prepare(const std::vector<Shape>& input_shapes);
  // The output shapes of a run of `input_shapes` (building that size's graph if it is new).
  std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes);

  // Captures run_device(inputs, outputs, batch) into a CUDA graph. Prepares `batch` and runs it once
  // uncaptured first (so plan building, lazy kernel loading and library first-use work stay out of the
  // capture), synchronizes, then captures. Each CapturedRun::replay() repeats the same copies and
  // kernels on the same pointers: the caller keeps them alive and writes new inputs in place. The
  // context must outlive the CapturedRun, and one context must not run two captured or uncaptured
  // runs at the same time (they share the arena). Throws CudaError (naming the layer) when a layer
  // does something that cannot be captured.
  CapturedRun capture_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                             std::int64_t batch);
  CapturedRun capture_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                             const std::vector<Shape>& input_shapes);

  // run_device with a CUDA event recorded before the input copies, after them, after each layer and
  // after the output copies; synchronizes and returns the times (engine/gpu/timing.h). The events add
  // a little time between layers, so time whole runs with plain run_device. The events are created at
  // the first call and kept; run_device and run never record them.
  ProfiledRun run_device_profiled(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                                  std::int64_t batch);
  ProfiledRun run_device_profiled(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                                  const std::vector<Shape>& input_shapes);
  // Waits for the stream.
  void synchronize();

  cudaStream_t stream() const;
  const GpuEngine& engine() const;
  // Device pointer of graph tensor `index` in this context's arena (valid for the context's life;
  // its contents are those of the last run, for tensors still alive at its end), in the precision's
  // stored layout (Note [fp16 layout]).
  const void* device_tensor(int index) const;
  // Batches this context has built plans for, at the engine's own input shapes.
  std::vector<std::int64_t> prepared_batches() const;
  // The input shapes (at max batch) this context holds plans for: the engine's own, if prepared, then
  // the other sizes it keeps.
  std::vector<std::vector<Shape>> prepared_shapes() const;
  // Host milliseconds the newest size took to build (graph, ops, algorithms; not its plans): the
  // one-time cost of a new input size. 0 until one was built.
  double last_shape_build_ms() const;

  static constexpr std::size_t kContextShapes = 16;

 private:
  void release() noexcept;
  struct Resources;
  std::unique_ptr<Resources> r_;
};

}  // namespace kiln::gpu
