// max_pool2d, avg_pool2d and global_avg_pool2d (formats/README.md, "Ops").
//
// One 4-D input; floor mode. max_pool2d / avg_pool2d: kernel_size required, stride defaults to the
// kernel, padding (0) at most kernel/2 (as PyTorch requires, so every window overlaps the input).
// Max pooling treats padding as -inf and propagates NaN; average pooling divides as PyTorch does
// (count_include_pad counts padded positions that lie inside the padded input). global_avg_pool2d
// averages each whole plane into [N, C, 1, 1]; its params() report kernel = the input's H x W.
#pragma once

#include <memory>

#include "layers/layer.h"
#include "layers/params.h"

namespace kiln {

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

}  // namespace kiln
