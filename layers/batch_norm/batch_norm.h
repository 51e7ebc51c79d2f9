// batch_norm, inference form (formats/README.md, "Ops"): y = x * scale[c] + shift[c] on a 4-D input,
// with scale and shift [C] already folded from running mean/var, gamma, beta and eps by the
// exporter. Elementwise per channel, so it may run in place.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace kiln {

class BatchNormLayer final : public Layer {
 public:
  BatchNormLayer(const LayerBuildContext& ctx, const TensorEntry& scale, const TensorEntry& shift);

  const TensorEntry& scale() const { return *scale_; }
  const TensorEntry& shift() const { return *shift_; }
  std::int64_t channels() const { return output_shape()[1]; }

  void forward_cpu(const CpuForwardArgs& args) const override;
  bool can_run_in_place() const override { return true; }

 private:
  const TensorEntry* scale_;
  const TensorEntry* shift_;
};

std::unique_ptr<Layer> make_batch_norm(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind batch_norm_gpu;  // batch_norm_gpu.cpp
}  // namespace gpu

}  // namespace kiln
