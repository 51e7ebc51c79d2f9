// PyTorch's LocalResponseNorm across channels (window c - size/2 .. c + (size-1)/2, clipped), one body
// for float32 NCHW and half NHWC (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"
#include "layers/lrn/lrn.h"

namespace kiln::gpu {

// y = lrn(x) over the first x.c channels; pad channels of y become 0. x and y packed, of one layout
// and element type, not overlapping. Enqueued on `stream`, the launch checked (naming the current layer).
void launch_lrn(const TensorView& x, const TensorView& y, const LrnParams& p, cudaStream_t stream);

}  // namespace kiln::gpu
