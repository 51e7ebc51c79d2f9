// upsample_nearest's size form ('nearest', 'nearest-exact', scale_factor) and upsample_bilinear
// (align_corners false and true) against values computed by hand (each checked once against
// PyTorch 1.13's torch.nn.functional.interpolate), over a table of shapes, and validation messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "layers/upsample/upsample.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;
using Ints = std::vector<std::int64_t>;

std::vector<float> ramp(std::int64_t n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " at " << i;
}

struct Row {
  std::string label;
  std::string op;
  Shape in;
  Ints size;
  std::string mode;         // upsample_nearest's mode ("" = default)
  int align_corners;        // upsample_bilinear: -1 = default
  double scale_factor;      // 0 = absent
  std::vector<float> want;  // on ramp input (x = 0, 1, 2, ... in memory order)
};

// Ramps make hand values easy: nearest picks source indices, and bilinear along one axis of a ramp
// gives the source position itself, clamped to [0, in - 1].
TEST(UpsampleSizeForm, MatchesHandValuesOverATableOfShapes) {
  const std::vector<Row> rows = {
      // 2x3 -> 3x5: rows {0,0,1}, columns {0,0,1,1,2} (scale 2/3 and 3/5 in float)
      {"nearest_3x5", "upsample_nearest", {1, 1, 2, 3}, {3, 5}, "", -1, 0.0,
       {0, 0, 1, 1, 2, 0, 0, 1, 1, 2, 3, 3, 4, 4, 5}},
      // nearest-exact: rows {0,1,1}, columns {0,0,1,2,2}
      {"nearest_exact_3x5", "upsample_nearest", {1, 1, 2, 3}, {3, 5}, "nearest-exact", -1, 0.0,
       {0, 0, 1, 2, 2, 3, 3, 4, 5, 5, 3, 3, 4, 5, 5}},
      // 5 -> 8: with in/out = 0.625 column 5 reads 3, with a kept scale_factor 1.7 (1/1.7) it reads 2
      {"nearest_5to8", "upsample_nearest", {1, 1, 1, 5}, {1, 8}, "", -1, 0.0, {0, 0, 1, 1, 2, 3, 3, 4}},
      {"nearest_5to8_sf", "upsample_nearest", {1, 1, 1, 5}, {1, 8}, "", -1, 1.7, {0, 0, 1, 1, 2, 2, 3, 4}},
      // downsampling 7 -> 3: scale 7/3, columns {0, 2, 4}; exact: {1, 3, 5}
      {"nearest_down", "upsample_nearest", {1, 1, 1, 7}, {1, 3}, "", -1, 0.0, {0, 2, 4}},
      {"nearest_exact_down", "upsample_nearest", {1, 1, 1, 7}, {1, 3}, "nearest-exact", -1, 0.0, {1, 3, 5}},
      // two planes (channels) 1x2 -> 1x3: columns {0, 0, 1}
      {"nearest_channels", "upsample_nearest", {1, 2, 1, 2}, {1, 3}, "", -1, 0.0, {0, 0, 1, 2, 2, 3}},
      // 2x2 -> 3x3, half-pixel centres: positions 0, 0.5, 1 (the last clamped from 1.17)
      {"bilinear_3x3", "upsample_bilinear", {1, 1, 2, 2}, {3, 3}, "", -1, 0.0, {0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3}},
      // 2 -> 4: half-pixel positions 0 (clamped), 0.25, 0.75, 1 (clamped); corners: 0, 1/3, 2/3, 1
      {"bilinear_2to4", "upsample_bilinear", {1, 1, 1, 2}, {1, 4}, "", 0, 0.0, {0, 0.25f, 0.75f, 1}},
      {"bilinear_2to4_corners", "upsample_bilinear", {1, 1, 1, 2}, {1, 4}, "", 1, 0.0, {0, 1.f / 3, 2.f / 3, 1}},
      // 7 -> 3: positions 2/3, 3, 16/3; corners 0, 3, 6
      {"bilinear_down", "upsample_bilinear", {1, 1, 1, 7}, {1, 3}, "", -1, 0.0, {2.f / 3, 3, 16.f / 3}},
      {"bilinear_down_corners", "upsample_bilinear", {1, 1, 1, 7}, {1, 3}, "", 1, 0.0, {0, 3, 6}},
      // 5 -> 8 with a kept scale_factor 1.7: positions (d + 0.5) / 1.7 - 0.5
      {"bilinear_5to8_sf", "upsample_bilinear", {1, 1, 1, 5}, {1, 8}, "", -1, 1.7,
       {0, 0.382353f, 0.970588f, 1.558824f, 2.147059f, 2.735294f, 3.323529f, 3.911765f}},
      // from 1x1 (the ASPP pooling branch): every output is the one input
      {"bilinear_from_1x1", "upsample_bilinear", {1, 2, 1, 1}, {2, 3}, "", -1, 0.0, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}},
      {"bilinear_from_1x1_corners", "upsample_bilinear", {1, 1, 1, 1}, {2, 2}, "", 1, 0.0, {0, 0, 0, 0}},
      // equal sizes copy
      {"bilinear_same", "upsample_bilinear", {1, 1, 2, 2}, {2, 2}, "", 0, 0.0, {0, 1, 2, 3}},
  };
  for (const Row& r : rows) {
    LayerCase c(r.op, {r.in});
    c.attr("size", r.size);
    if (!r.mode.empty()) c.attr("mode", r.mode.c_str());
    if (r.align_corners >= 0) c.attr("align_corners", r.align_corners == 1);
    if (r.scale_factor > 0) c.attr("scale_factor", r.scale_factor);
    auto layer = c.build();
    ASSERT_EQ(layer->output_shape(), (Shape{r.in[0], r.in[1], r.size[0], r.size[1]})) << r.label;
    expect_near(c.run(*layer, {ramp(count(r.in))}), r.want, 1e-6f, r.label);
  }
}

