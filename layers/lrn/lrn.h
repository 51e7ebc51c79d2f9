// lrn: PyTorch's LocalResponseNorm across channels on a 4-D input (the formula is at LrnParams).
// Attributes: size (required, >= 1), alpha (1e-4), beta (0.75), k (1.0), all finite.
// Not in place: each output channel reads its neighbours.
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"

namespace kiln {

// PyTorch LocalResponseNorm: b_c = a_c / (k + alpha/size * sum_{c' in window(c)} a_c'^2)^beta, the
// window running from c - size/2 to c + (size-1)/2, clipped to the channels.
struct LrnParams {
  std::int64_t size = 5;
  double alpha = 1e-4;
  double beta = 0.75;
  double k = 1.0;
};

class LrnLayer final : public Layer {
 public:
  LrnLayer(const LayerBuildContext& ctx, const LrnParams& params);

  const LrnParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  LrnParams params_;
};

std::unique_ptr<Layer> make_lrn(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind lrn_gpu;  // lrn_gpu.cpp
}  // namespace gpu

}  // namespace kiln
