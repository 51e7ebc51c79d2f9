#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/upsample/upsample_kernels.h"

namespace kiln::gpu {

namespace {

// One thread per V stored elements of y in memory order. V > 1 only with the channels innermost
// (cs % V == 0), so the V elements are consecutive channels of one position.
template <class T, int V, class Coords>
__global__ void upsample_kernel(const T* x, T* y, TensorView xv, Coords coords_of_y, std::int64_t sh, std::int64_t sw,
                                std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    const Coord k = coords_of_y(v * V);
    const T* src = x + offset_of(xv, k.n, k.c, k.h / sh, k.w / sw);
    if constexpr (V == 1) {
      y[v] = *src;
    } else {
      *reinterpret_cast<uint4*>(y + v * V) = *reinterpret_cast<const uint4*>(src);
    }
  }
}

}  // namespace

void launch_upsample_nearest(const TensorView& x, const TensorView& y, std::int64_t sh, std::int64_t sw,
                             cudaStream_t stream) {
  if (!x.packed() || !y.packed() || x.type != y.type || x.cs != y.cs || y.h != x.h * sh || y.w != x.w * sw) {
    throw UsageError("launch_upsample_nearest: x and y must be packed views of one layout, y scaled from x");
  }
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kV = kVec<T>;
    const auto* xs = static_cast<const T*>(x.data);
    auto* ys = static_cast<T*>(y.data);
    const bool vector = channel_vectors_fit<T>(x, y);
    with_coords(y, [&](auto coords) {
      if (vector) {
        upsample_kernel<T, kV><<<grid_for(total / kV), kThreads, 0, stream>>>(xs, ys, x, coords, sh, sw, total / kV);
      } else {
        upsample_kernel<T, 1><<<grid_for(total), kThreads, 0, stream>>>(xs, ys, x, coords, sh, sw, total);
      }
      KILN_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace kiln::gpu
