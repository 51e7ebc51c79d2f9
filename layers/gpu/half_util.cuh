// Device helpers of the fp16 kernels: 8 halves (16 bytes) at a time as floats, and the grid size.
#pragma once

#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

namespace kiln::gpu {

constexpr int kHalfThreads = 256;

inline unsigned half_grid_for(std::int64_t n) {
  const std::int64_t blocks = (n + kHalfThreads - 1) / kHalfThreads;
  return static_cast<unsigned>(std::min<std::int64_t>(std::max<std::int64_t>(blocks, 1), 65535 * 8));
}

// `p` must be 16-byte aligned.
__device__ inline void load8(const __half* p, float (&f)[8]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const float2 t = __half22float2(h[k]);
    f[2 * k] = t.x;
    f[2 * k + 1] = t.y;
  }
}

__device__ inline void store8(__half* p, const float (&f)[8]) {
  uint4 u;
  __half2* h = reinterpret_cast<__half2*>(&u);
#pragma unroll
  for (int k = 0; k < 4; ++k) h[k] = __floats2half2_rn(f[2 * k], f[2 * k + 1]);
  *reinterpret_cast<uint4*>(p) = u;
}

#define KILN_GRID_STRIDE(i, n)                                                                      \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

}  // namespace kiln::gpu
