// channel_shuffle (formats/README.md, "Ops"): ShuffleNet's channel shuffle, PyTorch's
// x.view(N, g, C/g, ...).transpose(1, 2).reshape(N, C, ...) and nn.ChannelShuffle(g), on one input of
// rank >= 2 whose channels (dimension 1) g divides. Attribute groups (g >= 1, required).
// Output channel o reads input channel shuffle_source(o): the channels are read as a g x C/g matrix
// and written transposed. Same shape as the input; not in place (every channel moves).
#pragma once

#include <cstdint>
#include <memory>

#include "layers/layer.h"

namespace kiln {

struct ChannelShuffleParams {
  std::int64_t groups = 1;
};

// The input channel that output channel `o` (< channels) of a shuffle into `groups` reads:
// o = j*g + i  <-  i*(C/g) + j, for i < g, j < C/g. One definition for the CPU reference and the kernel.
#if defined(__CUDACC__)
__host__ __device__
#endif
inline std::int64_t shuffle_source(std::int64_t o, std::int64_t channels, std::int64_t groups) {
  return (o % groups) * (channels / groups) + o / groups;
}

class ChannelShuffleLayer final : public Layer {
 public:
  ChannelShuffleLayer(const LayerBuildContext& ctx, const ChannelShuffleParams& params);

  const ChannelShuffleParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  ChannelShuffleParams params_;
};

std::unique_ptr<Layer> make_channel_shuffle(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind channel_shuffle_gpu;  // channel_shuffle_gpu.cpp
}  // namespace gpu

}  // namespace kiln
