// channel_slice and channel_shuffle: CPU references against values computed by hand, against an
// independent formulation on random data (the slice as per-element index arithmetic, the shuffle as
// PyTorch's 5-D view + transpose(1, 2)), and their validation messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "layers/channel_shuffle/channel_shuffle.h"
#include "layers/channel_slice/channel_slice.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;

std::vector<float> iota(std::int64_t n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return v;
}

TEST(ChannelSlice, FourDMiddleChannelsOfEachSample) {
  LayerCase c("channel_slice", {{2, 4, 1, 2}});
  c.attr("start", 1).attr("end", 3);
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{2, 2, 1, 2}));
  // Sample 0 holds 0..7 (channel k at 2k, 2k+1), sample 1 holds 8..15.
  EXPECT_EQ(c.run(*layer, {iota(16)}), (std::vector<float>{2, 3, 4, 5, 10, 11, 12, 13}));
  EXPECT_EQ(c.run(*layer, {iota(16)}, 1), (std::vector<float>{2, 3, 4, 5}));
}

TEST(ChannelSlice, TwoDAndThreeD) {
  LayerCase a("channel_slice", {{2, 5}});
  a.attr("start", 3).attr("end", 5);
  auto la = a.build();
  ASSERT_EQ(la->output_shape(), (Shape{2, 2}));
  EXPECT_EQ(a.run(*la, {iota(10)}), (std::vector<float>{3, 4, 8, 9}));

  LayerCase b("channel_slice", {{1, 3, 2}});
  b.attr("start", 0).attr("end", 1);
  auto lb = b.build();
  ASSERT_EQ(lb->output_shape(), (Shape{1, 1, 2}));
  EXPECT_EQ(b.run(*lb, {iota(6)}), (std::vector<float>{0, 1}));
}

TEST(ChannelSlice, RandomShapesMatchIndexArithmetic) {
  std::mt19937 rng(std::random_device{}());
  struct Form {
    Shape shape;
    std::int64_t start, end;
  };
  for (const Form& f : {Form{{3, 7, 3, 5}, 2, 7}, Form{{2, 16, 2, 2}, 0, 8}, Form{{1, 9, 4, 3}, 0, 9},
                        Form{{2, 6, 5, 1}, 5, 6}}) {
    LayerCase c("channel_slice", {f.shape});
    c.attr("start", f.start).attr("end", f.end);
    auto layer = c.build();
    const std::int64_t n = f.shape[0], ch = f.shape[1], hw = f.shape[2] * f.shape[3], k = f.end - f.start;
    const std::vector<float> x = random_floats(static_cast<std::size_t>(count(f.shape)), rng);
    const std::vector<float> y = c.run(*layer, {x});
    ASSERT_EQ(y.size(), static_cast<std::size_t>(n * k * hw));
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t o = 0; o < k; ++o)
        for (std::int64_t p = 0; p < hw; ++p)
          ASSERT_EQ(y[static_cast<std::size_t>((b * k + o) * hw + p)],
                    x[static_cast<std::size_t>((b * ch + f.start + o) * hw + p)])
              << shape_to_string(f.shape) << " " << b << "," << o << "," << p;
  }
}

TEST(ChannelSliceValidation, RangeAndRankErrorsNameTheAttribute) {
  LayerCase empty("channel_slice", {{1, 4, 2, 2}});
  empty.attr("start", 2).attr("end", 2);
  EXPECT_THAT(empty.build_error(), HasSubstr("layer l1 (channel_slice): attribute 'end' 2 is outside [3, 4]"));
  LayerCase past("channel_slice", {{1, 4, 2, 2}});
  past.attr("start", 0).attr("end", 5);
  EXPECT_THAT(past.build_error(), HasSubstr("attribute 'end' 5 is outside [1, 4]"));
  LayerCase start("channel_slice", {{1, 4, 2, 2}});
  start.attr("start", 4).attr("end", 5);
  EXPECT_THAT(start.build_error(), HasSubstr("attribute 'start' must be at most 3, found 4"));
  LayerCase negative("channel_slice", {{1, 4, 2, 2}});
  negative.attr("start", -1).attr("end", 2);
  EXPECT_THAT(negative.build_error(), HasSubstr("attribute 'start' must be at least 0, found -1"));
  LayerCase missing("channel_slice", {{1, 4, 2, 2}});
  missing.attr("start", 0);
  EXPECT_THAT(missing.build_error(), HasSubstr("'end'"));
  LayerCase rank1("channel_slice", {{4}});
  rank1.attr("start", 0).attr("end", 1);
  EXPECT_THAT(rank1.build_error(), HasSubstr("must have at least 2 dimensions"));
  LayerCase typo("channel_slice", {{1, 4, 2, 2}});
  typo.attr("start", 0).attr("end", 1).attr("stop", 2);
  EXPECT_THAT(typo.build_error(), HasSubstr("stop"));
  LayerCase two("channel_slice", {{1, 4, 2, 2}, {1, 4, 2, 2}});
  two.attr("start", 0).attr("end", 1);
  EXPECT_NE(two.build_error(), "<no error>");
}

