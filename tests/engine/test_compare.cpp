#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/compare.h"
#include "base/errors.h"

namespace kiln {
namespace {

std::vector<float> random_vector(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Compare, IdenticalTensorsPass) {
  std::mt19937 rng(std::random_device{}());
  const auto a = random_vector(1000, rng);
  const CompareStats s = compare_tensors(a.data(), a.data(), a.size(), {});
  EXPECT_TRUE(s.pass());
  EXPECT_EQ(s.max_abs, 0.0);
  EXPECT_NEAR(s.cosine_similarity, 1.0, 1e-12);
}

TEST(Compare, ElementFailsOnlyWhenOverBothTolerances) {
  const std::vector<float> expected{1000.f, 1e-3f, 1.f};
  // Element 0: abs 0.01 > atol but rel 1e-5 <= rtol -> passes. Element 1: rel 1 > rtol but abs 1e-3 <= atol ->
  // passes. Element 2: abs 0.5 and rel 0.5 -> fails.
  const std::vector<float> actual{1000.01f, 2e-3f, 1.5f};
  const CompareStats s = compare_tensors(actual.data(), expected.data(), 3, {2e-3, 1e-4});
  EXPECT_EQ(s.mismatches, 1u);
  EXPECT_EQ(s.worst_index, 2u);
  EXPECT_NEAR(s.max_abs, 0.5, 1e-6);
  EXPECT_NEAR(s.required_atol, 0.5, 1e-6);  // at rtol 1e-4, elements 1 (1e-3) and 2 (0.5) exceed rtol
  EXPECT_FALSE(s.pass());
}

TEST(Compare, NanAndInfAlwaysFail) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> expected{1.f, 2.f, inf, inf};
  const std::vector<float> actual{nan, 2.f, inf, -inf};
  const CompareStats s = compare_tensors(actual.data(), expected.data(), 4, {1e9, 1e9});
  EXPECT_EQ(s.mismatches, 2u);  // NaN vs 1, and -inf vs inf; equal infinities agree
  EXPECT_EQ(s.nonfinite_mismatches, 2u);
  EXPECT_TRUE(std::isinf(s.max_abs));
}

TEST(Compare, NanOrNegativeToleranceIsRejected) {
  // With atol NaN every `err > atol` is false: without the check, anything would pass.
  const std::vector<float> a = {0.f}, e = {5.f};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const CompareTolerance& tol : {CompareTolerance{nan, 1e-5}, CompareTolerance{1e-5, -1.0},
                                      CompareTolerance{std::numeric_limits<double>::infinity(), 0.0}}) {
    try {
      compare_tensors(a.data(), e.data(), 1, tol);
      FAIL() << "no error for atol " << tol.atol << " rtol " << tol.rtol;
    } catch (const UsageError& err) {
      EXPECT_THAT(err.what(), ::testing::MatchesRegex("(atol|rtol) must be a finite number >= 0, found .*"));
    }
  }
  EXPECT_TRUE(compare_tensors(a.data(), a.data(), 1, CompareTolerance{0.0, 0.0}).pass());
}

TEST(Compare, StatisticsOfKnownErrors) {
  const std::vector<float> expected{1.f, 2.f, 4.f, 8.f};
  const std::vector<float> actual{1.1f, 2.f, 4.4f, 8.f};
  const CompareStats s = compare_tensors(actual.data(), expected.data(), 4, {1e-5, 1e-5});
  EXPECT_NEAR(s.max_abs, 0.4, 1e-6);
  EXPECT_NEAR(s.mean_abs, 0.125, 1e-6);
  EXPECT_NEAR(s.max_rel, 0.1, 1e-6);
  EXPECT_EQ(s.mismatches, 2u);
  // ‖(0.1, 0, 0.4, 0)‖ / ‖(1, 2, 4, 8)‖ = sqrt(0.17 / 85)
  EXPECT_NEAR(s.relative_l2, std::sqrt(0.17 / 85.0), 1e-6);
  EXPECT_THAT(format_stats_line(s), ::testing::HasSubstr("mismatches 2/4"));
}

}  // namespace
}  // namespace kiln
