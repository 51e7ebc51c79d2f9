#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/pool/pool_kernels.h"
#include "layers/pool/pool_window.h"

namespace kiln::gpu {

namespace {

struct Window {
  PoolAxis h, w;
  int is_max;
  int count_pad;
  std::int64_t divisor;  // 0: none
};

// One thread per V stored elements of y in memory order; V > 1 only with the channels innermost, so
// the V elements are consecutive channels of one output position.
template <class T, int V, class Coords>
__global__ void pool_kernel(const T* x, T* y, TensorView xv, Coords coords_of_y, Window win, std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    const Coord k = coords_of_y(v * V);
    const PoolSpan sh = pool_span(win.h, k.h), sw = pool_span(win.w, k.w);
    float acc[V];
#pragma unroll
    for (int j = 0; j < V; ++j) acc[j] = win.is_max ? -INFINITY : 0.0f;
    for (std::int64_t hh = sh.lo; hh < sh.hi; hh += sh.step)
      for (std::int64_t ww = sw.lo; ww < sw.hi; ww += sw.step) {
        float f[V];
        load_n<T, V>(x + offset_of(xv, k.n, k.c, hh, ww), f);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          if (win.is_max) {
            if (f[j] > acc[j] || isnan(f[j])) acc[j] = f[j];
          } else {
            acc[j] += f[j];
          }
        }
      }
    if (!win.is_max) {
      const std::int64_t valid = span_count(sh) * span_count(sw);
      const std::int64_t count = win.divisor > 0 ? win.divisor : win.count_pad ? sh.padded * sw.padded : valid;
#pragma unroll
      for (int j = 0; j < V; ++j) acc[j] = valid == 0 ? 0.0f : acc[j] / static_cast<float>(count);
    }
#pragma unroll
    for (int j = 0; j < V; ++j)
      if (k.c + j >= xv.c) acc[j] = 0.0f;  // fp16 pad channels
    store_n<T, V>(y + v * V, acc);
  }
}

}  // namespace

void launch_pool(const TensorView& x, const TensorView& y, const PoolParams& p, cudaStream_t stream) {
  if (!x.packed() || !y.packed() || x.type != y.type || x.cs != y.cs || x.c != y.c || x.n != y.n) {
    throw UsageError("launch_pool: x and y must be packed views of one layout and channel count");
  }
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  const Window win{pool_axis(p, 0, x.h, y.h), pool_axis(p, 1, x.w, y.w), pool_takes_max(p.mode) ? 1 : 0,
                   p.count_include_pad ? 1 : 0, p.divisor_override};
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kV = kVec<T>;
    const auto* xs = static_cast<const T*>(x.data);
    auto* ys = static_cast<T*>(y.data);
    const bool vector = channel_vectors_fit<T>(x, y);
    with_coords(y, [&](auto coords) {
      if (vector) {
        pool_kernel<T, kV><<<grid_for(total / kV), kThreads, 0, stream>>>(xs, ys, x, coords, win, total / kV);
      } else {
        pool_kernel<T, 1><<<grid_for(total), kThreads, 0, stream>>>(xs, ys, x, coords, win, total);
      }
      KILN_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace kiln::gpu
