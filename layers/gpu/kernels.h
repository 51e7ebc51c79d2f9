// Launchers of kiln's small CUDA kernels (float32, packed NCHW / NC). Each launches on `stream`,
// checks the launch (KILN_CUDA_CHECK(cudaGetLastError()), naming the current layer) and returns
// without synchronizing. Element counts are 64-bit; grids are capped and the kernels grid-stride.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "layers/params.h"

namespace kiln::gpu {

// y[n][c][i] = act(x[n][c][i] * scale[c] + shift[c]) for n < batch, c < channels, i < inner.
// scale / shift may be null (1 / 0); `act` may be null (identity). x may equal y. One kernel serves
// activations, batch_norm and the convolution epilogue (bias + activation not fused by cuDNN).
void launch_channel_affine_act(const float* x, float* y, const float* scale, const float* shift, std::int64_t batch,
                               std::int64_t channels, std::int64_t inner, const ActivationParams* act,
                               cudaStream_t stream);

// y = inputs[0] + inputs[1] + ... (left to right, like the CPU reference); y may equal inputs[0].
void launch_add(const float* const* inputs, int count, float* y, std::int64_t n, cudaStream_t stream);

// Nearest-neighbour upsampling by integer factors: y[n][c][h][w] = x[n][c][h / sh][w / sw].
void launch_upsample_nearest(const float* x, float* y, std::int64_t nc, std::int64_t h, std::int64_t w,
                             std::int64_t sh, std::int64_t sw, cudaStream_t stream);

// PyTorch's LocalResponseNorm across channels (window c - size/2 .. c + (size-1)/2), for the sizes
// cuDNN's LRN does not take (even sizes, whose window cuDNN centres differently, and sizes > 16).
void launch_lrn(const float* x, float* y, std::int64_t batch, std::int64_t channels, std::int64_t inner,
                const LrnParams& p, cudaStream_t stream);

}  // namespace kiln::gpu
