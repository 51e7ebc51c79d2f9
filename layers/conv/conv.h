// conv2d and conv_transpose2d (formats/README.md, "Ops").
//
// Built from one input [N, C, H, W]; output [N, out_channels, Ho, Wo]. Weights: conv2d
// [out, in/groups, kh, kw], conv_transpose2d [in, out/groups, kh, kw] (PyTorch's layouts); an optional
// bias [out]. Build-time checks: attribute ranges, groups dividing both channel counts, output_padding
// smaller than stride or dilation (transposed), weight shapes, output size >= 1.
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"

namespace kiln {

// conv2d and conv_transpose2d. For a transposed convolution the weight is [in, out/groups, kh, kw]
// (PyTorch's layout) and output_padding applies; otherwise the weight is [out, in/groups, kh, kw].
struct ConvParams {
  bool transposed = false;
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  Pair kernel{1, 1};
  Pair stride{1, 1};
  Pair padding{0, 0};
  Pair dilation{1, 1};
  Pair output_padding{0, 0};
  std::int64_t groups = 1;
  bool has_bias = false;
};

class ConvLayer final : public Layer {
 public:
  ConvLayer(const LayerBuildContext& ctx, Shape output_shape, const ConvParams& params, const TensorEntry& weight,
            const TensorEntry* bias);

  const ConvParams& params() const { return params_; }
  const TensorEntry& weight() const { return *weight_; }
  const TensorEntry* bias() const { return bias_; }  // nullptr when the layer has none

  // Direct convolution, or for conv_transpose2d the scatter form (each input pixel adds its weighted
  // kernel into the output). Accumulates in float.
  void forward_cpu(const CpuForwardArgs& args) const override;
  double flops_per_sample() const override;

 private:
  void forward_direct(const float* in, const float* w, float* out, std::int64_t batch) const;
  void forward_transposed(const float* in, const float* w, float* out, std::int64_t batch) const;

  ConvParams params_;
  const TensorEntry* weight_;
  const TensorEntry* bias_;
};

// Factory for both ops (dispatches on the layer's op).
std::unique_ptr<Layer> make_conv(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind conv_gpu;  // conv_gpu.cpp
}  // namespace gpu

}  // namespace kiln
