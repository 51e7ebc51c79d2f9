// The CPU reference executor: runs a Graph layer by layer with each layer's forward_cpu over one
// planned float32 arena. It is the oracle for the GPU backend and the fallback without a GPU.
//
// Thread-safety: a CpuExecutor is immutable after construction and may be shared; each run() uses
// its own arena.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/api.h"
#include "engine/graph.h"
#include "engine/host_tensor.h"
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
  // (1 ≤ batch ≤ graph.max_batch()). Throws UsageError naming the input on a size mismatch, or on a
  // shape mismatch when the HostTensor's shape is set (an empty shape skips that check). Throws
  // kiln::Error when the activation arena cannot be allocated.
  RunResult run(const std::vector<HostTensor>& inputs, std::int64_t batch, const RunOptions& options = {}) const;

 private:
  const Graph& graph_;
  CpuWeightStore weights_;
};

}  // namespace kiln
