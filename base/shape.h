// Tensor shapes as kiln passes them between its parts: dimensions, outermost (the batch) first.
#pragma once

#include "base/api.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

using Shape = std::vector<std::int64_t>;

// "[32,3,3,3]"
KILN_API std::string shape_to_string(const Shape& s);

// Product of the dimensions (1 for a scalar). Callers pass validated shapes; a negative dimension or
// a product beyond 2^64 throws FormatError (shapes come from files).
KILN_API std::uint64_t element_count(const Shape& s);

}  // namespace kiln