// A kept scale_factor applies even at 2x (PyTorch's NCHW kernel has no exact 2x copy): 30 -> 60
// with scale_factor 2.01 reads floor(w / 2.01), so columns 0, 0, 0, 1, 1, ... and 58 -> 28, 59 -> 29;
// 5 -> 5 with 1.1 reads 0, 0, 1, 2, 3.
TEST(UpsampleSizeForm, AKeptScaleFactorAppliesAtTwoAndOneTimes) {
  LayerCase c("upsample_nearest", {{1, 1, 1, 30}});
  c.attr("size", Ints{2, 60}).attr("scale_factor", 2.01);
  auto layer = c.build();
  const auto y = c.run(*layer, {ramp(30)});
  for (int w = 0; w < 60; ++w) {
    const float want = std::floor(static_cast<float>(w) * static_cast<float>(1.0 / 2.01));
    EXPECT_EQ(y[w], want) << w;
    EXPECT_EQ(y[60 + w], want) << w;
  }
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[58], 28.0f);
  EXPECT_EQ(y[59], 29.0f);
  LayerCase same("upsample_nearest", {{1, 1, 1, 5}});
  same.attr("size", Ints{1, 5}).attr("scale_factor", 1.1);
  auto l2 = same.build();
  EXPECT_EQ(same.run(*l2, {ramp(5)}), (std::vector<float>{0, 0, 1, 2, 3}));
}

// The size form at an integer ratio picks what the scale form picks, on random data and a batch.
TEST(UpsampleSizeForm, IntegerRatioMatchesTheScaleForm) {
  std::mt19937 rng(std::random_device{}());
  const Shape in{2, 3, 3, 4};
  const std::vector<float> x = random_floats(static_cast<std::size_t>(count(in)), rng);
  LayerCase sized("upsample_nearest", {in});
  sized.attr("size", Ints{6, 12});
  LayerCase scaled("upsample_nearest", {in});
  scaled.attr("scale", Ints{2, 3});
  auto a = sized.build();
  auto b = scaled.build();
  EXPECT_FALSE(dynamic_cast<const UpsampleLayer&>(*a).params().integer_scale());
  EXPECT_TRUE(dynamic_cast<const UpsampleLayer&>(*b).params().integer_scale());
  EXPECT_EQ(sized.run(*a, {x}, 2), scaled.run(*b, {x}, 2));
}

