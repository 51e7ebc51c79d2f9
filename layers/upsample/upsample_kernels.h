// Upsampling kernels, one body per mapping for float32 NCHW and half NHWC (engine/gpu/view.h). All
// run over every stored channel (fp16 pad channels are zeros in, zeros out), x and y packed, of one
// layout, element type and channel count; half NHWC moves 8 channels (16 bytes) per thread. Each is
// enqueued on `stream`, the launch checked (naming the current layer); no synchronization.
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"
#include "layers/upsample/upsample.h"

namespace kiln::gpu {

// y(n, c, h, w) = x(n, c, h / sh, w / sw); y of x's size times (sh, sw).
void launch_upsample_nearest(const TensorView& x, const TensorView& y, std::int64_t sh, std::int64_t sw,
                             cudaStream_t stream);

// The `size` forms of upsample_nearest ('nearest', 'nearest-exact') and upsample_bilinear, with the
// CPU reference's source positions (upsample_math.h) for p and the views' sizes.
void launch_upsample_resample(const TensorView& x, const TensorView& y, const UpsampleParams& p, cudaStream_t stream);

}  // namespace kiln::gpu
