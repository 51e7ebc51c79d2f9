// The scatter half of a transposed convolution run as a GEMM (layers/conv/deconv_gemm_gpu.h, Note
// [deconvolution as GEMM]): places each kernel tap of the product into its upsampled output position,
// adding the bias and applying the folded activation on the way.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/gpu/view.h"
#include "layers/activation/activation.h"

namespace kiln::gpu {

// The product of the GEMM for y.n images of input h x w and a kh x kw kernel (= stride):
//   float32 NCHW y: product[n][c][i][j][h][w] (c = y.c real channels);
//   half NHWC y:    product[n][h][w][i][j][cs] (cs = y.cs stored channels; its pads are 0).
// y[n, c, h*kh + i, w*kw + j] = act(product + bias[c]). `bias`: float32 device vector of y.cs entries
// (pads 0) or null; `act` null for none (never prelu: it is not folded into convolutions). y must be
// packed, of h*kh x w*kw positions, and `product` 16-byte aligned in half. Enqueued on `stream`, the
// launch checked; no synchronization. Throws UsageError for a y that does not fit.
void launch_deconv_scatter(const void* product, const TensorView& y, std::int64_t h, std::int64_t w, std::int64_t kh,
                           std::int64_t kw, const float* bias, const ActivationParams* act, cudaStream_t stream);

}  // namespace kiln::gpu
