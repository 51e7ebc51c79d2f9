// The window arithmetic of every pooling op (pool.h), defined once for the CPU reference (pool.cpp)
// and the GPU kernel (pool.cu), as PyTorch's CPU kernels compute it (aten/src/ATen/native/cpu/
// MaxPoolKernel.cpp, AvgPoolKernel.cpp, AdaptiveAvgPoolKernel.cpp, AdaptiveMaxPoolKernel.cpp).
// Integer arithmetic only, so both sides agree exactly. No CUDA types: the CPU library includes it.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define KILN_POOL_FN __host__ __device__ inline
#else
#define KILN_POOL_FN inline
#endif

namespace kiln {

// One spatial axis of a pooling op. Sliding windows (max_pool2d, avg_pool2d): output o covers
// positions o*stride - padding + j*dilation, j in [0, kernel). Adaptive ones (adaptive_*, global_*):
// output o covers [floor(o*in/out), ceil((o+1)*in/out)). in, out >= 1; the factory bounds them so that
// o * in fits in 64 bits (both below 2^40 and 2^20, or out = 1).
struct PoolAxis {
  std::int64_t kernel = 1, stride = 1, padding = 0, dilation = 1;
  std::int64_t in = 1, out = 1;
  int adaptive = 0;
};

// Input positions lo, lo + step, ... below hi (none when lo >= hi) of one output on one axis, and
// `padded`: the window's extent clipped to the padded input [-padding, in + padding), which is
// avg_pool2d's count_include_pad divisor (step is 1 there: avg_pool2d has no dilation).
struct PoolSpan {
  std::int64_t lo = 0, hi = 0, step = 1, padded = 0;
};

KILN_POOL_FN PoolSpan pool_span(const PoolAxis& a, std::int64_t o) {
  PoolSpan s;
  if (a.adaptive) {
    s.lo = o * a.in / a.out;
    s.hi = ((o + 1) * a.in + a.out - 1) / a.out;
    s.padded = s.hi - s.lo;
    return s;
  }
  const std::int64_t start = o * a.stride - a.padding;
  const std::int64_t end = start + (a.kernel - 1) * a.dilation + 1;
  const std::int64_t padded_end = start + a.kernel < a.in + a.padding ? start + a.kernel : a.in + a.padding;
  s.padded = padded_end - start;
  s.step = a.dilation;
  // The first position at or after 0 (PyTorch: while (start < 0) start += dilation).
  s.lo = start >= 0 ? start : start + (-start + a.dilation - 1) / a.dilation * a.dilation;
  s.hi = end < a.in ? end : a.in;
  return s;
}

// Positions of a span (0 when empty).
KILN_POOL_FN std::int64_t span_count(const PoolSpan& s) { return s.lo < s.hi ? (s.hi - s.lo + s.step - 1) / s.step : 0; }

// Outputs of a sliding window axis (PyTorch's pooling_output_shape): floor or ceil of the steps, and
// in ceil mode the last window must start inside the input or its left padding. May be < 1 (the
// factory reports that as too small an input).
inline std::int64_t pooled_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                std::int64_t dilation, bool ceil_mode) {
  const std::int64_t numer = in + 2 * padding - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  // Floor division (numer may be negative).
  std::int64_t out = (numer >= 0 ? numer / stride : -((-numer + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

}  // namespace kiln
