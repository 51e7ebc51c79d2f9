// Ceil mode, dilation, divisor_override, adaptive and global max pooling: output sizes over a table
// of shapes, values computed by hand (and checked once against PyTorch 1.13), a brute-force
// reference written from PyTorch's definitions on random data, and validation messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "layers/pool/pool.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;
using Ints = std::vector<std::int64_t>;

// x[h][w] = h * W + w (+ offset) over one plane.
std::vector<float> ramp(std::int64_t H, std::int64_t W, float offset = 0.0f) {
  std::vector<float> v(static_cast<std::size_t>(H * W));
  for (std::int64_t i = 0; i < H * W; ++i) v[i] = static_cast<float>(i) + offset;
  return v;
}

struct SizeRow {
  std::string op;
  Shape in;
  Ints kernel, stride, padding, dilation;
  bool ceil;
  Shape out;
};

// PyTorch's output sizes (torch.nn.functional.max_pool2d / avg_pool2d on these shapes).
TEST(PoolCeilMode, OutputSizesFollowPyTorch) {
  const std::vector<SizeRow> rows = {
      {"max_pool2d", {1, 1, 5, 5}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false, {1, 1, 2, 2}},
      {"max_pool2d", {1, 1, 5, 5}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, true, {1, 1, 3, 3}},
      // squeezenet's pool: 3x3 stride 2 ceil on 111 -> 55, on 54 -> 27 (floor: 26)
      {"max_pool2d", {1, 2, 111, 54}, {3, 3}, {2, 2}, {0, 0}, {1, 1}, true, {1, 2, 55, 27}},
      // the last window would start in the right padding: ceil's extra output is dropped
      {"max_pool2d", {1, 1, 5, 5}, {2, 2}, {2, 2}, {1, 1}, {1, 1}, true, {1, 1, 3, 3}},
      // googlenet: 3x3 stride 2 ceil on 112 -> 56, on 7 (kernel 2 stride 2) -> 4
      {"max_pool2d", {1, 1, 112, 7}, {3, 2}, {2, 2}, {0, 0}, {1, 1}, true, {1, 1, 56, 4}},
      {"max_pool2d", {1, 1, 2, 2}, {3, 3}, {2, 2}, {0, 0}, {1, 1}, true, {1, 1, 1, 1}},  // room -1, ceil rescues it
      {"max_pool2d", {1, 1, 9, 10}, {2, 3}, {1, 2}, {1, 1}, {3, 2}, false, {1, 1, 8, 4}},
      {"max_pool2d", {1, 1, 9, 10}, {2, 3}, {1, 2}, {1, 1}, {3, 2}, true, {1, 1, 8, 5}},
      {"avg_pool2d", {1, 1, 6, 6}, {1, 3}, {1, 2}, {0, 1}, {1, 1}, true, {1, 1, 6, 4}},
      {"avg_pool2d", {1, 1, 6, 6}, {1, 3}, {1, 2}, {0, 1}, {1, 1}, false, {1, 1, 6, 3}},
  };
  for (const SizeRow& r : rows) {
    LayerCase c(r.op, {r.in});
    c.attr("kernel_size", r.kernel).attr("stride", r.stride).attr("padding", r.padding).attr("ceil_mode", r.ceil);
    if (r.op == "max_pool2d") c.attr("dilation", r.dilation);
    auto layer = c.build();
    EXPECT_EQ(layer->output_shape(), r.out) << r.op << " " << r.in[2] << "x" << r.in[3] << " ceil " << r.ceil;
  }
}

TEST(PoolCeilMode, MaxTakesTheClippedLastWindow) {
  LayerCase c("max_pool2d", {{1, 1, 5, 5}});
  c.attr("kernel_size", 2).attr("ceil_mode", true);
  auto layer = c.build();
  // Row and column windows {0,1}, {2,3}, {4}: the maxima sit at rows/columns 1, 3, 4.
  EXPECT_EQ(c.run(*layer, {ramp(5, 5)}), (std::vector<float>{6, 8, 9, 16, 18, 19, 21, 23, 24}));
}

TEST(PoolCeilMode, MaxWithPaddingDropsTheWindowInThePadding) {
  LayerCase c("max_pool2d", {{1, 1, 5, 5}});
  c.attr("kernel_size", 2).attr("padding", 1).attr("ceil_mode", true);
  auto layer = c.build();
  // Windows {-1,0}, {1,2}, {3,4}: maxima at 0, 2, 4.
  EXPECT_EQ(c.run(*layer, {ramp(5, 5)}), (std::vector<float>{0, 2, 4, 10, 12, 14, 20, 22, 24}));
}

