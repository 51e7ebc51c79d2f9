// Pooling and activations against values computed by hand (and checked once against PyTorch).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "layers/activation/activation.h"
#include "layers/pool/pool.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

std::vector<float> iota16() {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i + 1);
  return v;
}

// 4x4 input 1..16, kernel 3, stride 2, padding 1 -> 2x2 windows: rows/cols {-1..1, 1..3}.
TEST(Pool, MaxWithPadding) {
  LayerCase c("max_pool2d", {{1, 1, 4, 4}});
  c.attr("kernel_size", 3).attr("stride", 2).attr("padding", 1);
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(c.run(*layer, {iota16()}), (std::vector<float>{6, 8, 14, 16}));
  const auto& p = dynamic_cast<const PoolLayer&>(*layer).params();
  EXPECT_EQ(p.mode, PoolMode::Max);
  EXPECT_EQ(p.stride, (Pair{2, 2}));
}

TEST(Pool, MaxPaddingIsMinusInfinityAndNaNPropagates) {
  LayerCase c("max_pool2d", {{1, 1, 2, 2}});
  c.attr("kernel_size", 2).attr("stride", 1).attr("padding", 1);
  auto layer = c.build();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto y = c.run(*layer, {{-5, -6, nan, -8}});
  ASSERT_EQ(y.size(), 9u);
  EXPECT_EQ(y[0], -5.0f);  // window holds 3 padded positions and -5: padding must not win
  EXPECT_EQ(y[1], -5.0f);
  EXPECT_EQ(y[2], -6.0f);
  EXPECT_TRUE(std::isnan(y[3]) && std::isnan(y[4]) && std::isnan(y[6]));
  EXPECT_EQ(y[8], -8.0f);
}

TEST(Pool, AverageCountIncludePad) {
  LayerCase c("avg_pool2d", {{1, 1, 4, 4}});
  c.attr("kernel_size", 3).attr("stride", 2).attr("padding", 1);
  auto layer = c.build();
  const auto y = c.run(*layer, {iota16()});
  // Window sums 14, 30, 57, 99, each divided by the 9 positions of the padded window.
  const float want[] = {14.0f / 9, 30.0f / 9, 57.0f / 9, 99.0f / 9};
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(y[i], want[i]);
}

TEST(Pool, AverageExcludePad) {
  LayerCase c("avg_pool2d", {{1, 1, 4, 4}});
  c.attr("kernel_size", 3).attr("stride", 2).attr("padding", 1).attr("count_include_pad", false);
  auto layer = c.build();
  EXPECT_EQ(c.run(*layer, {iota16()}), (std::vector<float>{14.0f / 4, 30.0f / 6, 57.0f / 6, 99.0f / 9}));
}

TEST(Pool, FloorModeAndDefaultStride) {
  LayerCase c("avg_pool2d", {{1, 1, 5, 5}});
  c.attr("kernel_size", 2);  // stride defaults to 2; the last row and column are dropped
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 2, 2}));
  std::vector<float> x(25);
  for (int i = 0; i < 25; ++i) x[i] = static_cast<float>(i);
  EXPECT_EQ(c.run(*layer, {x}), (std::vector<float>{3, 5, 13, 15}));  // (0+1+5+6)/4 ...
}

TEST(Pool, GlobalAverage) {
  LayerCase c("global_avg_pool2d", {{2, 2, 2, 3}});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{2, 2, 1, 1}));
  EXPECT_EQ(dynamic_cast<const PoolLayer&>(*layer).params().kernel, (Pair{2, 3}));
  std::vector<float> x(24);
  for (int i = 0; i < 24; ++i) x[i] = static_cast<float>(i);
  EXPECT_EQ(c.run(*layer, {x}), (std::vector<float>{2.5f, 8.5f, 14.5f, 20.5f}));
}

std::vector<float> activate(const std::string& op, const std::vector<float>& x, const char* key = nullptr,
                            double value = 0) {
  LayerCase c(op, {{1, static_cast<std::int64_t>(x.size())}});
  if (key) c.attr(key, value);
  auto layer = c.build();
  EXPECT_TRUE(layer->can_run_in_place());
  return c.run(*layer, {x});
}

TEST(Activation, HandChecked) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x{-2.0f, -0.5f, 0.0f, 1.5f};
  EXPECT_EQ(activate("relu", x), (std::vector<float>{0, 0, 0, 1.5f}));
  EXPECT_TRUE(std::isnan(activate("relu", {nan})[0]));
  EXPECT_EQ(activate("leaky_relu", x), (std::vector<float>{-0.02f, -0.005f, 0, 1.5f}));
  EXPECT_EQ(activate("leaky_relu", x, "negative_slope", 0.25), (std::vector<float>{-0.5f, -0.125f, 0, 1.5f}));
  const auto elu = activate("elu", x, "alpha", 2.0);
  EXPECT_FLOAT_EQ(elu[0], 2.0f * (std::exp(-2.0f) - 1.0f));
  EXPECT_FLOAT_EQ(elu[1], 2.0f * (std::exp(-0.5f) - 1.0f));
  EXPECT_EQ(elu[2], 0.0f);
  EXPECT_EQ(elu[3], 1.5f);
  EXPECT_FLOAT_EQ(activate("elu", {-1.0f})[0], std::exp(-1.0f) - 1.0f);  // alpha defaults to 1
  const auto sig = activate("sigmoid", {0.0f, 2.0f, -100.0f, 100.0f});
  EXPECT_EQ(sig[0], 0.5f);
  EXPECT_FLOAT_EQ(sig[1], 1.0f / (1.0f + std::exp(-2.0f)));
  EXPECT_EQ(sig[2], 0.0f);
  EXPECT_EQ(sig[3], 1.0f);
  const auto th = activate("tanh", {0.0f, 0.5f, -20.0f});
  EXPECT_EQ(th[0], 0.0f);
  EXPECT_FLOAT_EQ(th[1], 0.46211715726f);
  EXPECT_EQ(th[2], -1.0f);
}

TEST(Activation, ParamsForBackends) {
  LayerCase c("leaky_relu", {{1, 3, 2, 2}});
  c.attr("negative_slope", 0.2);
  auto layer = c.build();
  const auto& p = dynamic_cast<const ActivationLayer&>(*layer).params();
  EXPECT_EQ(p.kind, ActivationKind::LeakyRelu);
  EXPECT_DOUBLE_EQ(p.alpha, 0.2);
  EXPECT_EQ(layer->output_shape(), (Shape{1, 3, 2, 2}));
}

}  // namespace
}  // namespace kiln::test
