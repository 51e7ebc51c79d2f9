// Timing support of the GPU engine for `kiln bench` and `kiln profile`:
//  - CapturedRun: one ExecutionContext::run_device captured into an executable CUDA graph, replayed
//    with one launch (ExecutionContext::capture_device makes it);
//  - ProfiledRun: per-layer GPU times of one run, from CUDA events recorded between layers
//    (ExecutionContext::run_device_profiled makes it). Contexts create those events only when a
//    profiled run is asked for: ordinary runs record nothing.
#pragma once

#include "base/api.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace kiln::gpu {

class KILN_API CapturedRun {
 public:
  CapturedRun();  // empty: replay() throws
  ~CapturedRun();
  CapturedRun(CapturedRun&&) noexcept;
  CapturedRun& operator=(CapturedRun&&) noexcept;
  CapturedRun(const CapturedRun&) = delete;
  CapturedRun& operator=(const CapturedRun&) = delete;

  // Captures everything `enqueue` puts on `stream` (thread-local capture mode: a call in `enqueue` that
  // may allocate or synchronize, such as cudaMalloc, fails the capture) and instantiates it. `stream`
  // must not be the legacy default stream and must outlive this object. Throws CudaError naming the
  // failing call (and the layer, when inside one) when something cannot be captured; the stream is
  // left out of capture mode.
  static CapturedRun capture(cudaStream_t stream, const std::function<void()>& enqueue);

  // Enqueues one replay on the capture stream, with the capture's device current for the call (the
  // caller's again after it); does not synchronize. Throws UsageError when empty.
  void replay() const;
  // Keeps `owner` alive as long as this capture (the prepared plans its kernels were recorded from,
  // which the context could otherwise drop). Throws UsageError when empty.
  void keep_alive(std::shared_ptr<const void> owner);
  // Nodes in the captured graph (kernels, copies, memsets): a measure of the launches it saves.
  std::size_t node_count() const;
  explicit operator bool() const { return s_ != nullptr; }

 private:
  void release() noexcept;  // destroys the graph with its device current
  struct State;
  std::unique_ptr<State> s_;
};

// GPU milliseconds of one `enqueue` (the autotuner's clock, AlgoMode::Find): `enqueue` runs once to warm up
// (lazy module loading, first-use initialisation), then `runs` calls are captured into one CUDA graph so
// that launch overhead is not what is measured; the graph is replayed once more to warm up and then
// `replays` times, and the fastest replay divided by `runs` is returned. Where the calls cannot be captured
// they are timed as `runs` back-to-back calls on `stream` instead (fastest of `replays` such batches).
// Synchronizes `stream` (not the legacy default stream). Throws what `enqueue` throws when it fails
// outside capture, CudaError when timing fails.
KILN_API double time_per_run(cudaStream_t stream, const std::function<void()>& enqueue, int runs = 20,
                             int replays = 3);

struct ProfiledRun {
  // Per graph layer, in execution order: GPU milliseconds between the events recorded before and
  // after its work. Layers with no work of their own (views, activations folded into their
  // convolution) read 0 and have ran[i] == false.
  std::vector<double> layer_ms;
  std::vector<bool> ran;
  double input_copy_ms = 0;   // inputs copied into the arena
  double output_copy_ms = 0;  // outputs copied out of the arena
  double total_ms = 0;        // first event to last: everything above plus the gaps between them
};

}  // namespace kiln::gpu
