#include "engine/gpu/layout.h"

#include <cstring>

#include "formats/dtype.h"

namespace kiln::gpu {

std::int64_t stored_channels(const Shape& shape, Precision p) {
  if (shape.size() < 2) return 1;
  return is_nhwc(shape, p) ? pad_channels(shape[1]) : shape[1];
}

StoredDims stored_dims(const Shape& shape, Precision p) {
  StoredDims d;
  if (is_nhwc(shape, p)) {
    d.n = shape[0];
    d.c = shape[1];
    d.hw = shape[2] * shape[3];
    d.cs = pad_channels(shape[1]);
  } else {
    d.c = d.cs = static_cast<std::int64_t>(element_count(shape));
  }
  return d;
}

TensorView logical_view(void* data, const Shape& shape, ElementType type) {
  TensorView v;
  v.data = data;
  v.type = type;
  v.n = shape.empty() ? 1 : shape[0];
  v.c = v.cs = shape.size() > 1 ? shape[1] : 1;
  if (shape.size() == 4) {
    v.h = shape[2];
    v.w = shape[3];
  } else {
    for (std::size_t i = 2; i < shape.size(); ++i) v.w *= shape[i];
  }
  v.sw = 1;
  v.sh = v.w;
  v.sc = v.h * v.w;
  v.sn = v.c * v.h * v.w;
  return v;
}

TensorView activation_view(void* data, const Shape& shape, Precision p) {
  TensorView v = logical_view(data, shape, element_type(p));
  if (is_nhwc(shape, p)) {
    v.cs = stored_channels(shape, p);
    v.sc = 1;
    v.sw = v.cs;
    v.sh = v.w * v.cs;
    v.sn = v.h * v.w * v.cs;
  }
  return v;
}

std::uint64_t activation_bytes(const Shape& shape, Precision p) {
  const StoredDims d = stored_dims(shape, p);
  return static_cast<std::uint64_t>(d.n) * static_cast<std::uint64_t>(d.hw) * static_cast<std::uint64_t>(d.cs) *
         element_bytes(p);
}

bool fp16_flatten_is_view(const Shape& input) {
  if (input.size() != 4) return true;
  return input[2] == 1 && input[3] == 1 && input[1] % kChannelAlign == 0;
}

FilterLayout fp16_filter_layout(const Shape& src, std::int64_t groups) {
  FilterLayout f;
  f.r = src[2];
  f.s = src[3];
  const std::int64_t total_c = src[1] * groups;
  f.dense = groups == 1 || src[0] % kChannelAlign != 0 || total_c % kChannelAlign != 0;
  f.k = f.dense ? pad_channels(src[0]) : src[0];
  f.c = f.dense ? pad_channels(total_c) : src[1];
  return f;
}

void pack_fp16_filter(const float* src_values, const Shape& src, std::int64_t groups, std::uint16_t* dst) {
  const FilterLayout f = fp16_filter_layout(src, groups);
  std::memset(dst, 0, f.bytes());
  const std::int64_t a = src[0], b = src[1];
  const std::int64_t a_per_group = a / groups;
  for (std::int64_t k = 0; k < a; ++k) {
    // Dense: output k reads the input channels of its group, shifted into the full channel range.
    const std::int64_t c0 = f.dense ? (k / a_per_group) * b : 0;
    for (std::int64_t c = 0; c < b; ++c)
      for (std::int64_t r = 0; r < f.r; ++r)
        for (std::int64_t s = 0; s < f.s; ++s) {
          const float v = src_values[((k * b + c) * f.r + r) * f.s + s];
          dst[((k * f.r + r) * f.s + s) * f.c + c0 + c] = float_to_half(v);
        }
  }
}

Im2colRows im2col_rows_layout(const Shape& filter) {
  if (filter.size() != 4) return {};
  return {pad_channels(filter[0]), pad_channels(filter[1] * filter[2] * filter[3])};
}

void pack_im2col_rows(const float* values, const Shape& filter, std::uint16_t* dst) {
  const Im2colRows l = im2col_rows_layout(filter);
  std::memset(dst, 0, l.bytes());
  const std::int64_t c_count = filter[1], r_count = filter[2], s_count = filter[3];
  for (std::int64_t k = 0; k < filter[0]; ++k)
    for (std::int64_t c = 0; c < c_count; ++c)
      for (std::int64_t r = 0; r < r_count; ++r)
        for (std::int64_t s = 0; s < s_count; ++s) {
          const float v = values[((k * c_count + c) * r_count + r) * s_count + s];
          dst[k * l.row_length + (r * s_count + s) * c_count + c] = float_to_half(v);
        }
}

std::vector<float> unpack_activation(const std::byte* src, const Shape& shape, Precision p) {
  std::vector<float> out(element_count(shape));
  if (p != Precision::Fp16) {
    std::memcpy(out.data(), src, out.size() * sizeof(float));
    return out;
  }
  const StoredDims d = stored_dims(shape, p);
  for (std::int64_t n = 0; n < d.n; ++n)
    for (std::int64_t c = 0; c < d.c; ++c)
      for (std::int64_t i = 0; i < d.hw; ++i) {
        std::uint16_t h = 0;
        std::memcpy(&h, src + ((n * d.hw + i) * d.cs + c) * 2, 2);
        out[static_cast<std::size_t>((n * d.c + c) * d.hw + i)] = half_to_float(h);
      }
  return out;
}

}  // namespace kiln::gpu
