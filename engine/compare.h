// Output comparison with polygraphy's conventions: an element mismatches only when its absolute
// error exceeds atol AND its relative error (|a - e| / |e|) exceeds rtol; NaN or Inf in either
// tensor where the other differs is always a mismatch.
#pragma once

#include "base/api.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln {

struct CompareTolerance {
  double atol = 1e-5;
  double rtol = 1e-5;
};

struct CompareStats {
  std::size_t count = 0;
  std::size_t mismatches = 0;
  std::size_t nonfinite_mismatches = 0;  // NaN/Inf disagreements (included in mismatches)
  double max_abs = 0, mean_abs = 0, median_abs = 0;
  double max_rel = 0, mean_rel = 0, median_rel = 0;
  std::size_t worst_index = 0;       // element with the largest absolute error
  double worst_actual = 0, worst_expected = 0;
  // The smallest tolerances that would have passed: atol at the given rtol, rtol at the given atol
  // (infinite when a non-finite mismatch exists).
  double required_atol = 0, required_rtol = 0;
  double cosine_similarity = 1;
  // ‖actual − expected‖₂ / ‖expected‖₂ over the finite elements: one number for the whole tensor that
  // does not blow up on near-zero elements (infinite when a non-finite mismatch exists).
  double relative_l2 = 0;
  bool pass() const { return mismatches == 0; }
};

// Compares `actual` against `expected` (n elements each). Throws UsageError unless atol and rtol are
// finite and >= 0 (a NaN tolerance would pass everything).
KILN_API CompareStats compare_tensors(const float* actual, const float* expected, std::size_t n, const CompareTolerance& tol);

// "max abs 1.2e-06  mean abs 3.1e-08 ... mismatches 0/65536"
KILN_API std::string format_stats_line(const CompareStats& s);

}  // namespace kiln
