#include <type_traits>

#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/activation/activation_math.h"
#include "layers/conv/conv_kernel_args.cuh"
#include "layers/conv/direct_conv_kernels.h"

namespace kiln::gpu {

namespace {

// acc[q] += v * w[q] for the CB filter values of one (tap, input channel), read from shared memory as
// float4s: every thread of the block reads the same address, which shared memory broadcasts.
template <int CB>
__device__ __forceinline__ void accumulate(float (&acc)[CB], float v, const float* w) {
#pragma unroll
  for (int q = 0; q < CB; q += 4) {
    const float4 g = *reinterpret_cast<const float4*>(w + q);
    acc[q] = fmaf(v, g.x, acc[q]);
    acc[q + 1] = fmaf(v, g.y, acc[q + 1]);
    acc[q + 2] = fmaf(v, g.z, acc[q + 2]);
    acc[q + 3] = fmaf(v, g.w, acc[q + 3]);
  }
}

// One thread per output position (n, h, w) and block of CB output channels (blockIdx.y); the block's
// filter slice lives in shared memory as [tap][input channel][CB] floats, zeros past the last output
// channel. V = 8 reads 8 channels of half NHWC x per 16-byte load; V = 1 reads x through its channel
// stride (float32 NCHW, where consecutive threads read consecutive positions of one plane).
template <class T, int V, int CB, class Positions>
__global__ void __launch_bounds__(kThreads)
    direct_conv_kernel(const T* x, T* y, const float* w, TensorView xv, TensorView yv, Positions position_of,
                       ConvWindow win, int cin, int cout, ConvEpilogue e, std::int64_t positions) {
  extern __shared__ float4 shared_filter[];
  float* s_w = reinterpret_cast<float*>(shared_filter);
  const int k0 = static_cast<int>(blockIdx.y) * CB;
  const int taps = win.kh * win.kw;
  const int slice = taps * cin * CB;
  for (int i = threadIdx.x; i < slice; i += blockDim.x) {
    const int q = i % CB;
    const int c = (i / CB) % cin;
    const int t = i / (CB * cin);
    const int k = k0 + q;
    s_w[i] = k < cout ? w[(static_cast<std::int64_t>(k) * cin + c) * taps + t] : 0.0f;
  }
  __syncthreads();

  KILN_GRID_STRIDE(pos, positions) {
    const Coord o = position_of(pos);  // c is 0: the position view has one channel
    float acc[CB];
#pragma unroll
    for (int q = 0; q < CB; ++q) acc[q] = 0.0f;
    for (int i = 0; i < win.kh; ++i) {
      const std::int64_t hh = o.h * win.sh - win.ph + i * win.dh;
      if (hh < 0 || hh >= xv.h) continue;
      for (int j = 0; j < win.kw; ++j) {
        const std::int64_t ww = o.w * win.sw - win.pw + j * win.dw;
        if (ww < 0 || ww >= xv.w) continue;
        const T* xp = x + offset_of(xv, o.n, 0, hh, ww);
        const float* wt = s_w + (i * win.kw + j) * cin * CB;
        if constexpr (V > 1) {
          for (int c0 = 0; c0 < cin; c0 += V) {
            float f[V];
            load_vec<T>(xp + c0, f);
#pragma unroll
            for (int q = 0; q < V; ++q) {
              if (c0 + q < cin) accumulate<CB>(acc, f[q], wt + (c0 + q) * CB);
            }
          }
        } else {
          for (int c = 0; c < cin; ++c) accumulate<CB>(acc, to_float(xp[c * xv.sc]), wt + c * CB);
        }
      }
    }
#pragma unroll
    for (int q = 0; q < CB; ++q) {
      const int k = k0 + q;
      float r = e.bias && k < yv.cs ? acc[q] + e.bias[k] : acc[q];
      if (e.on) r = activate(r, e.kind, e.alpha, e.beta, 0.0f);
      acc[q] = k < cout ? r : 0.0f;  // pad channels of half NHWC
    }
    T* yp = y + offset_of(yv, o.n, k0, o.h, o.w);
    if constexpr (V > 1) {
      // Half NHWC: 8 channels per 16-byte store (CB = 4 only when cout <= 4, then with 4 zero pads), the
      // stored channels only.
#pragma unroll
      for (int q0 = 0; q0 < CB; q0 += kVec<T>) {
        float out[kVec<T>];
#pragma unroll
        for (int q = 0; q < kVec<T>; ++q) out[q] = q0 + q < CB ? acc[q0 + q] : 0.0f;
        if (k0 + q0 < yv.cs) store_vec<T>(yp + q0, out);
      }
    } else {
#pragma unroll
      for (int q = 0; q < CB; ++q) {
        if (k0 + q < yv.cs) yp[q * yv.sc] = from_float<T>(acc[q]);
      }
    }
  }
}

template <class T, int V, int CB>
void launch(const TensorView& x, const TensorView& y, const float* w, const ConvWindow& win, int cin, int cout,
            const ConvEpilogue& e, std::size_t shared, cudaStream_t stream) {
  // The output positions as a one-channel packed NCHW view: its coordinates are (n, 0, h, w).
  TensorView positions;
  positions.n = y.n;
  positions.h = y.h;
  positions.w = y.w;
  positions.sw = 1;
  positions.sh = y.w;
  positions.sc = positions.sn = y.h * y.w;
  const std::int64_t count = positions.stored_elements();
  const dim3 grid(grid_for(count), static_cast<unsigned>((cout + CB - 1) / CB));
  with_coords(positions, [&](auto coords) {
    direct_conv_kernel<T, V, CB><<<grid, kThreads, shared, stream>>>(
        static_cast<const T*>(x.data), static_cast<T*>(y.data), w, x, y, coords, win, cin, cout, e, count);
    KILN_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace

void launch_direct_conv(const TensorView& x, const TensorView& y, const float* w, const float* bias,
                        const ActivationParams* act, const ConvParams& p, cudaStream_t stream) {
  const bool half = y.type == ElementType::F16;
  if (!x.packed() || !y.packed() || x.type != y.type || x.n != y.n || p.transposed || p.groups != 1 ||
      p.in_channels != x.c || p.out_channels != y.c ||
      y.h != conv_out_size(x.h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]) ||
      y.w != conv_out_size(x.w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]) ||
      (half && (!x.channels_inner() || !y.channels_inner() || x.cs % 8 != 0 || y.cs % 8 != 0 || !aligned16(x.data) ||
                !aligned16(y.data)))) {
    throw UsageError("launch_direct_conv: x and y must be packed views of one layout that the convolution maps");
  }
  if (act && act->kind == ActivationKind::Prelu) throw UsageError("launch_direct_conv: prelu is not a convolution epilogue");
  const std::int64_t shared = direct_conv_shared_bytes(p);
  if (shared > kDirectConvMaxSharedBytes) {
    throw UsageError("launch_direct_conv: the filter slice needs " + std::to_string(shared) + " bytes of shared memory, more than " +
                     std::to_string(kDirectConvMaxSharedBytes));
  }
  if (y.stored_elements() == 0) return;
  const ConvWindow win = conv_window(p);
  const ConvEpilogue e = conv_epilogue(bias, act);
  const int cin = static_cast<int>(p.in_channels);
  const int cout = static_cast<int>(p.out_channels);
  const auto bytes = static_cast<std::size_t>(shared);
  const int block = direct_conv_channel_block(p);
  const auto go = [&](auto element, auto vector) {
    using T = decltype(element);
    constexpr int kV = decltype(vector)::value;
    if (block == 4) {
      launch<T, kV, 4>(x, y, w, win, cin, cout, e, bytes, stream);
    } else if (block == 8) {
      launch<T, kV, 8>(x, y, w, win, cin, cout, e, bytes, stream);
    } else {
      launch<T, kV, 32>(x, y, w, win, cin, cout, e, bytes, stream);
    }
  };
  if (half) {
    go(__half{}, std::integral_constant<int, 8>{});
  } else {
    go(float{}, std::integral_constant<int, 1>{});
  }
}

}  // namespace kiln::gpu