// 1x6 input 1..6, kernel 1x3, stride 1x2, padding 0x1, ceil: windows start at -1, 1, 3, 5; the last
// holds only position 5 and the padded input ends at 7, so count_include_pad divides it by 2.
std::vector<float> avg_ceil(bool include_pad, std::int64_t divisor = 0) {
  LayerCase c("avg_pool2d", {{1, 1, 1, 6}});
  c.attr("kernel_size", Ints{1, 3}).attr("stride", Ints{1, 2}).attr("padding", Ints{0, 1}).attr("ceil_mode", true);
  c.attr("count_include_pad", include_pad);
  if (divisor > 0) c.attr("divisor_override", divisor);
  auto layer = c.build();
  EXPECT_EQ(layer->output_shape(), (Shape{1, 1, 1, 4}));
  return c.run(*layer, {ramp(1, 6, 1.0f)});
}

TEST(PoolCeilMode, AverageDivisorsFollowPyTorch) {
  EXPECT_EQ(avg_ceil(true), (std::vector<float>{1, 3, 5, 3}));        // sums 3, 9, 15, 6 over 3, 3, 3, 2
  EXPECT_EQ(avg_ceil(false), (std::vector<float>{1.5f, 3, 5, 6}));    // over 2, 3, 3, 1
  EXPECT_EQ(avg_ceil(true, 2), (std::vector<float>{1.5f, 4.5f, 7.5f, 3}));
  EXPECT_EQ(avg_ceil(false, 4), (std::vector<float>{0.75f, 2.25f, 3.75f, 1.5f}));
}

TEST(PoolDilation, MaxReadsEveryDilationthPosition) {
  LayerCase c("max_pool2d", {{1, 1, 5, 5}});
  c.attr("kernel_size", 2).attr("stride", 1).attr("dilation", 2);
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 3, 3}));
  // Window {h, h+2} x {w, w+2}: the maximum is at (h+2, w+2).
  EXPECT_EQ(c.run(*layer, {ramp(5, 5)}), (std::vector<float>{12, 13, 14, 17, 18, 19, 22, 23, 24}));
}

TEST(PoolDilation, AWindowWithNoInputPositionIsMinusInfinity) {
  LayerCase c("max_pool2d", {{1, 1, 2, 2}});
  c.attr("kernel_size", 2).attr("stride", 1).attr("padding", 1).attr("dilation", 3);
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 1, 1}));
  const auto y = c.run(*layer, {{1, 2, 3, 4}});  // positions -1 and 2: both outside
  EXPECT_EQ(y[0], -std::numeric_limits<float>::infinity());
}

// A brute-force sliding-window reference written from PyTorch's definitions (every kernel tap
// tested against the input and the padded input), independent of pool_window.h.
float brute_sliding(const std::vector<float>& x, std::int64_t H, std::int64_t W, std::int64_t oh, std::int64_t ow,
                    const Ints& k, const Ints& s, const Ints& p, const Ints& d, bool is_max, bool include_pad) {
  float m = -std::numeric_limits<float>::infinity(), sum = 0.0f;
  std::int64_t valid = 0, padded = 0;
  for (std::int64_t i = 0; i < k[0]; ++i)
    for (std::int64_t j = 0; j < k[1]; ++j) {
      const std::int64_t h = oh * s[0] - p[0] + i * d[0], w = ow * s[1] - p[1] + j * d[1];
      if (h < H + p[0] && w < W + p[1]) ++padded;
      if (h < 0 || h >= H || w < 0 || w >= W) continue;
      ++valid;
      m = std::max(m, x[h * W + w]);
      sum += x[h * W + w];
    }
  if (is_max) return m;
  return sum / static_cast<float>(include_pad ? padded : valid);
}

struct RandomRow {
  std::string op;
  Shape in;
  Ints kernel, stride, padding, dilation;
  bool ceil, include_pad;
};

