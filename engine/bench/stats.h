// Summary statistics of timing samples for `kiln bench` and `kiln profile` (plain C++, no CUDA).
//
// Percentiles interpolate linearly between the two nearest ranks (numpy's default method), so the
// 50th percentile is the usual median and a Python analysis of the same samples gives the same numbers.
#pragma once

#include <cstddef>
#include <vector>

namespace kiln::bench {

struct Summary {
  std::size_t count = 0;  // 0: no samples (the metric does not apply); every other field is then 0
  double min = 0, max = 0, mean = 0, median = 0, p90 = 0, p95 = 0, p99 = 0;
  double stddev = 0;  // population standard deviation
  // Coefficient of variation, stddev / mean, as a fraction (0.05 = 5%); 0 when the mean is 0.
  double cv() const { return mean > 0 ? stddev / mean : 0.0; }
};

// The p-th percentile (0 <= p <= 100) of `sorted` (ascending, non-empty), interpolated linearly
// between ranks. Throws UsageError for an empty vector or p outside [0, 100].
double percentile(const std::vector<double>& sorted, double p);

// Sorts a copy of `values` and summarizes it. Empty input gives a Summary with count 0.
Summary summarize(std::vector<double> values);

// The median of `values` (empty: 0). Cheaper to read than summarize(...).median at call sites.
double median(std::vector<double> values);

}  // namespace kiln::bench
