// The CPU reference executor: runs a Graph layer by layer with each layer's forward_cpu over one
// planned float32 arena. It is the oracle for the GPU backend and the fallback without a GPU.
//
// Thread-safety: a CpuExecutor is immutable after construction and may be shared; each run() uses
// its own arena.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/api.h"
#include "engine/graph.h"
#include "engine/host_tensor.h"
#include "engine/shape_cache.h"
#include "formats/manifest.h"
#include "layers/layer.h"

namespace kiln {

// Float32 views of a TensorFile's tensors: f32 tensors are used in place, f16 ones converted once.
class KILN_API CpuWeightStore : public CpuWeights {
 public:
  explicit CpuWeightStore(const TensorFile& file);
  const float* get(const TensorEntry& tensor) const override;

 private:
  const TensorFile& file_;
  std::map<std::uint64_t, std::vector<float>> converted_;  // offset -> f32 copy of an f16 tensor
};

class KILN_API CpuExecutor {
 public:
  // `graph` and `weights` must outlive the executor.
  CpuExecutor(const Graph& graph, const TensorFile& weights);

  // `inputs` in the model's input order, each with the graph's input shape at `batch`
  // (1 ≤ batch ≤ graph.max_batch()), or, for an input with a dynamic height × width, any size in its
  // range (the HostTensor's shape says which; the graph for that size is built at its first run and
  // cached, up to kShapeCacheCapacity sizes). Throws UsageError naming the input on a size mismatch,
  // or on a shape mismatch when the HostTensor's shape is set (an empty shape skips that check and
  // means the graph's own). Throws ModelError naming the layer for a size a layer cannot take, and
  // kiln::Error when the activation arena cannot be allocated.
  RunResult run(const std::vector<HostTensor>& inputs, std::int64_t batch, const RunOptions& options = {}) const;

  // The graph a run of inputs of these shapes (at max batch; Graph::run_shapes) uses, built now if
  // it is not cached. Thread-safe.
  std::shared_ptr<const Graph> graph_for(const std::vector<Shape>& input_shapes) const;
  // Input sizes other than the graph's own that have graphs cached now.
  std::size_t cached_shapes() const;

  static constexpr std::size_t kShapeCacheCapacity = 16;

 private:
  RunResult run_on(const Graph& graph, const std::vector<HostTensor>& inputs, std::int64_t batch,
                   const RunOptions& options) const;

  const Graph& graph_;
  CpuWeightStore weights_;
  mutable std::mutex shapes_mutex_;
  mutable ShapeCache<const Graph> shapes_{kShapeCacheCapacity};
};

}  // namespace kiln
