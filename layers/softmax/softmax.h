// softmax over channels (formats/README.md, "Ops"): one 2-D or 4-D input; attribute axis (1) must be
// 1. Numerically stable (subtracts each position's maximum before exp). Each position's channels are
// read before they are written, so it may run in place.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace kiln {

class SoftmaxLayer final : public Layer {
 public:
  explicit SoftmaxLayer(const LayerBuildContext& ctx);

  std::int64_t channels() const { return output_shape()[1]; }

  void forward_cpu(const CpuForwardArgs& args) const override;
  bool can_run_in_place() const override { return true; }
};

std::unique_ptr<Layer> make_softmax(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind softmax_gpu;  // softmax_gpu.cpp
}  // namespace gpu

}  // namespace kiln
