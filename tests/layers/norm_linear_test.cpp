// linear, batch_norm, lrn and softmax against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/linear/linear.h"
#include "layers/batch_norm/batch_norm.h"
#include "layers/lrn/lrn.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

TEST(Linear, HandChecked) {
  LayerCase c("linear", {{2, 3}});
  c.attr("out_features", 2).weight("weight", {2, 3}, {1, 2, 3, -1, 0, 1}).weight("bias", {2}, {0.5f, -0.5f});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{2, 2}));
  // [1,1,1] -> [6.5, -0.5]; [1,2,3] -> [14.5, 1.5]
  EXPECT_EQ(c.run(*layer, {{1, 1, 1, 1, 2, 3}}), (std::vector<float>{6.5f, -0.5f, 14.5f, 1.5f}));
  const auto& lin = dynamic_cast<const LinearLayer&>(*layer);
  EXPECT_EQ(lin.params().in_features, 3);
  EXPECT_TRUE(lin.params().has_bias);
  EXPECT_EQ(lin.bias()->name, "l1.bias");
  EXPECT_EQ(layer->weights().size(), 2u);
  EXPECT_DOUBLE_EQ(layer->flops_per_sample(), 12.0);
}

TEST(BatchNorm, HandChecked) {
  LayerCase c("batch_norm", {{1, 2, 1, 2}});
  c.weight("scale", {2}, {2.0f, -1.0f}).weight("shift", {2}, {1.0f, 0.5f});
  auto layer = c.build();
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4}}), (std::vector<float>{3, 5, -2.5f, -3.5f}));
  const auto& bn = dynamic_cast<const BatchNormLayer&>(*layer);
  EXPECT_EQ(bn.scale().name, "l1.scale");
  EXPECT_EQ(bn.shift().name, "l1.shift");
  EXPECT_EQ(bn.channels(), 2);
  EXPECT_TRUE(layer->can_run_in_place());
}

// x = [1, 2, 3] over 3 channels; window of channel c is c - size/2 .. c + (size-1)/2.
TEST(Lrn, ThreeChannelsEvenSize) {
  LayerCase c("lrn", {{1, 3, 1, 1}});
  c.attr("size", 2).attr("alpha", 0.5).attr("beta", 1.0).attr("k", 1.0);
  auto layer = c.build();
  const auto y = c.run(*layer, {{1, 2, 3}});
  // windows {0}, {0,1}, {1,2}: sums 1, 5, 13; y = x / (1 + 0.5/2 * sum)
  EXPECT_FLOAT_EQ(y[0], 1.0f / 1.25f);
  EXPECT_FLOAT_EQ(y[1], 2.0f / 2.25f);
  EXPECT_FLOAT_EQ(y[2], 3.0f / 4.25f);
}

TEST(Lrn, ThreeChannelsOddSizeAndDefaults) {
  LayerCase c("lrn", {{1, 3, 1, 2}});
  c.attr("size", 3).attr("alpha", 0.3).attr("k", 2);  // beta defaults to 0.75; k given as an integer
  auto layer = c.build();
  EXPECT_DOUBLE_EQ(dynamic_cast<const LrnLayer&>(*layer).params().beta, 0.75);
  const auto y = c.run(*layer, {{1, 0, 2, 0, 3, 0}});
  // windows {0,1}, {0,1,2}, {1,2}: sums 5, 14, 13; y = x / (2 + 0.1 * sum)^0.75
  EXPECT_FLOAT_EQ(y[0], 1.0f / std::pow(2.5f, 0.75f));
  EXPECT_FLOAT_EQ(y[2], 2.0f / std::pow(3.4f, 0.75f));
  EXPECT_FLOAT_EQ(y[4], 3.0f / std::pow(3.3f, 0.75f));
  EXPECT_EQ(y[1], 0.0f);
}

TEST(Softmax, FourDOverChannelsIsStable) {
  LayerCase c("softmax", {{1, 3, 1, 2}});
  auto layer = c.build();
  // Position 0: logits 0, 1, 2; position 1: 1000, 1000, 1000 (overflows without the max shift).
  const auto y = c.run(*layer, {{0, 1000, 1, 1000, 2, 1000}});
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  EXPECT_FLOAT_EQ(y[0], static_cast<float>(1 / z));
  EXPECT_FLOAT_EQ(y[2], static_cast<float>(std::exp(1.0) / z));
  EXPECT_FLOAT_EQ(y[4], static_cast<float>(std::exp(2.0) / z));
  for (int i : {1, 3, 5}) EXPECT_FLOAT_EQ(y[i], 1.0f / 3);
}

TEST(Softmax, TwoD) {
  LayerCase c("softmax", {{2, 2}});
  c.attr("axis", 1);
  auto layer = c.build();
  const auto y = c.run(*layer, {{0, 0, -1, 1}});
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(y[1], 0.5f);
  EXPECT_FLOAT_EQ(y[2], static_cast<float>(1 / (1 + std::exp(2.0))));
  EXPECT_FLOAT_EQ(y[3], static_cast<float>(1 / (1 + std::exp(-2.0))));
}

}  // namespace
}  // namespace kiln::test
