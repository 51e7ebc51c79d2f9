// Cross-channel LRN with PyTorch's window, for the cases cuDNN's LRN does not cover (layers/gpu/lrn.cpp).
#include <algorithm>

#include "engine/gpu/check.h"
#include "layers/gpu/kernels.h"

namespace kiln::gpu {

namespace {

constexpr int kThreads = 256;

__global__ void lrn_kernel(const float* x, float* y, std::int64_t total, std::int64_t channels, std::int64_t inner,
                           std::int64_t size, float alpha_over_size, float beta, float k) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t pos = i % inner;
    const std::int64_t c = (i / inner) % channels;
    const std::int64_t n = i / (inner * channels);
    const std::int64_t lo = max(c - size / 2, std::int64_t{0});
    const std::int64_t hi = min(c + (size - 1) / 2, channels - 1);
    const float* base = x + n * channels * inner + pos;
    float sum = 0.0f;
    for (std::int64_t j = lo; j <= hi; ++j) {
      const float v = base[j * inner];
      sum += v * v;
    }
    y[i] = x[i] / powf(k + alpha_over_size * sum, beta);
  }
}

}  // namespace

void launch_lrn(const float* x, float* y, std::int64_t batch, std::int64_t channels, std::int64_t inner,
                const LrnParams& p, cudaStream_t stream) {
  const std::int64_t total = batch * channels * inner;
  if (total == 0) return;
  const std::int64_t blocks = std::min<std::int64_t>((total + kThreads - 1) / kThreads, 65535 * 8);
  lrn_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      x, y, total, channels, inner, p.size, static_cast<float>(p.alpha / static_cast<double>(p.size)),
      static_cast<float>(p.beta), static_cast<float>(p.k));
  KILN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace kiln::gpu
