// linear (formats/README.md, "Ops"): y[n][o] = bias[o] + sum_i weight[o][i] * x[n][i].
// One 2-D input [N, in_features] (4-D activations need a flatten first); weight [out_features,
// in_features]; optional bias [out_features]; output [N, out_features].
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"

namespace kiln {

struct LinearParams {
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  bool has_bias = false;
};

class LinearLayer final : public Layer {
 public:
  LinearLayer(const LayerBuildContext& ctx, const LinearParams& params, const TensorEntry& weight,
              const TensorEntry* bias);

  const LinearParams& params() const { return params_; }
  const TensorEntry& weight() const { return *weight_; }
  const TensorEntry* bias() const { return bias_; }  // nullptr when the layer has none

  void forward_cpu(const CpuForwardArgs& args) const override;
  double flops_per_sample() const override;

 private:
  LinearParams params_;
  const TensorEntry* weight_;
  const TensorEntry* bias_;
};

std::unique_ptr<Layer> make_linear(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind linear_gpu;  // linear_gpu.cpp
}  // namespace gpu

}  // namespace kiln
