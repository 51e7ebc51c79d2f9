#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "formats/dtype.h"

namespace kiln {
namespace {

float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
std::uint32_t to_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
bool is_nan_half(std::uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }

TEST(DType, NamesAndSizes) {
  EXPECT_STREQ(dtype_name(DType::F32), "f32");
  EXPECT_STREQ(dtype_name(DType::F16), "f16");
  EXPECT_EQ(dtype_size(DType::F32), 4u);
  EXPECT_EQ(dtype_size(DType::F16), 2u);
  EXPECT_EQ(parse_dtype("f32"), DType::F32);
  EXPECT_EQ(parse_dtype("f16"), DType::F16);
  for (const char* bad : {"", "F32", "f64", "bf16", "f32 ", "float"}) EXPECT_FALSE(parse_dtype(bad)) << bad;
}

TEST(Half, KnownValues) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(half_to_float(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(half_to_float(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  EXPECT_EQ(to_bits(half_to_float(0x8000)), 0x80000000u);  // -0 keeps its sign

  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65519.99f), 0x7bff);  // below the halfway point to 65536
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);   // halfway: ties to even, which is infinity
  EXPECT_EQ(float_to_half(1e10f), 0x7c00);
  EXPECT_EQ(float_to_half(-1e10f), 0xfc00);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_TRUE(is_nan_half(float_to_half(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(is_nan_half(float_to_half(from_bits(0x7f800001u))));  // signalling NaN stays a NaN
  EXPECT_TRUE(is_nan_half(float_to_half(from_bits(0xffc00000u))));
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // halfway to 2^-24: ties to even 0
  EXPECT_EQ(float_to_half(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp: ties to even 2
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -30)), 0x0000);
  EXPECT_EQ(float_to_half(-std::ldexp(1.0f, -30)), 0x8000);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(float_to_half(std::ldexp(2047.0f, -25)), 0x0400);  // largest subnormal + half ulp -> smallest normal
}

// Every half converts to float and back to itself (NaNs stay NaNs with their sign).
TEST(Half, ExhaustiveRoundTrip) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const float f = half_to_float(h);
    if (is_nan_half(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << i;
      const std::uint16_t back = float_to_half(f);
      ASSERT_TRUE(is_nan_half(back)) << std::hex << i;
      ASSERT_EQ(back & 0x8000u, h & 0x8000u) << std::hex << i;
    } else {
      ASSERT_EQ(float_to_half(f), h) << std::hex << i;
    }
  }
}

// Around every finite half: the exact midpoint to the next half rounds to the even one, and the float
// just below/above the midpoint rounds down/up. This pins round-to-nearest-even on all 63488 gaps.
TEST(Half, ExhaustiveRoundingAtMidpoints) {
  for (std::uint32_t i = 0; i < 0x7c00; ++i) {
    const auto lo = static_cast<std::uint16_t>(i);
    const auto hi = static_cast<std::uint16_t>(i + 1);  // 0x7c00 (inf) after the largest finite
    const double a = half_to_float(lo);
    const double b = hi == 0x7c00 ? 65536.0 : static_cast<double>(half_to_float(hi));
    const float mid = static_cast<float>((a + b) / 2);  // exact: halves have 11 significant bits
    ASSERT_EQ(static_cast<double>(mid), (a + b) / 2);
    const std::uint16_t even = (lo & 1u) ? hi : lo;
    ASSERT_EQ(float_to_half(mid), even) << std::hex << i;
    ASSERT_EQ(float_to_half(std::nextafter(mid, 0.0f)), lo) << std::hex << i;
    ASSERT_EQ(float_to_half(std::nextafter(mid, 1e30f)), hi) << std::hex << i;
    ASSERT_EQ(float_to_half(-mid), even | 0x8000u) << std::hex << i;
  }
}

// The bulk widening reads unaligned little-endian halves and matches the scalar conversion.
TEST(Half, BulkWideningMatchesScalarAtAnyAlignment) {
  const std::uint16_t values[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x3555};
  unsigned char bytes[1 + sizeof(values)];
  std::memcpy(bytes + 1, values, sizeof(values));  // odd address
  float out[7] = {};
  halves_to_floats(bytes + 1, 7, out);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(out[i], half_to_float(values[i])) << i;
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 65504.0f);
}

}  // namespace
}  // namespace kiln
