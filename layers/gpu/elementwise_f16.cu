// fp16 elementwise and data-movement kernels (layers/gpu/kernels_f16.h).
#include <cuda_fp16.h>

#include <cstdint>

#include "engine/gpu/check.h"
#include "layers/gpu/activate.cuh"
#include "layers/gpu/half_util.cuh"
#include "layers/gpu/kernels_f16.h"

namespace kiln::gpu {

namespace {

__global__ void to_stored_kernel(const float* x, __half* y, std::int64_t total, std::int64_t c, std::int64_t hw,
                                 std::int64_t cs) {
  KILN_GRID_STRIDE(i, total) {
    const std::int64_t ch = i % cs;
    const std::int64_t pos = (i / cs) % hw;
    const std::int64_t n = i / (cs * hw);
    y[i] = ch < c ? __float2half_rn(x[(n * c + ch) * hw + pos]) : __float2half_rn(0.0f);
  }
}

// Output-ordered (logical NCHW) so the writes coalesce; used for outputs and flatten.
template <class Out>
__global__ void from_stored_kernel(const __half* x, Out* y, std::int64_t total, std::int64_t c, std::int64_t hw,
                                   std::int64_t cs) {
  KILN_GRID_STRIDE(i, total) {
    const std::int64_t pos = i % hw;
    const std::int64_t ch = (i / hw) % c;
    const std::int64_t n = i / (hw * c);
    const __half v = x[(n * hw + pos) * cs + ch];
    if constexpr (sizeof(Out) == 4) {
      y[i] = __half2float(v);
    } else {
      y[i] = v;
    }
  }
}

__global__ void affine_act_vec_kernel(const __half* x, __half* y, const float* scale, const float* shift,
                                      std::int64_t vectors, std::int64_t cs, int has_act, int kind, float alpha) {
  KILN_GRID_STRIDE(v, vectors) {
    const std::int64_t c0 = (v * 8) % cs;
    float f[8];
    load8(x + v * 8, f);
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      if (scale) f[k] *= scale[c0 + k];
      if (shift) f[k] += shift[c0 + k];
      if (has_act) f[k] = activate(f[k], kind, alpha);
    }
    store8(y + v * 8, f);
  }
}

__global__ void affine_act_kernel(const __half* x, __half* y, const float* scale, const float* shift,
                                  std::int64_t total, std::int64_t cs, int has_act, int kind, float alpha) {
  KILN_GRID_STRIDE(i, total) {
    const std::int64_t c = i % cs;
    float v = __half2float(x[i]);
    if (scale) v *= scale[c];
    if (shift) v += shift[c];
    y[i] = __float2half_rn(has_act ? activate(v, kind, alpha) : v);
  }
}

constexpr int kAddFanIn = 8;
struct AddInputsF16 {
  const __half* p[kAddFanIn];
};

__global__ void add_vec_kernel(AddInputsF16 in, int count, __half* y, std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    float acc[8];
    load8(in.p[0] + v * 8, acc);
    for (int k = 1; k < count; ++k) {
      float f[8];
      load8(in.p[k] + v * 8, f);
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[j] += f[j];
    }
    store8(y + v * 8, acc);
  }
}

__global__ void add_kernel(AddInputsF16 in, int count, __half* y, std::int64_t n) {
  KILN_GRID_STRIDE(i, n) {
    float acc = __half2float(in.p[0][i]);
    for (int k = 1; k < count; ++k) acc += __half2float(in.p[k][i]);
    y[i] = __float2half_rn(acc);
  }
}

__global__ void upsample_kernel(const uint4* x, uint4* y, std::int64_t total, std::int64_t h, std::int64_t w,
                                std::int64_t vecs, std::int64_t sh, std::int64_t sw) {
  const std::int64_t oh = h * sh;
  const std::int64_t ow = w * sw;
  KILN_GRID_STRIDE(i, total) {
    const std::int64_t v = i % vecs;
    const std::int64_t xo = (i / vecs) % ow;
    const std::int64_t yo = (i / (vecs * ow)) % oh;
    const std::int64_t n = i / (vecs * ow * oh);
    y[i] = x[((n * h + yo / sh) * w + xo / sw) * vecs + v];
  }
}

}  // namespace

