// layer_norm: the CPU reference against values computed by hand (rank 2 and 4, eps, weight and
// bias present or absent), against a float two-pass formulation on random data whose mean lies far
// from 0, and its validation messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "layers/layer_norm/layer_norm.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;

TEST(LayerNorm, RankTwoHandChecked) {
  // Row [1, 2, 3]: mean 2, var 2/3. Row [4, 4, 4]: var 0, so y = 0 * weight + bias.
  LayerCase c("layer_norm", {{2, 3}});
  c.attr("eps", 0.5).weight("weight", {3}, {1.0f, 2.0f, -1.0f}).weight("bias", {3}, {0.0f, 0.5f, 1.0f});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{2, 3}));
  const auto y = c.run(*layer, {{1, 2, 3, 4, 4, 4}});
  const float inv = 1.0f / std::sqrt(2.0f / 3.0f + 0.5f);
  const float tol = 1e-6f;
  EXPECT_NEAR(y[0], -inv, tol);
  EXPECT_NEAR(y[1], 0.5f, tol);
  EXPECT_NEAR(y[2], -inv + 1.0f, tol);
  EXPECT_NEAR(y[3], 0.0f, tol);
  EXPECT_NEAR(y[4], 0.5f, tol);
  EXPECT_NEAR(y[5], 1.0f, tol);
  const auto& ln = dynamic_cast<const LayerNormLayer&>(*layer);
  EXPECT_DOUBLE_EQ(ln.params().eps, 0.5);
  EXPECT_EQ(ln.weight()->name, "l1.weight");
  EXPECT_EQ(ln.bias()->name, "l1.bias");
  EXPECT_EQ(layer->weights().size(), 2u);
  EXPECT_TRUE(layer->can_run_in_place());
}

TEST(LayerNorm, RankFourNormalisesChannelsAtEachPosition) {
  // [1, 2, 1, 2]: position 0 holds channels (1, 3), position 1 holds (5, 5). No weights, default eps.
  LayerCase c("layer_norm", {{1, 2, 1, 2}});
  auto layer = c.build();
  const auto& ln = dynamic_cast<const LayerNormLayer&>(*layer);
  EXPECT_DOUBLE_EQ(ln.params().eps, 1e-5);
  EXPECT_EQ(ln.weight(), nullptr);
  EXPECT_EQ(ln.bias(), nullptr);
  const auto y = c.run(*layer, {{1, 5, 3, 5}});
  const float v = 1.0f / std::sqrt(1.0f + 1e-5f);  // position 0: mean 2, var 1
  EXPECT_NEAR(y[0], -v, 1e-6f);
  EXPECT_NEAR(y[2], v, 1e-6f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[3], 0.0f);
}

TEST(LayerNorm, WeightWithoutBias) {
  LayerCase c("layer_norm", {{1, 2}});
  c.attr("eps", 1e-6).weight("weight", {2}, {3.0f, -2.0f});
  auto layer = c.build();
  EXPECT_EQ(dynamic_cast<const LayerNormLayer&>(*layer).bias(), nullptr);
  const auto y = c.run(*layer, {{-1, 1}});  // mean 0, var 1
  const float v = 1.0f / std::sqrt(1.0f + 1e-6f);
  EXPECT_NEAR(y[0], -3.0f * v, 1e-6f);
  EXPECT_NEAR(y[1], -2.0f * v, 1e-6f);
}

TEST(LayerNorm, RandomFarFromZeroMatchesFloatTwoPass) {
  std::mt19937 rng(std::random_device{}());
  for (const Shape& s : {Shape{2, 5, 3, 4}, Shape{3, 96, 2, 2}, Shape{4, 17}}) {
    LayerCase c("layer_norm", {s});
    const std::int64_t C = s[1], plane = s.size() == 4 ? s[2] * s[3] : 1;
    const auto g = random_floats(static_cast<std::size_t>(C), rng);
    const auto b = random_floats(static_cast<std::size_t>(C), rng);
    c.attr("eps", 1e-6).weight("weight", {C}, g).weight("bias", {C}, b);
    auto layer = c.build();
    // Values near 1000 with spread 1: a one-pass E[x^2] - E[x]^2 in float would lose every digit.
    const auto x = random_floats(static_cast<std::size_t>(count(s)), rng, 999.0f, 1001.0f);
    const auto y = c.run(*layer, {x});
    for (std::int64_t n = 0; n < s[0]; ++n)
      for (std::int64_t i = 0; i < plane; ++i) {
        const auto at = [&](std::int64_t ch) { return static_cast<std::size_t>((n * C + ch) * plane + i); };
        float mean = 0.0f;
        for (std::int64_t ch = 0; ch < C; ++ch) mean += x[at(ch)];
        mean /= static_cast<float>(C);
        float var = 0.0f;
        for (std::int64_t ch = 0; ch < C; ++ch) var += (x[at(ch)] - mean) * (x[at(ch)] - mean);
        const float inv = 1.0f / std::sqrt(var / static_cast<float>(C) + 1e-6f);
        for (std::int64_t ch = 0; ch < C; ++ch) {
          const auto k = static_cast<std::size_t>(ch);
          const float want = (x[at(ch)] - mean) * inv * g[k] + b[k];
          ASSERT_NEAR(y[at(ch)], want, 1e-3f) << shape_to_string(s) << " n" << n << " c" << ch << " p" << i;
        }
      }
  }
}

TEST(LayerNormValidation, MessagesNameTheField) {
  LayerCase rank3("layer_norm", {{1, 4, 3}});
  EXPECT_THAT(rank3.build_error(),
              HasSubstr("layer l1 (layer_norm): input 'in0' must be 2-D or 4-D, found shape [1,4,3]"));
  LayerCase zero("layer_norm", {{1, 4}});
  zero.attr("eps", 0.0);
  EXPECT_THAT(zero.build_error(), HasSubstr("layer l1 (layer_norm): attribute 'eps' must be > 0"));
  LayerCase negative("layer_norm", {{1, 4}});
  negative.attr("eps", -1e-5);
  EXPECT_THAT(negative.build_error(), HasSubstr("attribute 'eps' must be > 0"));
  LayerCase inf("layer_norm", {{1, 4}});
  inf.attr("eps", INFINITY);
  EXPECT_THAT(inf.build_error(), HasSubstr("attribute 'eps' must be a finite number"));
  LayerCase shape("layer_norm", {{2, 4, 2, 2}});
  shape.weight("weight", {3}, {1, 1, 1});
  EXPECT_THAT(shape.build_error(), HasSubstr("weight 'weight' = l1.weight has shape [3], expected [4]"));
  LayerCase bias("layer_norm", {{2, 4}});
  bias.weight("bias", {4, 1}, {0, 0, 0, 0});
  EXPECT_THAT(bias.build_error(), HasSubstr("weight 'bias' = l1.bias has shape [4,1], expected [4]"));
  LayerCase stray("layer_norm", {{2, 4}});
  stray.attr("axis", 1);
  EXPECT_THAT(stray.build_error(), HasSubstr("axis"));
  LayerCase two("layer_norm", {{2, 4}, {2, 4}});
  EXPECT_THAT(two.build_error(), HasSubstr("layer l1 (layer_norm)"));
}

}  // namespace
}  // namespace kiln::test
