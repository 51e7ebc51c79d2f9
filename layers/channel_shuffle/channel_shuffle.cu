#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/channel_shuffle/channel_shuffle.h"
#include "layers/channel_shuffle/channel_shuffle_kernels.h"

namespace kiln::gpu {

namespace {

// One thread per stored element of y, in y's memory order (coalesced writes); the reads gather
// across channels, which in half NHWC stay within one position's row of channels.
template <class T, class Coords>
__global__ void channel_shuffle_kernel(const T* x, T* y, TensorView xv, Coords coords_of_y, std::int64_t channels,
                                       std::int64_t groups, std::int64_t total) {
  KILN_GRID_STRIDE(i, total) {
    const Coord k = coords_of_y(i);
    const std::int64_t src = k.c < channels ? shuffle_source(k.c, channels, groups) : 0;
    y[i] = k.c < channels ? x[offset_of(xv, k.n, src, k.h, k.w)] : from_float<T>(0.0f);
  }
}

}  // namespace

void launch_channel_shuffle(const TensorView& x, const TensorView& y, std::int64_t groups, cudaStream_t stream) {
  if (x.type != y.type || x.n != y.n || x.c != y.c || x.h != y.h || x.w != y.w || !y.packed() || groups < 1 ||
      y.c % groups != 0) {
    throw UsageError("launch_channel_shuffle: x and y must agree in element type and size, y packed, groups (" +
                     std::to_string(groups) + ") dividing the " + std::to_string(y.c) + " channels");
  }
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    const auto* xs = static_cast<const T*>(x.data);
    auto* ys = static_cast<T*>(y.data);
    with_coords(y, [&](auto coords) {
      channel_shuffle_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(xs, ys, x, coords, y.c, groups, total);
      KILN_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace kiln::gpu