void launch_to_stored_f16(const float* x, void* y, const StoredDims& d, cudaStream_t stream) {
  const std::int64_t total = d.n * d.hw * d.cs;
  if (total == 0) return;
  to_stored_kernel<<<half_grid_for(total), kHalfThreads, 0, stream>>>(x, static_cast<__half*>(y), total, d.c, d.hw,
                                                                      d.cs);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_from_stored_f16(const void* x, float* y, const StoredDims& d, cudaStream_t stream) {
  const std::int64_t total = d.n * d.c * d.hw;
  if (total == 0) return;
  from_stored_kernel<float><<<half_grid_for(total), kHalfThreads, 0, stream>>>(static_cast<const __half*>(x), y, total,
                                                                               d.c, d.hw, d.cs);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_nhwc_to_nchw_f16(const void* x, void* y, std::int64_t n, std::int64_t c, std::int64_t hw, std::int64_t cs,
                             cudaStream_t stream) {
  const std::int64_t total = n * c * hw;
  if (total == 0) return;
  from_stored_kernel<__half><<<half_grid_for(total), kHalfThreads, 0, stream>>>(
      static_cast<const __half*>(x), static_cast<__half*>(y), total, c, hw, cs);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_channel_affine_act_f16(const void* x, void* y, const float* scale, const float* shift,
                                   std::int64_t total, std::int64_t cs, const ActivationParams* act,
                                   cudaStream_t stream) {
  if (total == 0) return;
  const int has = act ? 1 : 0;
  const int kind = act ? static_cast<int>(act->kind) : 0;
  const float alpha = act ? static_cast<float>(act->alpha) : 0.0f;
  const auto* xs = static_cast<const __half*>(x);
  auto* ys = static_cast<__half*>(y);
  if (total % 8 == 0 && cs % 8 == 0) {
    affine_act_vec_kernel<<<half_grid_for(total / 8), kHalfThreads, 0, stream>>>(xs, ys, scale, shift, total / 8, cs,
                                                                                 has, kind, alpha);
  } else {
    affine_act_kernel<<<half_grid_for(total), kHalfThreads, 0, stream>>>(xs, ys, scale, shift, total, cs, has, kind,
                                                                         alpha);
  }
  KILN_CUDA_CHECK(cudaGetLastError());
}

void launch_add_f16(const void* const* inputs, int count, void* y, std::int64_t n, cudaStream_t stream) {
  if (n == 0 || count < 1) return;
  auto* ys = static_cast<__half*>(y);
  // As launch_add: beyond kAddFanIn inputs, later launches accumulate into y, left to right.
  for (int first = 0; first < count;) {
    AddInputsF16 in{};
    int k = 0;
    if (first > 0) in.p[k++] = ys;
    while (k < kAddFanIn && first < count) in.p[k++] = static_cast<const __half*>(inputs[first++]);
    if (n % 8 == 0) {
      add_vec_kernel<<<half_grid_for(n / 8), kHalfThreads, 0, stream>>>(in, k, ys, n / 8);
    } else {
      add_kernel<<<half_grid_for(n), kHalfThreads, 0, stream>>>(in, k, ys, n);
    }
    KILN_CUDA_CHECK(cudaGetLastError());
  }
}

void launch_upsample_nearest_f16(const void* x, void* y, std::int64_t n, std::int64_t h, std::int64_t w,
                                 std::int64_t cs, std::int64_t sh, std::int64_t sw, cudaStream_t stream) {
  const std::int64_t vecs = cs / 8;  // NHWC channel counts are multiples of 8 (Note [fp16 layout])
  const std::int64_t total = n * h * sh * w * sw * vecs;
  if (total == 0) return;
  upsample_kernel<<<half_grid_for(total), kHalfThreads, 0, stream>>>(static_cast<const uint4*>(x),
                                                                     static_cast<uint4*>(y), total, h, w, vecs, sh, sw);
  KILN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace kiln::gpu