TEST(PoolSliding, MatchesABruteForceReferenceOnRandomData) {
  const std::vector<RandomRow> rows = {
      {"max_pool2d", {2, 3, 13, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true, true},
      {"max_pool2d", {1, 5, 9, 10}, {2, 3}, {1, 2}, {1, 1}, {3, 2}, true, true},
      {"max_pool2d", {1, 2, 8, 7}, {3, 2}, {3, 1}, {1, 1}, {2, 1}, false, true},
      {"avg_pool2d", {2, 3, 13, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true, true},
      {"avg_pool2d", {2, 3, 13, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true, false},
      {"avg_pool2d", {1, 4, 7, 8}, {2, 3}, {2, 3}, {1, 1}, {1, 1}, true, true},
      {"avg_pool2d", {1, 4, 7, 8}, {5, 4}, {3, 3}, {2, 2}, {1, 1}, true, false},
  };
  std::mt19937 rng(std::random_device{}());
  for (const RandomRow& r : rows) {
    LayerCase c(r.op, {r.in});
    c.attr("kernel_size", r.kernel).attr("stride", r.stride).attr("padding", r.padding).attr("ceil_mode", r.ceil);
    const bool is_max = r.op == "max_pool2d";
    if (is_max) {
      c.attr("dilation", r.dilation);
    } else {
      c.attr("count_include_pad", r.include_pad);
    }
    auto layer = c.build();
    const std::vector<float> x = random_floats(static_cast<std::size_t>(count(r.in)), rng);
    const auto y = c.run(*layer, {x}, r.in[0]);
    const Shape& o = layer->output_shape();
    const std::int64_t H = r.in[2], W = r.in[3], planes = r.in[0] * r.in[1];
    ASSERT_EQ(y.size(), static_cast<std::size_t>(planes * o[2] * o[3]));
    for (std::int64_t pl = 0; pl < planes; ++pl) {
      const std::vector<float> plane(x.begin() + pl * H * W, x.begin() + (pl + 1) * H * W);
      for (std::int64_t oh = 0; oh < o[2]; ++oh)
        for (std::int64_t ow = 0; ow < o[3]; ++ow) {
          const float want = brute_sliding(plane, H, W, oh, ow, r.kernel, r.stride, r.padding, r.dilation, is_max,
                                           r.include_pad);
          ASSERT_NEAR(y[(pl * o[2] + oh) * o[3] + ow], want, 1e-6f) << r.op << " at " << pl << "," << oh << "," << ow;
        }
    }
  }
}

// 13x13 ramp (x = 13h + w) to 6x6: row and column windows [0,3), [2,5), [4,7), [6,9), [8,11), [10,13),
// whose means are 1, 3, ..., 11 and maxima 2, 4, ..., 12.
TEST(AdaptivePool, ThirteenToSix) {
  LayerCase avg("adaptive_avg_pool2d", {{1, 1, 13, 13}});
  avg.attr("output_size", 6);
  auto a = avg.build();
  ASSERT_EQ(a->output_shape(), (Shape{1, 1, 6, 6}));
  LayerCase max("adaptive_max_pool2d", {{1, 1, 13, 13}});
  max.attr("output_size", Ints{6, 6});
  auto m = max.build();
  const auto ya = avg.run(*a, {ramp(13, 13)});
  const auto ym = max.run(*m, {ramp(13, 13)});
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      EXPECT_FLOAT_EQ(ya[i * 6 + j], static_cast<float>(13 * (2 * i + 1) + 2 * j + 1)) << i << "," << j;
      EXPECT_EQ(ym[i * 6 + j], static_cast<float>(13 * (2 * i + 2) + 2 * j + 2)) << i << "," << j;
    }
}

// 5x5 ramp (x = 5h + w) to 7x7: windows [0,1), [0,2), [1,3), [2,3), [2,4), [3,5), [4,5) overlap.
TEST(AdaptivePool, FiveToSevenUpsamples) {
  const float mean[] = {0, 0.5f, 1.5f, 2, 2.5f, 3.5f, 4};
  const float last[] = {0, 1, 2, 2, 3, 4, 4};
  LayerCase avg("adaptive_avg_pool2d", {{1, 1, 5, 5}});
  avg.attr("output_size", 7);
  auto a = avg.build();
  LayerCase max("adaptive_max_pool2d", {{1, 1, 5, 5}});
  max.attr("output_size", 7);
  auto m = max.build();
  const auto ya = avg.run(*a, {ramp(5, 5)});
  const auto ym = max.run(*m, {ramp(5, 5)});
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 7; ++j) {
      EXPECT_FLOAT_EQ(ya[i * 7 + j], 5 * mean[i] + mean[j]) << i << "," << j;
      EXPECT_EQ(ym[i * 7 + j], 5 * last[i] + last[j]) << i << "," << j;
    }
  EXPECT_EQ(dynamic_cast<const PoolLayer&>(*a).params().mode, PoolMode::AdaptiveAverage);
}

TEST(AdaptivePool, ToOneByOneAndNonSquare) {
  LayerCase one("adaptive_avg_pool2d", {{2, 2, 2, 3}});
  one.attr("output_size", 1);
  auto l1 = one.build();
  ASSERT_EQ(l1->output_shape(), (Shape{2, 2, 1, 1}));
  EXPECT_EQ(one.run(*l1, {ramp(1, 24)}), (std::vector<float>{2.5f, 8.5f, 14.5f, 20.5f}));
  LayerCase rect("adaptive_max_pool2d", {{1, 1, 4, 6}});
  rect.attr("output_size", Ints{1, 3});  // rows [0,4); columns [0,2), [2,4), [4,6)
  auto l2 = rect.build();
  EXPECT_EQ(rect.run(*l2, {ramp(4, 6)}), (std::vector<float>{19, 21, 23}));
}

TEST(GlobalMaxPool, TakesThePlaneMaximumAndPropagatesNaN) {
  LayerCase c("global_max_pool2d", {{2, 2, 2, 3}});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{2, 2, 1, 1}));
  EXPECT_EQ(dynamic_cast<const PoolLayer&>(*layer).params().kernel, (Pair{2, 3}));
  std::vector<float> x = ramp(1, 24, -30.0f);  // all negative in the first plane
  x[13] = std::numeric_limits<float>::quiet_NaN();
  const auto y = c.run(*layer, {x});
  EXPECT_EQ(y[0], -25.0f);
  EXPECT_EQ(y[1], -19.0f);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_EQ(y[3], -7.0f);
}

