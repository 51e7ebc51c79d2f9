// The channel affine + activation kernel: one body for activations, batch_norm and the convolution
// epilogue that cuDNN did not fuse, over float32 NCHW and half NHWC alike (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include <vector>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/view.h"
#include "engine/gpu/weights.h"
#include "layers/activation/activation.h"

namespace kiln::gpu {

// An activation as the kernel applies it: its parameters and, for prelu, its weight on the device.
struct DeviceActivation {
  ActivationParams params;
  // Prelu: float32 slopes, one per stored channel (pads 0) when per_channel, else one shared value.
  const float* slope = nullptr;
  bool per_channel = false;
};

// The device forms of an activation layer's weights (prelu's slopes: float32, padded to the stored
// channels in Fp16 when there is one per channel); empty for the other kinds.
std::vector<WeightRequest> activation_weight_forms(const Layer& layer, Precision precision);
// The layer's activation with its weights bound from `weights` (which hold activation_weight_forms).
DeviceActivation device_activation(const Layer& layer, const DeviceWeights& weights, Precision precision);

// y = act(x * scale[c] + shift[c]) for every stored element of the packed view `x` (channel c counted
// up to x.cs, so pad channels become act(shift[c]): finite). `y` has x's shape and layout and may be
// x. scale / shift are float32 device vectors of x.cs entries (pads 0), or null for 1 / 0; `act` null
// means the identity. Computes in float, rounds once. Moves 16 bytes per thread where the layout
// allows. Enqueued on `stream`, the launch checked (naming the current layer); no synchronization.
// Throws UsageError when x or y is not packed or they differ in shape or element type, or when `act`
// is a prelu (its slopes come only with the DeviceActivation form below).
void launch_affine_activation(const TensorView& x, const TensorView& y, const float* scale, const float* shift,
                              const ActivationParams* act, cudaStream_t stream);
// The same with an activation whose weights are bound (every kind, prelu included).
void launch_affine_activation(const TensorView& x, const TensorView& y, const float* scale, const float* shift,
                              const DeviceActivation& act, cudaStream_t stream);

}  // namespace kiln::gpu
