// kiln's direct convolution kernel (Note [direct convolution] in layers/conv/direct_conv_gpu.h).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/gpu/view.h"
#include "layers/activation/activation.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

// Output channels one thread computes: 4 when the layer has at most 4, 32 for a stem (at most 4 input
// channels, more than 8 output channels: each loaded input feeds 32 sums, and the input is read once,
// not once per block of 8), else 8.
inline int direct_conv_channel_block(const ConvParams& p) {
  if (p.out_channels <= 4) return 4;
  return p.in_channels <= 4 && p.out_channels > 8 ? 32 : 8;
}

// Shared memory the kernel holds a block's filter slice in: kh*kw*Cin*channel_block floats.
inline std::int64_t direct_conv_shared_bytes(const ConvParams& p) {
  return p.kernel[0] * p.kernel[1] * p.in_channels * direct_conv_channel_block(p) * 4;
}

// The most shared memory a launch asks for (the default per-block limit, no opt-in).
constexpr std::int64_t kDirectConvMaxSharedBytes = 48 * 1024;

// y = act(conv(x, w) + bias) for a convolution with groups 1, not transposed (`p`). x and y are packed
// views of one layout and element type (float32 NCHW or half NHWC), y's H and W those p gives for x's.
// `w`: float32 [K, C, kh, kw] as PyTorch stores it; `bias`: float32, one per stored output channel
// (pads 0), or null; `act` null for none (prelu is not an epilogue). Reads only the real input
// channels; stored pad channels of y are written as 0. Accumulates in float. Enqueued on `stream`, the
// launch checked; no synchronization. Throws UsageError when the views do not fit p or the filter
// slice exceeds kDirectConvMaxSharedBytes.
void launch_direct_conv(const TensorView& x, const TensorView& y, const float* w, const float* bias,
                        const ActivationParams* act, const ConvParams& p, cudaStream_t stream);

}  // namespace kiln::gpu