TEST(PoolMoreValidation, Messages) {
  LayerCase max_attrs("max_pool2d", {{1, 1, 4, 4}});
  max_attrs.attr("kernel_size", 2).attr("divisor_override", 2);
  EXPECT_THAT(max_attrs.build_error(), HasSubstr("unknown attribute 'divisor_override' (max_pool2d takes: "
                                                 "ceil_mode, dilation, kernel_size, padding, stride)"));
  LayerCase avg_attrs("avg_pool2d", {{1, 1, 4, 4}});
  avg_attrs.attr("kernel_size", 2).attr("dilation", 2);
  EXPECT_THAT(avg_attrs.build_error(), HasSubstr("unknown attribute 'dilation' (avg_pool2d takes: ceil_mode, "
                                                 "count_include_pad, divisor_override, kernel_size, padding, stride)"));
  LayerCase divisor("avg_pool2d", {{1, 1, 4, 4}});
  divisor.attr("kernel_size", 2).attr("divisor_override", 0);
  EXPECT_THAT(divisor.build_error(), HasSubstr("attribute 'divisor_override' must be at least 1, found 0"));
  LayerCase ceil("max_pool2d", {{1, 1, 4, 4}});
  ceil.attr("kernel_size", 2).attr("ceil_mode", 1);
  EXPECT_THAT(ceil.build_error(), HasSubstr("attribute 'ceil_mode': expected true or false, found integer 1"));
  LayerCase dilation("max_pool2d", {{1, 1, 4, 4}});
  dilation.attr("kernel_size", 2).attr("dilation", 0);
  EXPECT_THAT(dilation.build_error(), HasSubstr("attribute 'dilation' must be at least 1, found [0, 0]"));
  LayerCase small("max_pool2d", {{1, 1, 4, 4}});
  small.attr("kernel_size", 2).attr("dilation", 4);
  EXPECT_THAT(small.build_error(), HasSubstr("input 4x4 is too small for kernel 2x2 with padding 0x0 and dilation 4x4"));
  LayerCase zero("adaptive_avg_pool2d", {{1, 1, 4, 4}});
  zero.attr("output_size", Ints{0, 3});
  EXPECT_THAT(zero.build_error(), HasSubstr("attribute 'output_size' must be at least 1, found [0, 3]"));
  LayerCase huge("adaptive_max_pool2d", {{1, 1, 4, 4}});
  huge.attr("output_size", Ints{3, (1 << 20) + 1});
  EXPECT_THAT(huge.build_error(), HasSubstr("attribute 'output_size' must be at most 1048576, found [3, 1048577]"));
  LayerCase missing("adaptive_avg_pool2d", {{1, 1, 4, 4}});
  EXPECT_THAT(missing.build_error(), HasSubstr("missing required attribute 'output_size'"));
  LayerCase global("global_max_pool2d", {{1, 1, 4, 4}});
  global.attr("output_size", 1);
  EXPECT_THAT(global.build_error(),
              HasSubstr("unknown attribute 'output_size' (global_max_pool2d takes no attributes)"));
  LayerCase rank("adaptive_max_pool2d", {{1, 4}});
  rank.attr("output_size", 1);
  EXPECT_THAT(rank.build_error(), HasSubstr("input 'in0' must be 4-D (NCHW), found shape [1,4]"));
}

}  // namespace
}  // namespace kiln::test
