// The one copy-and-convert kernel of the GPU runtime. It moves activations between layouts and
// element types: the float32 <-> stored-layout conversions at a context's boundary, the widening of
// half weights, fp16 flatten's NHWC -> NCHW reorder and concat's channel slices.
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"

namespace kiln::gpu {

// dst(n, c, h, w) = src(n, c, h, w) converted to dst's element type, for every c < dst.cs, where
// channels src.c <= c < dst.cs (pads, or channels beyond a slice's source) become 0. src and dst must
// agree in n, h and w, and must not overlap. Iterates in dst's memory order (coalesced writes); moves
// 16 bytes per thread when both share the element type, their innermost dimension is contiguous and
// their strides and pointers allow it. Enqueued on `stream`, the launch checked (naming the current
// layer); does not synchronize. Throws UsageError for views that disagree.
void launch_copy(const TensorView& src, const TensorView& dst, cudaStream_t stream);

}  // namespace kiln::gpu
