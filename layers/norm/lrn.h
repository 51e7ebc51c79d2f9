// lrn: PyTorch's LocalResponseNorm across channels on a 4-D input (formula in layers/params.h,
// LrnParams). Attributes: size (required, >= 1), alpha (1e-4), beta (0.75), k (1.0), all finite.
// Not in place: each output channel reads its neighbours.
#pragma once

#include <memory>

#include "layers/layer.h"
#include "layers/params.h"

namespace kiln {

class LrnLayer final : public Layer {
 public:
  LrnLayer(const LayerBuildContext& ctx, const LrnParams& params);

  const LrnParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  LrnParams params_;
};

std::unique_ptr<Layer> make_lrn(const LayerBuildContext& ctx);

}  // namespace kiln
