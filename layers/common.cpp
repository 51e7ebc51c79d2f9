#include "layers/common.h"

#include <algorithm>
#include <cmath>

namespace kiln {

namespace {
std::string range_error(std::int64_t v, std::int64_t lo, std::int64_t hi, const std::string& found) {
  return v < lo ? "must be at least " + std::to_string(lo) + ", found " + found
                : "must be at most " + std::to_string(hi) + ", found " + found;
}

Pair checked_pair(const LayerBuildContext& ctx, const std::string& key, const std::vector<std::int64_t>& v,
                  std::int64_t lo, std::int64_t hi) {
  const Pair p{v.at(0), v.at(1)};
  for (std::int64_t x : p)
    if (x < lo || x > hi)
      ctx.fail_attribute(key, range_error(x, lo, hi, "[" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + "]"));
  return p;
}
}  // namespace

std::int64_t int_attribute(const LayerBuildContext& ctx, const std::string& key, std::int64_t lo, std::int64_t hi) {
  const std::int64_t v = ctx.attrs().get_int(key);
  if (v < lo || v > hi) ctx.fail_attribute(key, range_error(v, lo, hi, std::to_string(v)));
  return v;
}

std::int64_t int_attribute(const LayerBuildContext& ctx, const std::string& key, std::int64_t fallback,
                           std::int64_t lo, std::int64_t hi) {
  const std::int64_t v = ctx.attrs().get_int(key, fallback);
  if (v < lo || v > hi) ctx.fail_attribute(key, range_error(v, lo, hi, std::to_string(v)));
  return v;
}

Pair pair_attribute(const LayerBuildContext& ctx, const std::string& key, std::int64_t lo, std::int64_t hi) {
  return checked_pair(ctx, key, ctx.attrs().get_pair(key), lo, hi);
}

Pair pair_attribute(const LayerBuildContext& ctx, const std::string& key, Pair fallback, std::int64_t lo,
                    std::int64_t hi) {
  return checked_pair(ctx, key, ctx.attrs().get_pair(key, {fallback[0], fallback[1]}), lo, hi);
}

double finite_attribute(const LayerBuildContext& ctx, const std::string& key, double fallback) {
  const double v = ctx.attrs().get_float(key, fallback);
  if (!std::isfinite(v)) ctx.fail_attribute(key, "must be a finite number");
  return v;
}

std::string hw(const Pair& p) { return hw(p[0], p[1]); }
std::string hw(std::int64_t h, std::int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

IndexRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t in, std::int64_t out) {
  IndexRange r;
  r.lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const std::int64_t last = in - 1 - offset;  // o * stride <= last
  r.hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  return r;
}

std::int64_t elements(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s) n *= d;
  return n;
}

}  // namespace kiln
