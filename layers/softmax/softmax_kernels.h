// Softmax over channels, one body for either element type and any channel stride (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"

namespace kiln::gpu {

// At every position (n, h, w): y = exp(x - max) / sum over the first x.c channels (max-subtracted,
// float arithmetic); pad channels of y become 0. x and y of one shape, layout and type; y may be x.
// One warp per position. Enqueued on `stream`, the launch checked (naming the current layer).
void launch_softmax(const TensorView& x, const TensorView& y, cudaStream_t stream);

}  // namespace kiln::gpu
