// channel_slice (formats/README.md, "Ops"): y = x[:, start:end], a contiguous range of channels
// (dimension 1, step 1) of one input of rank >= 2; every other dimension is kept. PyTorch's chunk,
// split, narrow and x[:, a:b] along channels are exported as this op.
// Attributes: start (>= 0) and end (start < end <= C), both required.
// Not a view: the output is its own packed tensor (the range starts inside each sample).
#pragma once

#include <cstdint>
#include <memory>

#include "layers/layer.h"

namespace kiln {

struct ChannelSliceParams {
  std::int64_t start = 0;
  std::int64_t end = 0;  // exclusive
  std::int64_t count() const { return end - start; }
};

class ChannelSliceLayer final : public Layer {
 public:
  ChannelSliceLayer(const LayerBuildContext& ctx, const ChannelSliceParams& params, Shape output_shape);

  const ChannelSliceParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  ChannelSliceParams params_;
};

std::unique_ptr<Layer> make_channel_slice(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind channel_slice_gpu;  // channel_slice_gpu.cpp
}  // namespace gpu

}  // namespace kiln