TEST(ChannelShuffle, SixChannelsInTwoAndThreeGroups) {
  // Channels 0..5, one value each: groups 2 reads [[0 1 2] [3 4 5]] transposed, groups 3 [[0 1] [2 3] [4 5]].
  LayerCase two("channel_shuffle", {{1, 6, 1, 1}});
  two.attr("groups", 2);
  auto l2 = two.build();
  ASSERT_EQ(l2->output_shape(), (Shape{1, 6, 1, 1}));
  EXPECT_EQ(two.run(*l2, {iota(6)}), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  LayerCase three("channel_shuffle", {{1, 6, 1, 1}});
  three.attr("groups", 3);
  auto l3 = three.build();
  EXPECT_EQ(three.run(*l3, {iota(6)}), (std::vector<float>{0, 2, 4, 1, 3, 5}));
}

TEST(ChannelShuffle, PlanesMoveWholeAndBatchesStayApart) {
  LayerCase c("channel_shuffle", {{2, 4, 1, 2}});
  c.attr("groups", 2);
  auto layer = c.build();
  // Per sample channel order 0, 2, 1, 3; each channel a plane of two values.
  EXPECT_EQ(c.run(*layer, {iota(16)}),
            (std::vector<float>{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15}));
}

TEST(ChannelShuffle, OneGroupOrOnePerChannelIsTheIdentity) {
  std::mt19937 rng(std::random_device{}());
  for (const std::int64_t g : {1, 5}) {
    LayerCase c("channel_shuffle", {{2, 5, 2, 3}});
    c.attr("groups", g);
    auto layer = c.build();
    const std::vector<float> x = random_floats(60, rng);
    EXPECT_EQ(c.run(*layer, {x}), x) << g;
  }
}

TEST(ChannelShuffle, RandomShapesMatchViewTransposeReshape) {
  std::mt19937 rng(std::random_device{}());
  struct Form {
    Shape shape;
    std::int64_t groups;
  };
  for (const Form& f : {Form{{3, 12, 3, 5}, 3}, Form{{2, 16, 2, 2}, 4}, Form{{1, 58, 4, 4}, 2}, Form{{2, 6, 7}, 2},
                        Form{{3, 8}, 4}}) {
    LayerCase c("channel_shuffle", {f.shape});
    c.attr("groups", f.groups);
    auto layer = c.build();
    const std::int64_t n = f.shape[0], ch = f.shape[1], inner = count(f.shape) / (n * ch), g = f.groups;
    const std::int64_t per = ch / g;
    const std::vector<float> x = random_floats(static_cast<std::size_t>(count(f.shape)), rng);
    const std::vector<float> y = c.run(*layer, {x});
    // x as [n][g][per][inner]; y as [n][per][g][inner] holds y[b][j][i] = x[b][i][j].
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < g; ++i)
        for (std::int64_t j = 0; j < per; ++j)
          for (std::int64_t p = 0; p < inner; ++p)
            ASSERT_EQ(y[static_cast<std::size_t>(((b * per + j) * g + i) * inner + p)],
                      x[static_cast<std::size_t>(((b * g + i) * per + j) * inner + p)])
                << shape_to_string(f.shape) << " g=" << g;
  }
}

TEST(ChannelShuffleValidation, GroupsMustDivideChannels) {
  LayerCase odd("channel_shuffle", {{1, 6, 2, 2}});
  odd.attr("groups", 4);
  EXPECT_THAT(odd.build_error(),
              HasSubstr("layer l1 (channel_shuffle): attribute 'groups' 4 does not divide the input's 6 channels"));
  LayerCase zero("channel_shuffle", {{1, 6, 2, 2}});
  zero.attr("groups", 0);
  EXPECT_THAT(zero.build_error(), HasSubstr("attribute 'groups' must be at least 1, found 0"));
  LayerCase missing("channel_shuffle", {{1, 6, 2, 2}});
  EXPECT_THAT(missing.build_error(), HasSubstr("'groups'"));
  LayerCase rank1("channel_shuffle", {{6}});
  rank1.attr("groups", 2);
  EXPECT_THAT(rank1.build_error(), HasSubstr("must have at least 2 dimensions"));
}

}  // namespace
}  // namespace kiln::test
