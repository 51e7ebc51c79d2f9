#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/upsample/upsample_kernels.h"
#include "layers/upsample/upsample_math.h"

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

// Nearest with PyTorch's float mapping; `exact` picks 'nearest-exact'.
template <class T, int V, class Coords>
__global__ void nearest_kernel(const T* x, T* y, TensorView xv, Coords coords_of_y, ResampleAxis ah, ResampleAxis aw,
                               int exact, std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    const Coord k = coords_of_y(v * V);
    const std::int64_t h = exact ? nearest_exact_source(ah, k.h) : nearest_source(ah, k.h);
    const std::int64_t w = exact ? nearest_exact_source(aw, k.w) : nearest_source(aw, k.w);
    const T* src = x + offset_of(xv, k.n, k.c, h, w);
    if constexpr (V == 1) {
      y[v] = *src;
    } else {
      *reinterpret_cast<uint4*>(y + v * V) = *reinterpret_cast<const uint4*>(src);
    }
  }
}

// Bilinear: four taps blended in float in the CPU reference's order.
template <class T, int V, class Coords>
__global__ void bilinear_kernel(const T* x, T* y, TensorView xv, Coords coords_of_y, ResampleAxis ah, ResampleAxis aw,
                                int align_corners, std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    const Coord k = coords_of_y(v * V);
    const LinearTap a = linear_tap(ah, align_corners != 0, k.h);
    const LinearTap b = linear_tap(aw, align_corners != 0, k.w);
    float x00[V], x01[V], x10[V], x11[V], out[V];
    load_n<T, V>(x + offset_of(xv, k.n, k.c, a.i0, b.i0), x00);
    load_n<T, V>(x + offset_of(xv, k.n, k.c, a.i0, b.i1), x01);
    load_n<T, V>(x + offset_of(xv, k.n, k.c, a.i1, b.i0), x10);
    load_n<T, V>(x + offset_of(xv, k.n, k.c, a.i1, b.i1), x11);
#pragma unroll
    for (int j = 0; j < V; ++j)
      out[j] = a.w0 * (b.w0 * x00[j] + b.w1 * x01[j]) + a.w1 * (b.w0 * x10[j] + b.w1 * x11[j]);
    store_n<T, V>(y + v * V, out);
  }
}

bool same_layout(const TensorView& x, const TensorView& y) {
  return x.packed() && y.packed() && x.type == y.type && x.cs == y.cs && x.n == y.n;
}

}  // namespace

void launch_upsample_nearest(const TensorView& x, const TensorView& y, std::int64_t sh, std::int64_t sw,
                             cudaStream_t stream) {
  if (!same_layout(x, y) || y.h != x.h * sh || y.w != x.w * sw) {
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

void launch_upsample_resample(const TensorView& x, const TensorView& y, const UpsampleParams& p, cudaStream_t stream) {
  if (!same_layout(x, y)) throw UsageError("launch_upsample_resample: x and y must be packed views of one layout");
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  const ResampleAxis ah = upsample_axis(p, x.h, y.h), aw = upsample_axis(p, x.w, y.w);
  const bool bilinear = p.mode == UpsampleMode::Bilinear;
  const int flag = bilinear ? (p.align_corners ? 1 : 0) : (p.mode == UpsampleMode::NearestExact ? 1 : 0);
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kV = kVec<T>;
    const auto* xs = static_cast<const T*>(x.data);
    auto* ys = static_cast<T*>(y.data);
    const bool vector = channel_vectors_fit<T>(x, y);
    with_coords(y, [&](auto coords) {
      const std::int64_t items = vector ? total / kV : total;
      const unsigned grid = grid_for(items);
      if (bilinear && vector) {
        bilinear_kernel<T, kV><<<grid, kThreads, 0, stream>>>(xs, ys, x, coords, ah, aw, flag, items);
      } else if (bilinear) {
        bilinear_kernel<T, 1><<<grid, kThreads, 0, stream>>>(xs, ys, x, coords, ah, aw, flag, items);
      } else if (vector) {
        nearest_kernel<T, kV><<<grid, kThreads, 0, stream>>>(xs, ys, x, coords, ah, aw, flag, items);
      } else {
        nearest_kernel<T, 1><<<grid, kThreads, 0, stream>>>(xs, ys, x, coords, ah, aw, flag, items);
      }
      KILN_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace kiln::gpu
