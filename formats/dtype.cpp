#include "formats/dtype.h"

#include <cstring>

namespace kiln {

const char* dtype_name(DType t) { return t == DType::F32 ? "f32" : "f16"; }

std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "f32") return DType::F32;
  if (s == "f16") return DType::F16;
  return std::nullopt;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, or NaN with its payload kept
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      // Subnormal half: every one is a normal float. Shift the leading 1 into the implicit position.
      exp = 113;  // 127 - 15 + 1
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // quiet NaN
  // 0x477ff000 is halfway between 65504 (the largest half, odd mantissa) and 65536: ties go up to inf.
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (a >= 0x38800000u) {
    // Normal half: rebias the exponent, then round the 13 dropped bits to nearest even. A carry out of
    // the mantissa correctly bumps the exponent.
    std::uint32_t v = a - (112u << 23);
    v += 0xfffu + ((v >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | (v >> 13));
  }
  if (a < 0x33000000u) return sign;  // below 2^-25, half of the smallest subnormal: rounds to zero
  // Subnormal half: value / 2^-24 rounded to nearest even. A result of 0x400 is the smallest normal.
  const std::uint32_t exp = a >> 23;                       // 102..112
  const std::uint32_t mant = (a & 0x7fffffu) | 0x800000u;  // value = mant * 2^(exp - 150)
  const std::uint32_t shift = 126 - exp;                   // 14..24
  std::uint32_t q = mant >> shift;
  const std::uint32_t rem = mant & ((1u << shift) - 1);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rem > halfway || (rem == halfway && (q & 1u))) ++q;
  return static_cast<std::uint16_t>(sign | q);
}

void halves_to_floats(const void* src, std::size_t count, float* dst) {
  const auto* bytes = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint16_t h = 0;
    std::memcpy(&h, bytes + 2 * i, 2);
    dst[i] = half_to_float(h);
  }
}

}  // namespace kiln
