#include "engine/gpu/timing.h"

#include "engine/gpu/check.h"
#include "engine/gpu/device_scope.h"
#include "engine/gpu/resource.h"
#include "base/errors.h"

namespace kiln::gpu {

namespace {
using GraphPtr = Unique<cudaGraph_t, &cudaGraphDestroy>;
using GraphExecPtr = Unique<cudaGraphExec_t, &cudaGraphExecDestroy>;
}  // namespace

struct CapturedRun::State {
  GraphPtr graph;
  GraphExecPtr exec;
  cudaStream_t stream = nullptr;
  int device = 0;                    // the stream's (Note [device discipline])
  std::shared_ptr<const void> kept;  // keep_alive()
};

CapturedRun::CapturedRun() = default;
CapturedRun::~CapturedRun() { release(); }
CapturedRun::CapturedRun(CapturedRun&&) noexcept = default;
CapturedRun& CapturedRun::operator=(CapturedRun&& other) noexcept {
  if (this != &other) {
    release();
    s_ = std::move(other.s_);
  }
  return *this;
}

void CapturedRun::release() noexcept {
  if (!s_) return;
  const DeviceScope scope(s_->device, kNoThrow);
  s_.reset();
}

void CapturedRun::keep_alive(std::shared_ptr<const void> owner) {
  if (!s_) throw UsageError("CapturedRun::keep_alive on an empty capture");
  s_->kept = std::move(owner);
}

CapturedRun CapturedRun::capture(cudaStream_t stream, const std::function<void()>& enqueue) {
  int device = 0;
  KILN_CUDA_CHECK(cudaStreamGetDevice(stream, &device));
  KILN_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    enqueue();
  } catch (...) {
    // Leave capture mode whatever happened, so the stream stays usable; the enqueue error is the one
    // worth reporting.
    cudaGraph_t broken = nullptr;
    const cudaError_t end = cudaStreamEndCapture(stream, &broken);
    if (end == cudaSuccess && broken) KILN_CUDA_LOG(cudaGraphDestroy(broken));
    (void)cudaGetLastError();
    throw;
  }
  cudaGraph_t raw = nullptr;
  KILN_CUDA_CHECK(cudaStreamEndCapture(stream, &raw));
  CapturedRun run;
  run.s_ = std::make_unique<State>();
  run.s_->device = device;
  run.s_->graph.reset(raw);
  cudaGraphExec_t exec = nullptr;
  KILN_CUDA_CHECK(cudaGraphInstantiate(&exec, raw, 0));
  run.s_->exec.reset(exec);
  run.s_->stream = stream;
  return run;
}

void CapturedRun::replay() const {
  if (!s_) throw UsageError("CapturedRun::replay: nothing was captured");
  const DeviceScope scope(s_->device);
  KILN_CUDA_CHECK(cudaGraphLaunch(s_->exec.get(), s_->stream));
}

std::size_t CapturedRun::node_count() const {
  if (!s_) return 0;
  std::size_t n = 0;
  KILN_CUDA_CHECK(cudaGraphGetNodes(s_->graph.get(), nullptr, &n));
  return n;
}

namespace {

// The fastest of `replays` event-timed calls of `batch` on `stream`, in milliseconds.
double fastest_batch(cudaStream_t stream, const std::function<void()>& batch, int replays) {
  Event start = make_event();
  Event stop = make_event();
  double best = -1.0;
  for (int r = 0; r < replays; ++r) {
    KILN_CUDA_CHECK(cudaEventRecord(start.get(), stream));
    batch();
    KILN_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
    KILN_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0.0f;
    KILN_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    if (best < 0 || ms < best) best = ms;
  }
  return best;
}

}  // namespace

double time_per_run(cudaStream_t stream, const std::function<void()>& enqueue, int runs, int replays) {
  if (runs < 1 || replays < 1) throw UsageError("time_per_run: runs and replays must be at least 1");
  enqueue();
  KILN_CUDA_CHECK(cudaStreamSynchronize(stream));
  const auto repeated = [&] {
    for (int i = 0; i < runs; ++i) enqueue();
  };
  CapturedRun graph;
  try {
    graph = CapturedRun::capture(stream, repeated);
  } catch (const LibraryError&) {  // a call that cannot be captured (it ran uncaptured above): time it on the stream
    repeated();
    KILN_CUDA_CHECK(cudaStreamSynchronize(stream));
    return fastest_batch(stream, repeated, replays) / runs;
  }
  graph.replay();
  return fastest_batch(stream, [&] { graph.replay(); }, replays) / runs;
}

}  // namespace kiln::gpu
