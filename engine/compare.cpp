#include "engine/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/errors.h"

namespace kiln {

namespace {

double median_of(std::vector<double>& v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace

CompareStats compare_tensors(const float* actual, const float* expected, std::size_t n, const CompareTolerance& tol) {
  // A NaN tolerance makes every `err > tol` false, so everything would pass.
  for (const auto& [name, v] : {std::pair<const char*, double>{"atol", tol.atol}, {"rtol", tol.rtol}}) {
    if (!(v >= 0.0) || std::isinf(v)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", v);
      throw UsageError(std::string(name) + " must be a finite number >= 0, found " + buf);
    }
  }
  CompareStats s;
  s.count = n;
  std::vector<double> abs_err(n), rel_err(n);
  double sum_abs = 0, sum_rel = 0, dot = 0, na = 0, ne = 0, nd = 0;
  const double inf = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    const double a = actual[i], e = expected[i];
    double abs_e, rel_e;
    if (!std::isfinite(a) || !std::isfinite(e)) {
      // Equal infinities agree; anything else involving NaN/Inf is a mismatch with infinite error.
      const bool agree = !std::isnan(a) && !std::isnan(e) && a == e;
      abs_e = agree ? 0.0 : inf;
      rel_e = agree ? 0.0 : inf;
      if (!agree) ++s.nonfinite_mismatches;
    } else {
      abs_e = std::fabs(a - e);
      // As polygraphy: relative to |expected|, floored at the smallest normal float so zeros stay finite.
      rel_e = abs_e / std::max(std::fabs(e), static_cast<double>(std::numeric_limits<float>::min()));
      dot += a * e;
      nd += (a - e) * (a - e);
      na += a * a;
      ne += e * e;
    }
    abs_err[i] = abs_e;
    rel_err[i] = rel_e;
    const bool mismatch = (abs_e > tol.atol && rel_e > tol.rtol) || std::isinf(abs_e);
    if (mismatch) ++s.mismatches;
    if (abs_e > tol.atol || std::isinf(abs_e)) s.required_rtol = std::max(s.required_rtol, rel_e);
    if (rel_e > tol.rtol || std::isinf(rel_e)) s.required_atol = std::max(s.required_atol, abs_e);
    if (abs_e > s.max_abs || i == 0) {
      s.max_abs = abs_e;
      s.worst_index = i;
      s.worst_actual = a;
      s.worst_expected = e;
    }
    s.max_rel = std::max(s.max_rel, rel_e);
    sum_abs += abs_e;
    sum_rel += rel_e;
  }
  if (n > 0) {
    s.mean_abs = sum_abs / static_cast<double>(n);
    s.mean_rel = sum_rel / static_cast<double>(n);
    s.median_abs = median_of(abs_err);
    s.median_rel = median_of(rel_err);
  }
  if (na > 0 && ne > 0) s.cosine_similarity = dot / (std::sqrt(na) * std::sqrt(ne));
  else if (na != ne) s.cosine_similarity = 0.0;
  s.relative_l2 = ne > 0 ? std::sqrt(nd / ne) : (nd > 0 ? inf : 0.0);
  if (s.nonfinite_mismatches > 0) {
    s.cosine_similarity = std::numeric_limits<double>::quiet_NaN();
    s.relative_l2 = inf;
  }
  return s;
}

std::string format_stats_line(const CompareStats& s) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "max abs %.3g  mean abs %.3g  median abs %.3g  max rel %.3g  mean rel %.3g  rel L2 %.3g  cosine %.9f  "
                "mismatches %zu/%zu",
                s.max_abs, s.mean_abs, s.median_abs, s.max_rel, s.mean_rel, s.relative_l2, s.cosine_similarity,
                s.mismatches,
                s.count);
  return buf;
}

}  // namespace kiln
