// Max and average pooling, one body for float32 NCHW and half NHWC (engine/gpu/view.h), with the CPU
// reference's window rules line for line (layers/pool/pool.cpp): padding never wins a max, NaN
// propagates, average counts the padding or not as count_include_pad says.
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"
#include "layers/pool/pool.h"

namespace kiln::gpu {

// y(n, c, oh, ow) pools x over every stored channel (GlobalAverage: pass kernel = stride = x's H x W
// and padding 0). x and y packed, of one layout and element type. Half NHWC pools 8 channels (16
// bytes) per thread. Enqueued on `stream`, the launch checked (naming the current layer).
void launch_pool(const TensorView& x, const TensorView& y, const PoolParams& p, cudaStream_t stream);

}  // namespace kiln::gpu