// Bilinear of values that are affine in h and w reproduces them at the source positions, so random
// planes a*h + b*w + c check both axes and every plane of a batch at once.
TEST(UpsampleBilinear, AffinePlanesOnRandomCoefficients) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> coef(-2.0f, 2.0f);
  const Shape in{2, 3, 4, 5};
  const Ints size{7, 9};
  for (const bool corners : {false, true}) {
    std::vector<float> x, want;
    for (std::int64_t p = 0; p < in[0] * in[1]; ++p) {
      const float a = coef(rng), b = coef(rng), c0 = coef(rng);
      for (std::int64_t h = 0; h < in[2]; ++h)
        for (std::int64_t w = 0; w < in[3]; ++w) x.push_back(a * h + b * w + c0);
      for (std::int64_t h = 0; h < size[0]; ++h)
        for (std::int64_t w = 0; w < size[1]; ++w) {
          // Source positions: (in-1)/(out-1) * d with corners, else clamp((d + 0.5) * in/out - 0.5).
          const double sh = corners ? 3.0 / 6.0 * h : std::clamp((h + 0.5) * 4.0 / 7.0 - 0.5, 0.0, 3.0);
          const double sw = corners ? 4.0 / 8.0 * w : std::clamp((w + 0.5) * 5.0 / 9.0 - 0.5, 0.0, 4.0);
          want.push_back(static_cast<float>(a * sh + b * sw + c0));
        }
    }
    LayerCase c("upsample_bilinear", {in});
    c.attr("size", size).attr("align_corners", corners);
    auto layer = c.build();
    expect_near(c.run(*layer, {x}, 2), want, 1e-5f, corners ? "corners" : "half pixel");
  }
}

TEST(UpsampleValidation, Messages) {
  LayerCase both("upsample_nearest", {{1, 1, 4, 4}});
  both.attr("scale", 2).attr("size", Ints{8, 8});
  EXPECT_THAT(both.build_error(), HasSubstr("attribute 'scale' and 'size' are alternatives: give one of them"));
  LayerCase mode("upsample_nearest", {{1, 1, 4, 4}});
  mode.attr("mode", "nearest-exact");
  EXPECT_THAT(mode.build_error(), HasSubstr("attribute 'mode' is only taken with 'size'"));
  LayerCase bad_mode("upsample_nearest", {{1, 1, 4, 4}});
  bad_mode.attr("size", Ints{8, 8}).attr("mode", "bilinear");
  EXPECT_THAT(bad_mode.build_error(), HasSubstr("attribute 'mode': expected one of 'nearest', 'nearest-exact'"));
  LayerCase zero("upsample_nearest", {{1, 1, 4, 4}});
  zero.attr("size", Ints{0, 4});
  EXPECT_THAT(zero.build_error(), HasSubstr("attribute 'size' must be at least 1, found [0, 4]"));
  LayerCase huge("upsample_bilinear", {{1, 1, 4, 4}});
  huge.attr("size", Ints{4, (1 << 20) + 1});
  EXPECT_THAT(huge.build_error(), HasSubstr("attribute 'size' must be at most 1048576, found [4, 1048577]"));
  LayerCase sf("upsample_nearest", {{1, 1, 1, 5}});
  sf.attr("size", Ints{1, 9}).attr("scale_factor", 1.7);
  EXPECT_THAT(sf.build_error(), HasSubstr("attribute 'scale_factor' is inconsistent with size 1x9: input 1x5"));
  LayerCase negative("upsample_bilinear", {{1, 1, 1, 5}});
  negative.attr("size", Ints{1, 9}).attr("scale_factor", -1.0);
  EXPECT_THAT(negative.build_error(), HasSubstr("attribute 'scale_factor' must be greater than 0"));
  LayerCase corners("upsample_bilinear", {{1, 1, 2, 2}});
  corners.attr("size", Ints{4, 4}).attr("align_corners", true).attr("scale_factor", 2.0);
  EXPECT_THAT(corners.build_error(), HasSubstr("attribute 'scale_factor' has no effect with align_corners: true"));
  LayerCase missing("upsample_bilinear", {{1, 1, 2, 2}});
  EXPECT_THAT(missing.build_error(), HasSubstr("missing required attribute 'size'"));
  LayerCase unknown("upsample_bilinear", {{1, 1, 2, 2}});
  unknown.attr("size", 4).attr("mode", "nearest");
  EXPECT_THAT(unknown.build_error(), HasSubstr("unknown attribute 'mode' (upsample_bilinear takes: align_corners, "
                                               "scale, scale_factor, size)"));
  LayerCase size_and_scale("upsample_bilinear", {{1, 1, 2, 2}});
  size_and_scale.attr("size", 4).attr("scale", 2);
  EXPECT_THAT(size_and_scale.build_error(), HasSubstr("attribute 'size' is not taken with 'scale'"));
  LayerCase nearest_unknown("upsample_nearest", {{1, 1, 2, 2}});
  nearest_unknown.attr("align_corners", false);
  EXPECT_THAT(nearest_unknown.build_error(), HasSubstr("unknown attribute 'align_corners' (upsample_nearest takes: "
                                                       "mode, scale, scale_factor, size)"));
  LayerCase rank("upsample_bilinear", {{1, 2, 4}});
  rank.attr("size", 4);
  EXPECT_THAT(rank.build_error(), HasSubstr("input 'in0' must be 4-D (NCHW), found shape [1,2,4]"));
}

