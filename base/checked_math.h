// Overflow-checked unsigned arithmetic for sizes that come from files: a product or sum that would
// wrap is reported instead of silently producing a small number (the classic weight-loader exploit,
// formats/README.md).
#pragma once

#include <cstdint>
#include <optional>

namespace kiln {

inline std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Rounds `v` up to a multiple of `alignment` (a power of two); nullopt on overflow.
inline std::optional<std::uint64_t> checked_align_up(std::uint64_t v, std::uint64_t alignment) {
  auto r = checked_add(v, alignment - 1);
  if (!r) return std::nullopt;
  return *r & ~(alignment - 1);
}

}  // namespace kiln
