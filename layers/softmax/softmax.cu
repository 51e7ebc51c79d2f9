#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/softmax/softmax_kernels.h"

namespace kiln::gpu {

namespace {

// One warp per position: lanes stride the channels, shuffles reduce.
template <class T>
__global__ void softmax_kernel(const T* x, T* y, TensorView v, std::int64_t positions) {
  const int lane = threadIdx.x % 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * blockDim.x / 32;
  for (std::int64_t p = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32; p < positions;
       p += warps) {
    const std::int64_t w = p % v.w, h = (p / v.w) % v.h, n = p / (v.w * v.h);
    const std::int64_t base = offset_of(v, n, 0, h, w);
    const T* xp = x + base;
    T* yp = y + base;
    float top = -INFINITY;
    for (std::int64_t c = lane; c < v.c; c += 32) top = fmaxf(top, to_float(xp[c * v.sc]));
    for (int o = 16; o > 0; o /= 2) top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, o));
    float sum = 0.0f;
    for (std::int64_t c = lane; c < v.c; c += 32) sum += expf(to_float(xp[c * v.sc]) - top);
    for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    // Every lane has read all it needs (the reductions above), so writing in place is safe.
    for (std::int64_t c = lane; c < v.cs; c += 32) {
      yp[c * v.sc] = from_float<T>(c < v.c ? expf(to_float(xp[c * v.sc]) - top) / sum : 0.0f);
    }
  }
}

}  // namespace

void launch_softmax(const TensorView& x, const TensorView& y, cudaStream_t stream) {
  if (x.type != y.type || x.n != y.n || x.c != y.c || x.cs != y.cs || x.h != y.h || x.w != y.w || x.sn != y.sn ||
      x.sc != y.sc || x.sh != y.sh || x.sw != y.sw) {
    throw UsageError("launch_softmax: x and y must be views of one shape and layout");
  }
  const std::int64_t positions = y.n * y.h * y.w;
  if (positions == 0) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    softmax_kernel<T><<<grid_for(positions * 32), kThreads, 0, stream>>>(static_cast<const T*>(x.data),
                                                                         static_cast<T*>(y.data), x, positions);
    KILN_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace kiln::gpu
