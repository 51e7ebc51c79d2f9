#include "engine/cli/compare_tolerance.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kiln::cli {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

ToleranceChoice choose_tolerance(const CompareTolerance& values, bool atol_given, bool rtol_given, bool f16_weights) {
  ToleranceChoice c;
  c.tol = values;
  c.atol_given = atol_given;
  c.rtol_given = rtol_given;
  c.f16_weights = f16_weights;
  if (f16_weights && !atol_given) c.atol_share = kF16WeightsAtolShare;
  if (f16_weights && !rtol_given) c.tol.rtol = kF16WeightsRtol;
  return c;
}

CompareTolerance ToleranceChoice::for_tensor(const float* expected, std::size_t n) const {
  if (atol_share <= 0) return tol;
  double largest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isfinite(expected[i])) largest = std::max(largest, std::fabs(static_cast<double>(expected[i])));
  }
  return CompareTolerance{std::max(tol.atol, atol_share * largest), tol.rtol};
}

std::string ToleranceChoice::describe() const {
  const std::string atol = atol_share > 0 ? number(atol_share) + " x each tensor's largest |PyTorch value| (at least " +
                                                number(tol.atol) + ")"
                                          : number(tol.atol);
  std::string out = "atol " + atol + ", rtol " + number(tol.rtol);
  if (atol_given && rtol_given) return out;
  const std::string which = atol_given ? "rtol" : rtol_given ? "atol" : "atol and rtol";
  return out + " (" + which +
         (f16_weights ? ": the default for f16 weights, whose rounding moves each output by ~1e-3 of its largest value"
                      : ": the default") +
         "; --atol and --rtol set them)";
}

bool has_f16_weights(const Manifest& weights) {
  return std::any_of(weights.tensors.begin(), weights.tensors.end(),
                     [](const TensorEntry& e) { return e.dtype == DType::F16; });
}

}  // namespace kiln::cli
