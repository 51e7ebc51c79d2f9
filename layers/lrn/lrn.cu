#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/lrn/lrn_kernels.h"

namespace kiln::gpu {

namespace {

// One thread per stored element of y, in memory order. Evaluated in the CPU reference's order:
// (sum / size) * alpha + k, then ^beta.
template <class T, class Coords>
__global__ void lrn_kernel(const T* x, T* y, TensorView v, Coords coords, std::int64_t size, float size_f, float alpha,
                           float beta, float k, std::int64_t total) {
  KILN_GRID_STRIDE(i, total) {
    const Coord at = coords(i);
    if (at.c >= v.c) {
      y[i] = from_float<T>(0.0f);
      continue;
    }
    const std::int64_t lo = max(at.c - size / 2, std::int64_t{0});
    const std::int64_t hi = min(at.c + (size - 1) / 2, v.c - 1);
    const T* base = x + offset_of(v, at.n, 0, at.h, at.w);
    float sum = 0.0f;
    for (std::int64_t j = lo; j <= hi; ++j) {
      const float e = to_float(base[j * v.sc]);
      sum += e * e;
    }
    y[i] = from_float<T>(to_float(x[i]) / powf(sum / size_f * alpha + k, beta));
  }
}

}  // namespace

void launch_lrn(const TensorView& x, const TensorView& y, const LrnParams& p, cudaStream_t stream) {
  if (!x.packed() || !y.packed() || x.type != y.type || x.stored_elements() != y.stored_elements() || x.sc != y.sc) {
    throw UsageError("launch_lrn: x and y must be packed views of one shape, layout and type");
  }
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    with_coords(x, [&](auto coords) {
      lrn_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(
          static_cast<const T*>(x.data), static_cast<T*>(y.data), x, coords, p.size, static_cast<float>(p.size),
          static_cast<float>(p.alpha), static_cast<float>(p.beta), static_cast<float>(p.k), total);
      KILN_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace kiln::gpu
