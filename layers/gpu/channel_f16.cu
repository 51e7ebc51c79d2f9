// fp16 NHWC pooling, softmax and LRN (layers/gpu/kernels_f16.h). cuDNN's legacy softmax and LRN take
// only NCHW; pooling is a kernel too so its window arithmetic is the CPU reference's, line for line.
#include <cuda_fp16.h>

#include <cstdint>

#include "engine/gpu/check.h"
#include "layers/gpu/half_util.cuh"
#include "layers/gpu/kernels_f16.h"

namespace kiln::gpu {

namespace {

// One thread per (n, oh, ow, 8 channels).
__global__ void pool_kernel(const __half* x, __half* y, PoolShapeF16 s, std::int64_t total, int is_max,
                            int count_pad, std::int64_t kh, std::int64_t kw, std::int64_t sh, std::int64_t sw,
                            std::int64_t ph, std::int64_t pw) {
  const std::int64_t vecs = s.cs / 8;
  KILN_GRID_STRIDE(i, total) {
    const std::int64_t v = i % vecs;
    const std::int64_t ow = (i / vecs) % s.ow;
    const std::int64_t oh = (i / (vecs * s.ow)) % s.oh;
    const std::int64_t n = i / (vecs * s.ow * s.oh);
    std::int64_t h0 = oh * sh - ph, w0 = ow * sw - pw;
    std::int64_t h1 = min(h0 + kh, s.h + ph), w1 = min(w0 + kw, s.w + pw);
    const std::int64_t padded_count = (h1 - h0) * (w1 - w0);
    h0 = max(h0, std::int64_t{0});
    w0 = max(w0, std::int64_t{0});
    h1 = min(h1, s.h);
    w1 = min(w1, s.w);
    float acc[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) acc[k] = is_max ? -INFINITY : 0.0f;
    for (std::int64_t hh = h0; hh < h1; ++hh)
      for (std::int64_t ww = w0; ww < w1; ++ww) {
        float f[8];
        load8(x + ((n * s.h + hh) * s.w + ww) * s.cs + v * 8, f);
#pragma unroll
        for (int k = 0; k < 8; ++k) {
          if (is_max) {
            if (f[k] > acc[k] || isnan(f[k])) acc[k] = f[k];
          } else {
            acc[k] += f[k];
          }
        }
      }
    if (!is_max) {
      const float count = static_cast<float>(count_pad ? padded_count : (h1 - h0) * (w1 - w0));
#pragma unroll
      for (int k = 0; k < 8; ++k) acc[k] /= count;
    }
    store8(y + i * 8, acc);
  }
}

// One warp per position: lanes stride the channels, shuffles reduce.
__global__ void softmax_kernel(const __half* x, __half* y, std::int64_t positions, std::int64_t c, std::int64_t cs) {
  const int lane = threadIdx.x % 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * blockDim.x / 32;
  for (std::int64_t p = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32; p < positions;
       p += warps) {
    const __half* xp = x + p * cs;
    __half* yp = y + p * cs;
    float top = -INFINITY;
    for (std::int64_t ch = lane; ch < c; ch += 32) top = fmaxf(top, __half2float(xp[ch]));
    for (int o = 16; o > 0; o /= 2) top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, o));
    float sum = 0.0f;
    for (std::int64_t ch = lane; ch < c; ch += 32) sum += expf(__half2float(xp[ch]) - top);
    for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    // Every lane has read all it needs (the reductions above), so writing in place is safe.
    for (std::int64_t ch = lane; ch < cs; ch += 32) {
      yp[ch] = __float2half_rn(ch < c ? expf(__half2float(xp[ch]) - top) / sum : 0.0f);
    }
  }
}

__global__ void lrn_kernel(const __half* x, __half* y, std::int64_t total, std::int64_t c, std::int64_t cs,
                           std::int64_t size, float alpha_over_size, float beta, float k) {
  KILN_GRID_STRIDE(i, total) {
    const std::int64_t ch = i % cs;
    if (ch >= c) {
      y[i] = __float2half_rn(0.0f);
      continue;
    }
    const __half* base = x + (i - ch);
    const std::int64_t lo = max(ch - size / 2, std::int64_t{0});
    const std::int64_t hi = min(ch + (size - 1) / 2, c - 1);
    float sum = 0.0f;
    for (std::int64_t j = lo; j <= hi; ++j) {
      const float v = __half2float(base[j]);
      sum += v * v;
    }
    y[i] = __float2half_rn(__half2float(x[i]) / powf(k + alpha_over_size * sum, beta));
  }
}

}  // namespace

void launch_pool_f16(const void* x, void* y, const PoolShapeF16& s, const PoolParams& p, cudaStream_t stream) {
  const std::int64_t total = s.n * s.oh * s.ow * (s.cs / 8);
  if (total == 0) return;
  pool_kernel<<<half_grid_for(total), kHalfThreads, 0, stream>>>(
      static_cast<const __half*>(x), static_cast<__half*>(y), s, total, p.mode == PoolMode::Max ? 1 : 0,
      p.count_include_pad ? 1 : 0, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1]);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_softmax_f16(const void* x, void* y, std::int64_t positions, std::int64_t c, std::int64_t cs,
                        cudaStream_t stream) {
  if (positions == 0) return;
  softmax_kernel<<<half_grid_for(positions * 32), kHalfThreads, 0, stream>>>(static_cast<const __half*>(x),
                                                                             static_cast<__half*>(y), positions, c, cs);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_lrn_f16(const void* x, void* y, std::int64_t positions, std::int64_t c, std::int64_t cs, const LrnParams& p,
                    cudaStream_t stream) {
  const std::int64_t total = positions * cs;
  if (total == 0) return;
  lrn_kernel<<<half_grid_for(total), kHalfThreads, 0, stream>>>(
      static_cast<const __half*>(x), static_cast<__half*>(y), total, c, cs, p.size,
      static_cast<float>(p.alpha / static_cast<double>(p.size)), static_cast<float>(p.beta), static_cast<float>(p.k));
  KILN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace kiln::gpu
