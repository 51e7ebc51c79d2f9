// The channel affine + activation kernel: one body for activations, batch_norm and the convolution
// epilogue that cuDNN did not fuse, over float32 NCHW and half NHWC alike (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"
#include "layers/activation/activation.h"

namespace kiln::gpu {

// y = act(x * scale[c] + shift[c]) for every stored element of the packed view `x` (channel c counted
// up to x.cs, so pad channels become act(shift[c]): finite). `y` has x's shape and layout and may be
// x. scale / shift are float32 device vectors of x.cs entries (pads 0), or null for 1 / 0; `act` null
// means the identity. Computes in float, rounds once. Moves 16 bytes per thread where the layout
// allows. Enqueued on `stream`, the launch checked (naming the current layer); no synchronization.
// Throws UsageError when x or y is not packed or they differ in shape or element type.
void launch_affine_activation(const TensorView& x, const TensorView& y, const float* scale, const float* shift,
                              const ActivationParams* act, cudaStream_t stream);

}  // namespace kiln::gpu
