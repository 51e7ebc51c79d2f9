#include "base/shape.h"

#include "base/checked_math.h"
#include "base/errors.h"

namespace kiln {

std::string shape_to_string(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

std::uint64_t element_count(const Shape& s) {
  std::uint64_t n = 1;
  for (std::int64_t d : s) {
    if (d < 0) throw FormatError("shape " + shape_to_string(s) + " has a negative dimension");
    const auto next = checked_mul(n, static_cast<std::uint64_t>(d));
    if (!next) throw FormatError("shape " + shape_to_string(s) + " has more than 2^64 elements");
    n = *next;
  }
  return n;
}

}  // namespace kiln
