#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/conv/conv_kernel_args.cuh"
#include "layers/conv/im2col_kernels.h"

namespace kiln::gpu {

namespace {

struct Im2colShape {
  int in_h, in_w, cs, c;
  int taps_c;  // kh * kw * c: the real elements of a row
  int row_length;
  // Index arithmetic by divisors fixed at launch (every index < 2^31, checked on the host).
  FastDivmod by_row_groups, by_out_w, by_out_h, by_c, by_kw;
};

// One thread per 8 consecutive elements of a row (one 16-byte store). The element's (r, s, c) is
// found once by division and then stepped, since 8 elements cross at most a few taps.
__global__ void __launch_bounds__(kThreads)
    im2col_kernel(const __half* __restrict__ x, __half* __restrict__ cols, Im2colShape g, ConvWindow win,
                  std::uint32_t first, std::uint32_t items) {
  for (std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < items; i += gridDim.x * blockDim.x) {
    std::uint32_t row, group, t, ow, n, oh, tap, c, r, s;
    g.by_row_groups.divmod(i, row, group);
    g.by_out_w.divmod(first + row, t, ow);
    g.by_out_h.divmod(t, n, oh);
    const int k0 = static_cast<int>(group) * 8;
    g.by_c.divmod(static_cast<std::uint32_t>(k0), tap, c);
    g.by_kw.divmod(tap, r, s);
    const __half* image = x + static_cast<std::int64_t>(n) * g.in_h * g.in_w * g.cs;
    const int h0 = static_cast<int>(oh) * win.sh - win.ph;
    const int w0 = static_cast<int>(ow) * win.sw - win.pw;
    uint4 packed;
    __half* v = reinterpret_cast<__half*>(&packed);
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      __half value = __float2half_rn(0.0f);
      const int ih = h0 + static_cast<int>(r) * win.dh;
      const int iw = w0 + static_cast<int>(s) * win.dw;
      if (k0 + e < g.taps_c && ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w) {
        value = image[(static_cast<std::int64_t>(ih) * g.in_w + iw) * g.cs + c];
      }
      v[e] = value;
      if (++c == g.by_c.divisor()) {
        c = 0;
        if (++s == g.by_kw.divisor()) {
          s = 0;
          ++r;
        }
      }
    }
    *reinterpret_cast<uint4*>(cols + static_cast<std::int64_t>(row) * g.row_length + k0) = packed;
  }
}

}  // namespace

void launch_im2col(const TensorView& x, const ConvParams& p, std::int64_t out_h, std::int64_t out_w,
                   std::int64_t first, std::int64_t count, std::int64_t row_length, void* cols, cudaStream_t stream) {
  const std::int64_t taps_c = p.kernel[0] * p.kernel[1] * p.in_channels;
  if (x.type != ElementType::F16 || !x.packed() || !x.channels_inner() || x.cs % 8 != 0 || !aligned16(x.data) ||
      !aligned16(cols) || p.transposed || p.groups != 1 || p.in_channels != x.c || row_length % 8 != 0 ||
      row_length < taps_c || out_h != conv_out_size(x.h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]) ||
      out_w != conv_out_size(x.w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]) || first < 0 || count < 0 ||
      first + count > x.n * out_h * out_w || x.n * out_h * out_w >= (std::int64_t{1} << 31) ||
      x.h >= (std::int64_t{1} << 31) || x.w >= (std::int64_t{1} << 31) ||
      count * (row_length / 8) >= (std::int64_t{1} << 31)) {
    throw UsageError("launch_im2col: x must be a packed half NHWC view that the convolution maps, and rows [" +
                     std::to_string(first) + ", " + std::to_string(first + count) + ") within its output");
  }
  if (count == 0) return;
  const auto u32 = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
  const Im2colShape g{static_cast<int>(x.h),
                      static_cast<int>(x.w),
                      static_cast<int>(x.cs),
                      static_cast<int>(x.c),
                      static_cast<int>(taps_c),
                      static_cast<int>(row_length),
                      FastDivmod(u32(row_length / 8)),
                      FastDivmod(u32(out_w)),
                      FastDivmod(u32(out_h)),
                      FastDivmod(u32(x.c)),
                      FastDivmod(u32(p.kernel[1]))};
  const std::int64_t items = count * (row_length / 8);
  im2col_kernel<<<grid_for(items), kThreads, 0, stream>>>(static_cast<const __half*>(x.data), static_cast<__half*>(cols),
                                                         g, conv_window(p), u32(first), u32(items));
  KILN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace kiln::gpu