// The second-input form: the output takes input 1's height and width and equals the `size` form of
// that size, value for value; input 1's values are never read.
TEST(UpsampleLikeTensor, TakesTheSecondInputsSizeAndMatchesTheSizeForm) {
  const std::vector<float> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // [1, 1, 3, 4]
  for (const char* op : {"upsample_bilinear", "upsample_nearest"}) {
    for (const char* mode : {"", "nearest-exact", "corners"}) {
      const bool bilinear = std::string(op) == "upsample_bilinear";
      if ((std::string(mode) == "corners") != bilinear && *mode) continue;
      LayerCase like(op, {{1, 1, 3, 4}, {1, 3, 7, 5}});
      LayerCase sized(op, {{1, 1, 3, 4}});
      sized.attr("size", Ints{7, 5});
      if (std::string(mode) == "corners") {
        like.attr("align_corners", true);
        sized.attr("align_corners", true);
      } else if (*mode) {
        like.attr("mode", mode);
        sized.attr("mode", mode);
      }
      const auto a = like.build();
      const auto b = sized.build();
      EXPECT_EQ(a->output_shape(), (Shape{1, 1, 7, 5})) << op << " " << mode;
      const std::vector<float> garbage(105, 1e30f);  // input 1: only its shape counts
      EXPECT_EQ(like.run(*a, {x, garbage}), sized.run(*b, {x})) << op << " " << mode;
    }
  }
}

// Bilinear's integer `scale` form equals the `size` form of that size, both ways of align_corners.
TEST(UpsampleBilinearScale, EqualsTheSizeFormOfThatSize) {
  const std::vector<float> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // [1, 1, 3, 4]
  for (const bool corners : {false, true}) {
    LayerCase scaled("upsample_bilinear", {{1, 1, 3, 4}});
    scaled.attr("scale", Ints{2, 3}).attr("align_corners", corners);
    LayerCase sized("upsample_bilinear", {{1, 1, 3, 4}});
    sized.attr("size", Ints{6, 12}).attr("align_corners", corners);
    const auto a = scaled.build();
    const auto b = sized.build();
    EXPECT_EQ(a->output_shape(), (Shape{1, 1, 6, 12}));
    EXPECT_EQ(scaled.run(*a, {x}), sized.run(*b, {x})) << corners;
  }
}

TEST(UpsampleLikeTensor, RefusesASizeBesidesTheSecondInputAndOtherBatches) {
  LayerCase size("upsample_bilinear", {{1, 1, 3, 4}, {1, 3, 7, 5}});
  size.attr("size", Ints{7, 5});
  EXPECT_THAT(size.build_error(), HasSubstr("attribute 'size' is not taken with a second input"));
  LayerCase sf("upsample_nearest", {{1, 1, 3, 4}, {1, 3, 7, 5}});
  sf.attr("scale_factor", 2.0);
  EXPECT_THAT(sf.build_error(), HasSubstr("attribute 'scale_factor' is not taken with a second input"));
  LayerCase scale("upsample_nearest", {{1, 1, 3, 4}, {1, 3, 6, 8}});
  scale.attr("scale", 2);
  EXPECT_THAT(scale.build_error(), HasSubstr("attribute 'scale' is not taken with a second input"));
  LayerCase batch("upsample_bilinear", {{2, 1, 3, 4}, {1, 3, 7, 5}});
  EXPECT_THAT(batch.build_error(), HasSubstr("input 1 has batch 1, input 0 2"));
  LayerCase rank("upsample_bilinear", {{1, 1, 3, 4}, {1, 21}});
  EXPECT_THAT(rank.build_error(), HasSubstr("must be 4-D (NCHW), found shape [1,21]"));
  LayerCase three("upsample_bilinear", {{1, 1, 3, 4}, {1, 3, 7, 5}, {1, 3, 7, 5}});
  EXPECT_THAT(three.build_error(), HasSubstr("takes 1 input, found 3"));
}

}  // namespace
}  // namespace kiln::test
