// Every pooling mode (layers/pool/pool.h), one body for float32 NCHW and half NHWC
// (engine/gpu/view.h), with the CPU reference's window rules (pool_window.h, shared): padding never
// wins a max, NaN propagates, average divides as PyTorch does.
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"
#include "layers/pool/pool.h"

namespace kiln::gpu {

// y(n, c, oh, ow) pools x over every stored channel as `p` says (the windows follow from p and the
// views' H and W: pool_axis). Stored pad channels of y (c >= x.c) are written as 0, so they stay
// finite even where a dilated window holds no input position. x and y packed, of one layout,
// element type and channel count. Half NHWC pools 8 channels (16 bytes) per thread; windows of 64
// positions or more (global pooling) are split over a block of threads. Enqueued on
// `stream`, the launch checked (naming the current layer); no synchronization.
void launch_pool(const TensorView& x, const TensorView& y, const PoolParams& p, cudaStream_t stream);

}  // namespace kiln::gpu
