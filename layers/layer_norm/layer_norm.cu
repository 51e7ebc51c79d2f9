#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/layer_norm/layer_norm_kernels.h"

namespace kiln::gpu {

namespace {

// Sum over the kLanes consecutive lanes of a group (groups never straddle a warp).
template <int kLanes>
__device__ __forceinline__ float group_sum(float v) {
  for (int o = kLanes / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// kLanes threads per position (32 or 1). All lanes of a group share p, so a warp's lanes take the
// shuffles together; every lane has read all it needs before any writes, so y may be x.
template <class T, int kLanes>
__global__ void layer_norm_kernel(const T* x, T* y, TensorView v, const float* weight, const float* bias, float eps,
                                  std::int64_t positions) {
  const int lane = static_cast<int>(threadIdx.x % kLanes);
  const std::int64_t groups = static_cast<std::int64_t>(gridDim.x) * blockDim.x / kLanes;
  const float count = static_cast<float>(v.c);
  for (std::int64_t p = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / kLanes; p < positions;
       p += groups) {
    const std::int64_t w = p % v.w, h = (p / v.w) % v.h, n = p / (v.w * v.h);
    const std::int64_t base = offset_of(v, n, 0, h, w);
    const T* xp = x + base;
    T* yp = y + base;
    float sum = 0.0f;
    for (std::int64_t c = lane; c < v.c; c += kLanes) sum += to_float(xp[c * v.sc]);
    const float mean = group_sum<kLanes>(sum) / count;
    // The second pass also sums the deviations: their mean is the rounding error of `mean`, which a
    // sum of many values far from 0 makes large next to the spread; correcting by it (and the
    // variance by its square) keeps float close to the double reference.
    float dev = 0.0f, sq = 0.0f;
    for (std::int64_t c = lane; c < v.c; c += kLanes) {
      const float d = to_float(xp[c * v.sc]) - mean;
      dev += d;
      sq += d * d;
    }
    const float shift = group_sum<kLanes>(dev) / count;
    const float centre = mean + shift;
    const float var = fmaxf(group_sum<kLanes>(sq) / count - shift * shift, 0.0f);
    const float inv = 1.0f / sqrtf(var + eps);
    for (std::int64_t c = lane; c < v.cs; c += kLanes) {
      float out = 0.0f;
      if (c < v.c) {
        out = (to_float(xp[c * v.sc]) - centre) * inv;
        if (weight) out *= weight[c];
        if (bias) out += bias[c];
      }
      yp[c * v.sc] = from_float<T>(out);
    }
  }
}

}  // namespace

void launch_layer_norm(const TensorView& x, const TensorView& y, const float* weight, const float* bias, float eps,
                       cudaStream_t stream) {
  if (x.type != y.type || x.n != y.n || x.c != y.c || x.cs != y.cs || x.h != y.h || x.w != y.w || x.sn != y.sn ||
      x.sc != y.sc || x.sh != y.sh || x.sw != y.sw) {
    throw UsageError("launch_layer_norm: x and y must be views of one shape and layout");
  }
  const std::int64_t positions = y.n * y.h * y.w;
  if (positions == 0) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    if (x.channels_inner()) {
      layer_norm_kernel<T, 32><<<grid_for(positions * 32), kThreads, 0, stream>>>(
          static_cast<const T*>(x.data), static_cast<T*>(y.data), x, weight, bias, eps, positions);
    } else {
      layer_norm_kernel<T, 1><<<grid_for(positions), kThreads, 0, stream>>>(
          static_cast<const T*>(x.data), static_cast<T*>(y.data), x, weight, bias, eps, positions);
    }
    KILN_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace kiln::gpu
