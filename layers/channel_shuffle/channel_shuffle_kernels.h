// The channel shuffle kernel, one body for float32 NCHW and half NHWC (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/gpu/view.h"

namespace kiln::gpu {

// y(n, o, h, w) = x(n, shuffle_source(o, y.c, groups), h, w) for o < y.c, and 0 on y's pad channels
// (y.c <= o < y.cs). x and y: one element type, equal n, c, h, w; y packed (x any strides; its pad
// channels are never read); groups divides y.c. Elements are moved, not converted. Enqueued on
// `stream`, the launch checked (naming the current layer); no synchronization. Throws UsageError
// for views that disagree.
void launch_channel_shuffle(const TensorView& x, const TensorView& y, std::int64_t groups, cudaStream_t stream);

}  // namespace kiln::gpu
