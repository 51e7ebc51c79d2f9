// The source-index arithmetic of upsample_nearest and upsample_bilinear (upsample.h), defined once
// for the CPU reference (upsample.cpp) and the GPU kernels (upsample.cu), in the precision PyTorch's
// float32 CPU kernels use for contiguous NCHW tensors (aten/src/ATen/native/cpu/UpSampleKernel.cpp,
// HelperInterpNearest / HelperInterpNearestExact / HelperInterpLinear, with UpSample.h's
// area_pixel_compute_scale and area_pixel_compute_source_index), so both pick PyTorch's source
// pixels. (PyTorch's channels-last kernel, nearest_idx, copies exactly at 1x and 2x instead; it
// differs only where a kept scale_factor is not the size ratio.) No CUDA types: the CPU library
// includes it.
#pragma once

#include <math.h>

#include <cstdint>

#if defined(__CUDACC__)
#define KILN_UPSAMPLE_FN __host__ __device__ inline
#else
#define KILN_UPSAMPLE_FN inline
#endif

namespace kiln {

// One spatial axis resampled from `in` to `out` positions (both >= 1, below 2^40 and 2^20).
// `scale` is PyTorch's float ratio: 1/scale_factor when the user's scale_factor is kept, else
// in/out; for bilinear with align_corners, (in-1)/(out-1) (0 when out is 1).
struct ResampleAxis {
  std::int64_t in = 1, out = 1;
  float scale = 1.0f;
};

// PyTorch's compute_scales_value: a kept scale_factor (> 0) wins, else in/out in float.
inline float resample_scale(std::int64_t in, std::int64_t out, double scale_factor) {
  return scale_factor > 0.0 ? static_cast<float>(1.0 / scale_factor) : static_cast<float>(in) / static_cast<float>(out);
}

// PyTorch's area_pixel_compute_scale.
inline float linear_scale(std::int64_t in, std::int64_t out, bool align_corners, double scale_factor) {
  if (align_corners) return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  return resample_scale(in, out, scale_factor);
}

KILN_UPSAMPLE_FN std::int64_t clamp_index(std::int64_t i, std::int64_t in) { return i < in - 1 ? i : in - 1; }

// mode 'nearest': floor(dst * scale) in float.
KILN_UPSAMPLE_FN std::int64_t nearest_source(const ResampleAxis& a, std::int64_t dst) {
  return clamp_index(static_cast<std::int64_t>(floorf(static_cast<float>(dst) * a.scale)), a.in);
}

// mode 'nearest-exact': floor((dst + 0.5) * scale), the product in double and floored as float.
KILN_UPSAMPLE_FN std::int64_t nearest_exact_source(const ResampleAxis& a, std::int64_t dst) {
  const double pos = (static_cast<double>(dst) + 0.5) * static_cast<double>(a.scale);
  return clamp_index(static_cast<std::int64_t>(floorf(static_cast<float>(pos))), a.in);
}

// The two source positions of a linear interpolation and their weights (w0 + w1 = 1).
struct LinearTap {
  std::int64_t i0 = 0, i1 = 0;
  float w0 = 1.0f, w1 = 0.0f;
};

KILN_UPSAMPLE_FN LinearTap linear_tap(const ResampleAxis& a, bool align_corners, std::int64_t dst) {
  LinearTap t;
  if (a.out == a.in) {
    t.i0 = t.i1 = dst;
    return t;
  }
  float real = align_corners ? a.scale * static_cast<float>(dst) : a.scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
  if (real < 0.0f) real = 0.0f;
  t.i0 = clamp_index(static_cast<std::int64_t>(floorf(real)), a.in);
  float w1 = real - static_cast<float>(t.i0);
  w1 = w1 < 0.0f ? 0.0f : (w1 > 1.0f ? 1.0f : w1);
  t.i1 = t.i0 + (t.i0 < a.in - 1 ? 1 : 0);
  t.w1 = w1;
  t.w0 = 1.0f - w1;
  return t;
}

}  // namespace kiln
