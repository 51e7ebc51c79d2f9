// kiln's im2col kernel for the stem GEMM (Note [stem convolution as im2col GEMM] in
// layers/conv/im2col_gemm_gpu.h).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/gpu/view.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

// Writes rows [first, first + count) of the im2col matrix of `x` (a packed half NHWC view whose
// channel stride is 1 and whose stored channels are a multiple of 8, 16-byte aligned) for the
// convolution `p` (groups 1, not transposed) with output size out_h x out_w: row m is output position
// m = (n * out_h + oh) * out_w + ow, its element (r * kw + s) * C + c the input value x[n, c, ih, iw]
// the filter tap (r, s) meets there (0 outside the image), elements R*S*C .. row_length - 1 zero.
// `cols` is half, 16-byte aligned, row_length (a multiple of 8) elements per row. Enqueued on
// `stream`, the launch checked. Throws UsageError when the views or sizes do not fit.
void launch_im2col(const TensorView& x, const ConvParams& p, std::int64_t out_h, std::int64_t out_w,
                   std::int64_t first, std::int64_t count, std::int64_t row_length, void* cols, cudaStream_t stream);

}  // namespace kiln::gpu
