// Tensor shapes as kiln passes them between its parts: dimensions, outermost (the batch) first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

using Shape = std::vector<std::int64_t>;

// "[32,3,3,3]"
std::string shape_to_string(const Shape& s);

// Product of the dimensions (1 for a scalar). Callers pass validated shapes; a negative dimension or
// a product beyond 2^64 throws FormatError (shapes come from files).
std::uint64_t element_count(const Shape& s);

}  // namespace kiln
