// add, concat, flatten, upsample_nearest against values computed by hand.
#include <gtest/gtest.h>

#include "layers/upsample/upsample.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

TEST(Add, ThreeInputs) {
  LayerCase c("add", {{1, 4}, {1, 4}, {1, 4}});
  auto layer = c.build();
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4}, {10, 20, 30, 40}, {100, 200, 300, 400}}),
            (std::vector<float>{111, 222, 333, 444}));
}

TEST(Concat, FourDChannels) {
  LayerCase c("concat", {{2, 1, 1, 2}, {2, 2, 1, 2}});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{2, 3, 1, 2}));
  // Per sample: a's channel, then b's two channels.
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4}, {10, 11, 12, 13, 14, 15, 16, 17}}),
            (std::vector<float>{1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17}));
}

TEST(Concat, TwoD) {
  LayerCase c("concat", {{2, 1}, {2, 2}});
  c.attr("axis", 1);
  auto layer = c.build();
  EXPECT_EQ(c.run(*layer, {{1, 2}, {10, 11, 12, 13}}), (std::vector<float>{1, 10, 11, 2, 12, 13}));
}

TEST(Flatten, ViewCopiesOnlyWhenAskedTo) {
  LayerCase c("flatten", {{2, 3, 1, 2}});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{2, 6}));
  EXPECT_TRUE(layer->is_view());
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);
  EXPECT_EQ(c.run(*layer, {x}), x);
  CpuForwardArgs same;
  same.inputs = {x.data()};
  same.output = x.data();
  same.batch = 2;
  layer->forward_cpu(same);
  EXPECT_EQ(x[11], 11.0f);
}

TEST(Upsample, NearestNonSquareScale) {
  LayerCase c("upsample_nearest", {{1, 1, 2, 2}});
  c.attr("scale", std::vector<std::int64_t>{2, 3});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 4, 6}));
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4}}), (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                                              3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  EXPECT_EQ(dynamic_cast<const UpsampleLayer&>(*layer).params().scale, (Pair{2, 3}));
}

TEST(Upsample, DefaultScaleIsTwo) {
  LayerCase c("upsample_nearest", {{1, 2, 1, 1}});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(c.run(*layer, {{5, 6}}), (std::vector<float>{5, 5, 5, 5, 6, 6, 6, 6}));
}

}  // namespace
}  // namespace kiln::test
