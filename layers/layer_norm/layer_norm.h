// layer_norm over channels (formats/README.md, "Ops"): PyTorch's LayerNorm with normalized_shape (C,)
// applied to the channel dimension of a 2-D [N, C] or 4-D [N, C, H, W] input. At every (n, h, w):
//   y_c = (x_c - mean) / sqrt(var + eps) * weight[c] + bias[c],
// mean and the biased variance taken over the C channels of that position. Attribute eps (1e-5,
// finite, > 0). Weights `weight` and `bias` [C], each optional (absent: 1 and 0, PyTorch's
// elementwise_affine=False and bias=False). Each position's channels are read before they are written,
// so it may run in place. The exporter maps nn.LayerNorm on a channels-last view (x.permute(0,2,3,1))
// and on [N, C] here.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace kiln {

struct LayerNormParams {
  double eps = 1e-5;
};

class LayerNormLayer final : public Layer {
 public:
  LayerNormLayer(const LayerBuildContext& ctx, const LayerNormParams& params, const TensorEntry* weight,
                 const TensorEntry* bias);

  const LayerNormParams& params() const { return params_; }
  // nullptr when absent.
  const TensorEntry* weight() const { return weight_; }
  const TensorEntry* bias() const { return bias_; }
  std::int64_t channels() const { return output_shape()[1]; }

  void forward_cpu(const CpuForwardArgs& args) const override;
  bool can_run_in_place() const override { return true; }

 private:
  LayerNormParams params_;
  const TensorEntry* weight_;
  const TensorEntry* bias_;
};

std::unique_ptr<Layer> make_layer_norm(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind layer_norm_gpu;  // layer_norm_gpu.cpp
}  // namespace gpu

}  // namespace kiln
