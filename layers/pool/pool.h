// max_pool2d, avg_pool2d and global_avg_pool2d (formats/README.md, "Ops").
//
// One 4-D input; floor mode. max_pool2d / avg_pool2d: kernel_size required, stride defaults to the
// kernel, padding (0) at most kernel/2 (as PyTorch requires, so every window overlaps the input).
// Max pooling treats padding as -inf and propagates NaN; average pooling divides as PyTorch does
// (count_include_pad counts padded positions that lie inside the padded input). global_avg_pool2d
// averages each whole plane into [N, C, 1, 1]; its params() report kernel = the input's H x W.
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"

namespace kiln {

enum class PoolMode { Max, Average, GlobalAverage };

struct PoolParams {
  PoolMode mode = PoolMode::Max;
  Pair kernel{1, 1};  // for GlobalAverage: the input's H, W
  Pair stride{1, 1};
  Pair padding{0, 0};
  bool count_include_pad = true;  // Average only
};

class PoolLayer final : public Layer {
 public:
  PoolLayer(const LayerBuildContext& ctx, Shape output_shape, const PoolParams& params);

  const PoolParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  PoolParams params_;
};

// Factory for the three ops (dispatches on the layer's op).
std::unique_ptr<Layer> make_pool(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind pool_gpu;  // pool_gpu.cpp
}  // namespace gpu

}  // namespace kiln
