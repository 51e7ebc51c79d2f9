// Helpers shared by the layer kinds: range-checked attribute reads and small spatial arithmetic.
// Every check throws ModelError through the LayerBuildContext, naming the layer and the attribute.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "layers/layer.h"

namespace kiln {

// Spatial pairs are {height, width}.
using Pair = std::array<std::int64_t, 2>;

// Bounds on attribute values. Spatial values (kernel, stride, padding, dilation, scale) stay below
// 2^20 and counts (channels, features, sizes) below 2^31, so that shape arithmetic on dimensions up
// to 2^40 cannot overflow 64 bits.
constexpr std::int64_t kMaxSpatial = std::int64_t{1} << 20;
constexpr std::int64_t kMaxCount = (std::int64_t{1} << 31) - 1;

// Integer attribute in [lo, hi]: required, or `fallback` when absent.
std::int64_t int_attribute(const LayerBuildContext& ctx, const std::string& key, std::int64_t lo, std::int64_t hi);
std::int64_t int_attribute(const LayerBuildContext& ctx, const std::string& key, std::int64_t fallback,
                           std::int64_t lo, std::int64_t hi);

// Integer pair attribute ({h, w}) with both values in [lo, hi]: required, or `fallback` when absent.
Pair pair_attribute(const LayerBuildContext& ctx, const std::string& key, std::int64_t lo, std::int64_t hi);
Pair pair_attribute(const LayerBuildContext& ctx, const std::string& key, Pair fallback, std::int64_t lo,
                    std::int64_t hi);

// Number attribute that must be finite (YAML can spell .inf and .nan).
double finite_attribute(const LayerBuildContext& ctx, const std::string& key, double fallback);

// "3x3"
std::string hw(const Pair& p);
std::string hw(std::int64_t h, std::int64_t w);

// Output positions o in [lo, hi) whose input position o * stride + offset lies in [0, in), with o
// limited to [0, out). Empty ranges have lo >= hi. Lets the CPU loops run without bounds tests.
struct IndexRange {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
};
IndexRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t in, std::int64_t out);

// Elements of `s` (callers pass shapes already checked by LayerBuildContext / Layer).
std::int64_t elements(const Shape& s);

}  // namespace kiln
