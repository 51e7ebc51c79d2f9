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

// Folds one value into a partial result: the larger (NaN wins, as in PyTorch) or the sum.
__device__ __forceinline__ void pool_combine(float& acc, float v, int is_max) {
  if (is_max) {
    if (v > acc || isnan(v)) acc = v;
  } else {
    acc += v;
  }
}

// The output of a window of `valid` input positions from its V partial results: average pooling
// divides as PyTorch does (divisor_override, else the padded or the valid count); stored pad channels
// (c + j >= real channels) become 0.
template <int V>
__device__ __forceinline__ void pool_finish(float (&acc)[V], const Window& win, const PoolSpan& sh, const PoolSpan& sw,
                                            std::int64_t valid, std::int64_t c, std::int64_t channels) {
  if (!win.is_max) {
    const std::int64_t count = win.divisor > 0 ? win.divisor : win.count_pad ? sh.padded * sw.padded : valid;
#pragma unroll
    for (int j = 0; j < V; ++j) acc[j] = valid == 0 ? 0.0f : acc[j] / static_cast<float>(count);
  }
#pragma unroll
  for (int j = 0; j < V; ++j)
    if (c + j >= channels) acc[j] = 0.0f;  // fp16 pad channels
}

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
        for (int j = 0; j < V; ++j) pool_combine(acc[j], f[j], win.is_max);
      }
    pool_finish<V>(acc, win, sh, sw, span_count(sh) * span_count(sw), k.c, xv.c);
    store_n<T, V>(y + v * V, acc);
  }
}

// Large windows (global pooling, SE blocks' squeeze: 112x112 positions per output) — a block per
// output position and tile of channels, its threads splitting the window, then a fixed-order tree
// reduction in shared memory (so results are bit-identical run to run). The per-thread kernel above
// would walk such a window serially in a handful of threads (EfficientNet-B0's first squeeze: 6 ms).
// Threads: `lanes` channel lanes x (kThreads / lanes) window lanes; with the channels innermost the
// channel lanes are adjacent threads (coalesced 16-byte loads), else the window lanes are (NCHW rows).
template <class T, int V, bool ChannelsInner>
__global__ void pool_window_kernel(const T* x, T* y, TensorView xv, TensorView yv, Window win, int lanes) {
  __shared__ float partial[kThreads][V];
  const int rows = kThreads / lanes;
  const int lane = ChannelsInner ? threadIdx.x % lanes : threadIdx.x / rows;
  const int row = ChannelsInner ? threadIdx.x / lanes : threadIdx.x % rows;
  const std::int64_t c = (static_cast<std::int64_t>(blockIdx.y) * lanes + lane) * V;
  std::int64_t o = blockIdx.x;  // n, oh, ow of y
  const std::int64_t ow = o % yv.w;
  o /= yv.w;
  const std::int64_t oh = o % yv.h;
  const std::int64_t n = o / yv.h;
  const PoolSpan sh = pool_span(win.h, oh), sw = pool_span(win.w, ow);
  const std::uint32_t cols = static_cast<std::uint32_t>(span_count(sw));
  const std::uint32_t area = static_cast<std::uint32_t>(span_count(sh)) * cols;
  float acc[V];
#pragma unroll
  for (int j = 0; j < V; ++j) acc[j] = win.is_max ? -INFINITY : 0.0f;
  if (c < xv.cs) {
    for (std::uint32_t q = row; q < area; q += rows) {
      const std::int64_t hh = sh.lo + static_cast<std::int64_t>(q / cols) * sh.step;
      const std::int64_t ww = sw.lo + static_cast<std::int64_t>(q % cols) * sw.step;
      float f[V];
      load_n<T, V>(x + offset_of(xv, n, c, hh, ww), f);
#pragma unroll
      for (int j = 0; j < V; ++j) pool_combine(acc[j], f[j], win.is_max);
    }
  }
  const int me = row * lanes + lane;
#pragma unroll
  for (int j = 0; j < V; ++j) partial[me][j] = acc[j];
  __syncthreads();
  for (int half = rows / 2; half > 0; half /= 2) {
    if (row < half) {
      const int other = (row + half) * lanes + lane;
#pragma unroll
      for (int j = 0; j < V; ++j) pool_combine(partial[me][j], partial[other][j], win.is_max);
    }
    __syncthreads();
  }
  if (row != 0 || c >= xv.cs) return;
#pragma unroll
  for (int j = 0; j < V; ++j) acc[j] = partial[me][j];
  pool_finish<V>(acc, win, sh, sw, static_cast<std::int64_t>(area), c, xv.c);
  store_n<T, V>(y + offset_of(yv, n, c, oh, ow), acc);
}

// The most input positions one output's window can hold on an axis.
std::int64_t window_extent(const PoolAxis& a) {
  return a.adaptive ? (a.in + a.out - 1) / a.out + 1 : a.kernel;
}

// Windows of at least this many positions go to pool_window_kernel: below it a thread per output
// keeps more outputs in flight than a block per output would (ResNet's 3x3 max pool, 7x7 average).
constexpr std::int64_t kLargeWindow = 64;

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
    const std::int64_t window = window_extent(win.h) * window_extent(win.w);
    const std::int64_t outputs = y.n * y.h * y.w;
    if (window >= kLargeWindow && window < (std::int64_t{1} << 31) && outputs < (std::int64_t{1} << 31)) {
      // Channel lanes: with the channels innermost, up to 32 vectors of channels side by side (a power
      // of two, so the window lanes' tree halves evenly); in NCHW, 8 channels of 32 window lanes each.
      const std::int64_t vectors = vector ? x.cs / kV : x.cs;
      int lanes = 8;
      if (x.channels_inner()) {
        lanes = 1;
        while (lanes < 32 && lanes < vectors) lanes *= 2;
      }
      const dim3 grid(static_cast<unsigned>(outputs), static_cast<unsigned>((vectors + lanes - 1) / lanes));
      if (grid.y > 65535) throw UsageError("launch_pool: too many channels for one pooling launch");
      if (vector) {
        pool_window_kernel<T, kV, true><<<grid, kThreads, 0, stream>>>(xs, ys, x, y, win, lanes);
      } else if (x.channels_inner()) {
        pool_window_kernel<T, 1, true><<<grid, kThreads, 0, stream>>>(xs, ys, x, y, win, lanes);
      } else {
        pool_window_kernel<T, 1, false><<<grid, kThreads, 0, stream>>>(xs, ys, x, y, win, lanes);
      }
      KILN_CUDA_CHECK(cudaGetLastError());
      return;
    }
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
