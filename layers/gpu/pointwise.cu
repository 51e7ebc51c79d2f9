// Elementwise kernels: channel affine + activation, n-ary add, nearest upsampling, f16 widening.
#include <cuda_fp16.h>

#include <algorithm>

#include "engine/gpu/check.h"
#include "engine/gpu/weights.h"
#include "layers/gpu/activate.cuh"
#include "layers/gpu/kernels.h"

namespace kiln::gpu {

namespace {

constexpr int kThreads = 256;

unsigned grid_for(std::int64_t n) {
  const std::int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::min<std::int64_t>(std::max<std::int64_t>(blocks, 1), 65535 * 8));
}

__global__ void channel_affine_act_kernel(const float* x, float* y, const float* scale, const float* shift,
                                          std::int64_t total, std::int64_t channels, std::int64_t inner,
                                          int has_act, int kind, float alpha) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t c = (i / inner) % channels;
    float v = x[i];
    if (scale) v *= scale[c];
    if (shift) v += shift[c];
    y[i] = has_act ? activate(v, kind, alpha) : v;
  }
}

constexpr int kAddFanIn = 8;
struct AddInputs {
  const float* p[kAddFanIn];
};

__global__ void add_kernel(AddInputs in, int count, float* y, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    float acc = in.p[0][i];
    for (int k = 1; k < count; ++k) acc += in.p[k][i];
    y[i] = acc;
  }
}

__global__ void upsample_nearest_kernel(const float* x, float* y, std::int64_t total, std::int64_t h, std::int64_t w,
                                        std::int64_t sh, std::int64_t sw) {
  const std::int64_t ow = w * sw;
  const std::int64_t oh = h * sh;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t xo = i % ow;
    const std::int64_t yo = (i / ow) % oh;
    const std::int64_t plane = i / (ow * oh);
    y[i] = x[(plane * h + yo / sh) * w + xo / sw];
  }
}

__global__ void half_to_float_kernel(const __half* src, float* dst, std::uint64_t n) {
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    dst[i] = __half2float(src[i]);
  }
}

}  // namespace

void launch_channel_affine_act(const float* x, float* y, const float* scale, const float* shift, std::int64_t batch,
                               std::int64_t channels, std::int64_t inner, const ActivationParams* act,
                               cudaStream_t stream) {
  const std::int64_t total = batch * channels * inner;
  if (total == 0) return;
  channel_affine_act_kernel<<<grid_for(total), kThreads, 0, stream>>>(
      x, y, scale, shift, total, channels, inner, act ? 1 : 0, act ? static_cast<int>(act->kind) : 0,
      act ? static_cast<float>(act->alpha) : 0.0f);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_add(const float* const* inputs, int count, float* y, std::int64_t n, cudaStream_t stream) {
  if (n == 0 || count < 1) return;
  // Fan-in beyond kAddFanIn: later launches accumulate into y (y = y + next inputs), keeping the
  // left-to-right summation order.
  for (int first = 0; first < count;) {
    AddInputs in{};
    int k = 0;
    if (first > 0) in.p[k++] = y;
    while (k < kAddFanIn && first < count) in.p[k++] = inputs[first++];
    add_kernel<<<grid_for(n), kThreads, 0, stream>>>(in, k, y, n);
    KILN_CUDA_CHECK(cudaGetLastError());
  }
}

void launch_upsample_nearest(const float* x, float* y, std::int64_t nc, std::int64_t h, std::int64_t w,
                             std::int64_t sh, std::int64_t sw, cudaStream_t stream) {
  const std::int64_t total = nc * h * sh * w * sw;
  if (total == 0) return;
  upsample_nearest_kernel<<<grid_for(total), kThreads, 0, stream>>>(x, y, total, h, w, sh, sw);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_half_to_float(const void* src, float* dst, std::uint64_t count, cudaStream_t stream) {
  if (count == 0) return;
  half_to_float_kernel<<<grid_for(static_cast<std::int64_t>(count)), kThreads, 0, stream>>>(
      static_cast<const __half*>(src), dst, count);
  KILN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace kiln::gpu
