#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/activation/activation_math.h"
#include "layers/conv/conv_kernel_args.cuh"
#include "layers/conv/depthwise_kernels.h"

namespace kiln::gpu {

namespace {

// One thread per V stored elements of y in memory order; V > 1 only with the channels innermost, so
// the V elements are consecutive channels of one output position and every tap is one 16-byte load of
// x and one of the filter. Consecutive threads take consecutive memory of y (coalesced stores; their
// loads of x overlap, which L1 serves).
template <class T, int V, class Coords>
__global__ void depthwise_kernel(const T* x, const T* taps, T* y, TensorView xv, Coords coords_of_y, ConvWindow win,
                                 std::int64_t tap_stride, std::int64_t channel_stride, ConvEpilogue e,
                                 std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    const Coord k = coords_of_y(v * V);
    float acc[V];
#pragma unroll
    for (int j = 0; j < V; ++j) acc[j] = 0.0f;
    const T* wc = taps + k.c * channel_stride;
    for (int i = 0; i < win.kh; ++i) {
      const std::int64_t hh = k.h * win.sh - win.ph + i * win.dh;
      if (hh < 0 || hh >= xv.h) continue;
      for (int j = 0; j < win.kw; ++j) {
        const std::int64_t ww = k.w * win.sw - win.pw + j * win.dw;
        if (ww < 0 || ww >= xv.w) continue;
        float f[V], g[V];
        load_n<T, V>(x + offset_of(xv, k.n, k.c, hh, ww), f);
        load_n<T, V>(wc + (i * win.kw + j) * tap_stride, g);
#pragma unroll
        for (int q = 0; q < V; ++q) acc[q] = fmaf(f[q], g[q], acc[q]);
      }
    }
#pragma unroll
    for (int q = 0; q < V; ++q) {
      const std::int64_t c = k.c + q;
      float r = e.bias ? acc[q] + e.bias[c] : acc[q];
      if (e.on) r = activate(r, e.kind, e.alpha, e.beta, 0.0f);
      acc[q] = c < xv.c ? r : 0.0f;  // fp16 pad channels
    }
    store_n<T, V>(y + v * V, acc);
  }
}

}  // namespace

void launch_depthwise(const TensorView& x, const TensorView& y, const DepthwiseFilter& filter, const float* bias,
                      const ActivationParams* act, const ConvParams& p, cudaStream_t stream) {
  if (!x.packed() || !y.packed() || x.type != y.type || x.cs != y.cs || x.c != y.c || x.n != y.n ||
      p.transposed || p.groups != x.c || p.in_channels != x.c || p.out_channels != x.c ||
      y.h != conv_out_size(x.h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]) ||
      y.w != conv_out_size(x.w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1])) {
    throw UsageError("launch_depthwise: x and y must be packed views of one layout that the depthwise convolution maps");
  }
  if (act && act->kind == ActivationKind::Prelu) throw UsageError("launch_depthwise: prelu is not a convolution epilogue");
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  const ConvWindow win = conv_window(p);
  const ConvEpilogue e = conv_epilogue(bias, act);
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kV = kVec<T>;
    const auto* xs = static_cast<const T*>(x.data);
    const auto* ws = static_cast<const T*>(filter.taps);
    auto* ys = static_cast<T*>(y.data);
    const bool vector = channel_vectors_fit<T>(x, y) && filter.channel_stride == 1 && filter.tap_stride % kV == 0 &&
                        aligned16(filter.taps);
    with_coords(y, [&](auto coords) {
      if (vector) {
        depthwise_kernel<T, kV><<<grid_for(total / kV), kThreads, 0, stream>>>(
            xs, ws, ys, x, coords, win, filter.tap_stride, filter.channel_stride, e, total / kV);
      } else {
        depthwise_kernel<T, 1><<<grid_for(total), kThreads, 0, stream>>>(
            xs, ws, ys, x, coords, win, filter.tap_stride, filter.channel_stride, e, total);
      }
      KILN_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace kiln::gpu
