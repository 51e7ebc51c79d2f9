// Nearest-neighbour upsampling, one body for float32 NCHW and half NHWC (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"

namespace kiln::gpu {

// y(n, c, h, w) = x(n, c, h / sh, w / sw) for every stored channel; x and y packed, of one layout and
// element type, y of x's size times (sh, sw). Half NHWC moves 8 channels (16 bytes) per thread.
// Enqueued on `stream`, the launch checked (naming the current layer); no synchronization.
void launch_upsample_nearest(const TensorView& x, const TensorView& y, std::int64_t sh, std::int64_t sw,
                             cudaStream_t stream);

}  // namespace kiln::gpu
