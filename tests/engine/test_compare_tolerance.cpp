// `kiln compare`'s tolerance: as given, the float32 defaults, or for f16 weights an atol that scales with
// each tensor (Note [f16 weight tolerance]); the "tolerance:" line says which.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/cli/compare_tolerance.h"

namespace kiln::cli {
namespace {

using ::testing::HasSubstr;

const CompareTolerance kDefaults{1e-5, 1e-5};

TEST(CompareTolerance, Float32WeightsKeepTheDefaults) {
  const ToleranceChoice c = choose_tolerance(kDefaults, false, false, false);
  const std::vector<float> big = {-200.0f, 3.0f};
  EXPECT_DOUBLE_EQ(c.for_tensor(big.data(), big.size()).atol, 1e-5);
  EXPECT_DOUBLE_EQ(c.for_tensor(big.data(), big.size()).rtol, 1e-5);
  EXPECT_EQ(c.describe(), "atol 1e-05, rtol 1e-05 (atol and rtol: the default; --atol and --rtol set them)");
}

TEST(CompareTolerance, F16WeightsScaleAtolWithEachTensorsLargestFiniteValue) {
  const ToleranceChoice c = choose_tolerance(kDefaults, false, false, true);
  const std::vector<float> big = {-200.0f, 3.0f, NAN, INFINITY};
  EXPECT_DOUBLE_EQ(c.for_tensor(big.data(), big.size()).atol, 2.0);
  EXPECT_DOUBLE_EQ(c.for_tensor(big.data(), big.size()).rtol, kF16WeightsRtol);
  const std::vector<float> zeros = {0.0f, 0.0f};
  EXPECT_DOUBLE_EQ(c.for_tensor(zeros.data(), zeros.size()).atol, 1e-5);  // never below the float32 default
  EXPECT_THAT(c.describe(), HasSubstr("atol 0.01 x each tensor's largest |PyTorch value| (at least 1e-05), rtol 0.01 "
                                      "(atol and rtol: the default for f16 weights"));
}

TEST(CompareTolerance, AGivenToleranceWins) {
  const std::vector<float> big = {-200.0f};
  const ToleranceChoice atol_only = choose_tolerance({1e-3, 1e-5}, true, false, true);
  EXPECT_DOUBLE_EQ(atol_only.for_tensor(big.data(), big.size()).atol, 1e-3);
  EXPECT_DOUBLE_EQ(atol_only.for_tensor(big.data(), big.size()).rtol, kF16WeightsRtol);
  EXPECT_THAT(atol_only.describe(), HasSubstr("atol 0.001, rtol 0.01 (rtol: the default for f16 weights"));
  const ToleranceChoice both = choose_tolerance({1e-9, 1e-8}, true, true, true);
  EXPECT_DOUBLE_EQ(both.for_tensor(big.data(), big.size()).atol, 1e-9);
  EXPECT_DOUBLE_EQ(both.for_tensor(big.data(), big.size()).rtol, 1e-8);
  EXPECT_EQ(both.describe(), "atol 1e-09, rtol 1e-08");
}

TEST(CompareTolerance, F16IsFoundInTheManifest) {
  Manifest m;
  m.tensors.resize(2);
  EXPECT_FALSE(has_f16_weights(m));
  m.tensors[1].dtype = DType::F16;
  EXPECT_TRUE(has_f16_weights(m));
}

}  // namespace
}  // namespace kiln::cli
