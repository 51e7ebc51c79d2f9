// kiln's depthwise convolution kernel (Note [depthwise convolution] in layers/conv/depthwise_gpu.h).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/gpu/view.h"
#include "layers/activation/activation.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

// The filter of a depthwise convolution on the device: tap t = i * kw + j of channel c at
// taps[c * channel_stride + t * tap_stride]. Float32 NCHW engines read PyTorch's [C, 1, kh, kw] as
// exported (channel_stride kh*kw, tap_stride 1); Fp16 reads WeightForm::F16Taps, [kh*kw][Cs] half
// (channel_stride 1, tap_stride Cs), so 8 channels of one tap are one 16-byte load.
struct DepthwiseFilter {
  const void* taps = nullptr;
  std::int64_t channel_stride = 1, tap_stride = 1;
};

// y = act(conv(x, filter) + bias) for a convolution with groups = in = out channels (`p`), x and y
// packed views of one layout and element type (float32 NCHW or half NHWC), y's H and W those p gives
// for x's. `bias`: float32, one per stored channel (pads 0), or null; `act` null for none (prelu is
// not an epilogue). Stored pad channels of y are written as 0. Accumulates in float in PyTorch's tap
// order (i, then j). Half NHWC with 8-channel alignment moves 16 bytes per load. Enqueued on
// `stream`, the launch checked; no synchronization. Throws UsageError when the views do not fit p.
void launch_depthwise(const TensorView& x, const TensorView& y, const DepthwiseFilter& filter, const float* bias,
                      const ActivationParams* act, const ConvParams& p, cudaStream_t stream);

}  // namespace kiln::gpu
