// upsample_nearest (formats/README.md, "Ops"): one 4-D input; attribute scale, an integer pair >= 1
// (default 2); output [N, C, H*sh, W*sw] with y[h][w] = x[h / sh][w / sw].
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"

namespace kiln {

struct UpsampleParams {
  Pair scale{2, 2};
};

class UpsampleLayer final : public Layer {
 public:
  UpsampleLayer(const LayerBuildContext& ctx, const UpsampleParams& params);

  const UpsampleParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  UpsampleParams params_;
};

std::unique_ptr<Layer> make_upsample(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind upsample_gpu;  // upsample_gpu.cpp
}  // namespace gpu

}  // namespace kiln
