// layer_norm over channels, one body for float32 NCHW and half NHWC (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"

namespace kiln::gpu {

// At every position (n, h, w): y_c = (x_c - mean) / sqrt(var + eps) * weight[c] + bias[c] over the
// first x.c channels (two passes in float: the mean, then the deviations, whose mean corrects the first); pad channels
// of y become 0. weight and bias are float32 [x.c] device vectors, or nullptr for 1 and 0. x and y of
// one shape, layout and type; y may be x. Channels-inner views (half NHWC, [N, C]) take a warp per
// position, lanes striding the contiguous channels; NCHW takes a thread per position, neighbouring
// threads on neighbouring positions so every channel's loads coalesce. Enqueued on `stream`, the
// launch checked (naming the current layer).
void launch_layer_norm(const TensorView& x, const TensorView& y, const float* weight, const float* bias, float eps,
                       cudaStream_t stream);

}  // namespace kiln::gpu
