#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/pool/pool_kernels.h"

namespace kiln::gpu {

namespace {

struct Window {
  std::int64_t kh, kw, sh, sw, ph, pw;
  int is_max;
  int count_pad;
};

// One thread per V stored elements of y in memory order; V > 1 only with the channels innermost, so
// the V elements are consecutive channels of one output position.
template <class T, int V, class Coords>
__global__ void pool_kernel(const T* x, T* y, TensorView xv, Coords coords_of_y, Window win, std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    const Coord k = coords_of_y(v * V);
    std::int64_t h0 = k.h * win.sh - win.ph, w0 = k.w * win.sw - win.pw;
    std::int64_t h1 = min(h0 + win.kh, xv.h + win.ph), w1 = min(w0 + win.kw, xv.w + win.pw);
    const std::int64_t padded_count = (h1 - h0) * (w1 - w0);
    h0 = max(h0, std::int64_t{0});
    w0 = max(w0, std::int64_t{0});
    h1 = min(h1, xv.h);
    w1 = min(w1, xv.w);
    float acc[V];
#pragma unroll
    for (int j = 0; j < V; ++j) acc[j] = win.is_max ? -INFINITY : 0.0f;
    for (std::int64_t hh = h0; hh < h1; ++hh)
      for (std::int64_t ww = w0; ww < w1; ++ww) {
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
      const float count = static_cast<float>(win.count_pad ? padded_count : (h1 - h0) * (w1 - w0));
#pragma unroll
      for (int j = 0; j < V; ++j) acc[j] /= count;
    }
    store_n<T, V>(y + v * V, acc);
  }
}

}  // namespace

void launch_pool(const TensorView& x, const TensorView& y, const PoolParams& p, cudaStream_t stream) {
  if (!x.packed() || !y.packed() || x.type != y.type || x.cs != y.cs || x.n != y.n) {
    throw UsageError("launch_pool: x and y must be packed views of one layout and channel count");
  }
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  const Window win{p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1],
                   p.mode == PoolMode::Max ? 1 : 0, p.count_include_pad ? 1 : 0};
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
