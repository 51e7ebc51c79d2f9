// conv2d / conv_transpose2d: hand-checked cases, the direct loops against an independent gather
// formula over a table of shapes, and conv_transpose2d as the adjoint of conv2d.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/conv/conv.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

TEST(Conv, HandCheckedPaddedStride2) {
  LayerCase c("conv2d", {{1, 1, 3, 3}});
  c.attr("out_channels", 1).attr("kernel_size", 3).attr("padding", 1).attr("stride", 2);
  c.weight("weight", {1, 1, 3, 3}, std::vector<float>(9, 1.0f)).weight("bias", {1}, {0.5f});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 2, 2}));
  // Window sums of 1..9 around (0,0), (0,2), (2,0), (2,2), plus the bias.
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4, 5, 6, 7, 8, 9}}), (std::vector<float>{12.5f, 16.5f, 24.5f, 28.5f}));
}

TEST(Conv, HandCheckedKernelAndParams) {
  LayerCase c("conv2d", {{1, 1, 3, 3}});
  c.attr("out_channels", 1).attr("kernel_size", std::vector<std::int64_t>{2, 2});
  c.weight("weight", {1, 1, 2, 2}, {1, 2, 3, 4});
  auto layer = c.build();
  // out[i][j] = x[i][j] + 2 x[i][j+1] + 3 x[i+1][j] + 4 x[i+1][j+1]
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4, 5, 6, 7, 8, 9}}), (std::vector<float>{37, 47, 67, 77}));
  const auto& conv = dynamic_cast<const ConvLayer&>(*layer);
  EXPECT_FALSE(conv.params().transposed);
  EXPECT_EQ(conv.params().kernel, (Pair{2, 2}));
  EXPECT_EQ(conv.bias(), nullptr);
  EXPECT_EQ(conv.weight().name, "l1.weight");
  EXPECT_EQ(layer->weights().size(), 1u);
  EXPECT_DOUBLE_EQ(layer->flops_per_sample(), 2.0 * 4 * 4);  // 4 outputs x 4 taps
}

TEST(ConvTranspose, HandCheckedStride2) {
  LayerCase c("conv_transpose2d", {{1, 1, 2, 2}});
  c.attr("out_channels", 1).attr("kernel_size", 2).attr("stride", 2);
  c.weight("weight", {1, 1, 2, 2}, {1, 2, 3, 4});
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 4, 4}));
  // Each input pixel v stamps v * [[1,2],[3,4]] into its own 2x2 block.
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4}}),
            (std::vector<float>{1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16}));
}

TEST(ConvTranspose, HandCheckedOverlapPaddingOutputPadding) {
  LayerCase c("conv_transpose2d", {{1, 1, 2, 2}});
  c.attr("out_channels", 1).attr("kernel_size", 3).attr("stride", 2).attr("padding", 1).attr("output_padding", 1);
  c.weight("weight", {1, 1, 3, 3}, std::vector<float>(9, 1.0f));
  auto layer = c.build();
  ASSERT_EQ(layer->output_shape(), (Shape{1, 1, 4, 4}));
  // Input (i, j) covers output rows/cols 2i-1..2i+1: rows 0,1 see input row 0; rows 1,2,3 see row 1.
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4}}), (std::vector<float>{1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4}));
  EXPECT_DOUBLE_EQ(layer->flops_per_sample(), 2.0 * 4 * 9);  // 4 input pixels x 9 taps
}

struct ConvShape {
  std::int64_t n, c, h, w, k;
  Pair kernel, stride, padding, dilation;
  std::int64_t groups;
};

// Stride, padding, dilation, groups (incl. depthwise), odd and non-square sizes, batch > 1,
// channel counts that are not multiples of 8, stride larger than the kernel, kernel in padding only.
const ConvShape kShapes[] = {
    {1, 3, 7, 7, 5, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1},  {2, 4, 9, 6, 6, {3, 2}, {2, 1}, {1, 0}, {1, 2}, 2},
    {3, 6, 5, 8, 9, {1, 1}, {1, 1}, {0, 0}, {1, 1}, 3},  {2, 8, 10, 11, 8, {3, 3}, {2, 2}, {2, 2}, {2, 2}, 8},
    {1, 5, 13, 7, 7, {5, 3}, {3, 2}, {2, 1}, {1, 1}, 1}, {2, 10, 6, 6, 4, {2, 2}, {2, 2}, {0, 0}, {1, 1}, 2},
    {1, 3, 4, 4, 2, {4, 4}, {1, 1}, {3, 3}, {1, 1}, 1},  {2, 9, 12, 5, 3, {3, 3}, {1, 2}, {0, 1}, {3, 1}, 3},
    {1, 2, 9, 9, 3, {2, 2}, {3, 3}, {0, 0}, {1, 1}, 1},  {2, 7, 1, 9, 5, {1, 3}, {1, 2}, {0, 1}, {1, 1}, 1},
};

std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

void set_conv_attrs(LayerCase& c, const ConvShape& s, std::int64_t out_channels) {
  c.attr("out_channels", out_channels).attr("kernel_size", std::vector<std::int64_t>{s.kernel[0], s.kernel[1]});
  c.attr("stride", std::vector<std::int64_t>{s.stride[0], s.stride[1]});
  c.attr("padding", std::vector<std::int64_t>{s.padding[0], s.padding[1]});
  c.attr("dilation", std::vector<std::int64_t>{s.dilation[0], s.dilation[1]}).attr("groups", s.groups);
}

TEST(Conv, DirectLoopsMatchGatherFormula) {
  std::mt19937 rng(7);
  for (const ConvShape& s : kShapes) {
    SCOPED_TRACE("shape c=" + std::to_string(s.c) + " h=" + std::to_string(s.h) + " groups=" + std::to_string(s.groups));
    const std::int64_t ho = conv_out(s.h, s.kernel[0], s.stride[0], s.padding[0], s.dilation[0]);
    const std::int64_t wo = conv_out(s.w, s.kernel[1], s.stride[1], s.padding[1], s.dilation[1]);
    const std::int64_t cg = s.c / s.groups, kg = s.k / s.groups, kh = s.kernel[0], kw = s.kernel[1];
    const auto x = random_floats(static_cast<std::size_t>(s.n * s.c * s.h * s.w), rng);
    const auto w = random_floats(static_cast<std::size_t>(s.k * cg * kh * kw), rng);
    const auto b = random_floats(static_cast<std::size_t>(s.k), rng);
    LayerCase c("conv2d", {{s.n, s.c, s.h, s.w}});
    set_conv_attrs(c, s, s.k);
    c.weight("weight", {s.k, cg, kh, kw}, w).weight("bias", {s.k}, b);
    auto layer = c.build();
    ASSERT_EQ(layer->output_shape(), (Shape{s.n, s.k, ho, wo}));
    const auto y = c.run(*layer, {x});
    for (std::int64_t n = 0; n < s.n; ++n)
      for (std::int64_t oc = 0; oc < s.k; ++oc)
        for (std::int64_t oh = 0; oh < ho; ++oh)
          for (std::int64_t ow = 0; ow < wo; ++ow) {
            double want = b[oc], scale = std::fabs(b[oc]);
            for (std::int64_t icl = 0; icl < cg; ++icl)
              for (std::int64_t i = 0; i < kh; ++i)
                for (std::int64_t j = 0; j < kw; ++j) {
                  const std::int64_t ih = oh * s.stride[0] - s.padding[0] + i * s.dilation[0];
                  const std::int64_t iw = ow * s.stride[1] - s.padding[1] + j * s.dilation[1];
                  if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                  const double term = static_cast<double>(w[((oc * cg + icl) * kh + i) * kw + j]) *
                                      x[((n * s.c + (oc / kg) * cg + icl) * s.h + ih) * s.w + iw];
                  want += term;
                  scale += std::fabs(term);
                }
            const float got = y[((n * s.k + oc) * ho + oh) * wo + ow];
            ASSERT_NEAR(got, want, 1e-5 * scale + 1e-6) << "at n=" << n << " oc=" << oc << " oh=" << oh << " ow=" << ow;
          }
  }
}

// <conv(x), y> == <x, convT(y)> when both use the same weight array: conv2d's [K, C/g, kh, kw] is
// conv_transpose2d's [in=K, out/g=C/g, kh, kw]. output_padding makes convT's output H x W again.
TEST(ConvTranspose, IsTheAdjointOfConv) {
  std::mt19937 rng(11);
  for (const ConvShape& s : kShapes) {
    SCOPED_TRACE("shape c=" + std::to_string(s.c) + " h=" + std::to_string(s.h) + " groups=" + std::to_string(s.groups));
    const std::int64_t ho = conv_out(s.h, s.kernel[0], s.stride[0], s.padding[0], s.dilation[0]);
    const std::int64_t wo = conv_out(s.w, s.kernel[1], s.stride[1], s.padding[1], s.dilation[1]);
    const Shape wshape{s.k, s.c / s.groups, s.kernel[0], s.kernel[1]};
    const auto w = random_floats(static_cast<std::size_t>(count(wshape)), rng);
    const auto x = random_floats(static_cast<std::size_t>(s.n * s.c * s.h * s.w), rng);
    const auto y = random_floats(static_cast<std::size_t>(s.n * s.k * ho * wo), rng);

    LayerCase fwd("conv2d", {{s.n, s.c, s.h, s.w}});
    set_conv_attrs(fwd, s, s.k);
    fwd.weight("weight", wshape, w);
    auto conv = fwd.build();
    const auto cx = fwd.run(*conv, {x});

    LayerCase adj("conv_transpose2d", {{s.n, s.k, ho, wo}});
    set_conv_attrs(adj, s, s.c);
    const std::int64_t oph = s.h - ((ho - 1) * s.stride[0] - 2 * s.padding[0] + s.dilation[0] * (s.kernel[0] - 1) + 1);
    const std::int64_t opw = s.w - ((wo - 1) * s.stride[1] - 2 * s.padding[1] + s.dilation[1] * (s.kernel[1] - 1) + 1);
    adj.attr("output_padding", std::vector<std::int64_t>{oph, opw});
    adj.weight("weight", wshape, w);
    auto convt = adj.build();
    ASSERT_EQ(convt->output_shape(), (Shape{s.n, s.c, s.h, s.w}));
    const auto ty = adj.run(*convt, {y});

    double lhs = 0, rhs = 0, scale = 0;
    for (std::size_t i = 0; i < y.size(); ++i) lhs += static_cast<double>(cx[i]) * y[i], scale += std::fabs(cx[i] * y[i]);
    for (std::size_t i = 0; i < x.size(); ++i) rhs += static_cast<double>(x[i]) * ty[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * scale);
  }
}

TEST(Conv, SmallerBatchThanBuiltMatchesPrefix) {
  std::mt19937 rng(3);
  const auto x = random_floats(3 * 4 * 6 * 6, rng);
  LayerCase c("conv_transpose2d", {{3, 4, 6, 6}});
  c.attr("out_channels", 2).attr("kernel_size", 3).attr("stride", 2);
  c.weight("weight", {4, 2, 3, 3}, random_floats(72, rng)).weight("bias", {2}, {0.25f, -1.0f});
  auto layer = c.build();
  const auto full = c.run(*layer, {x});
  const auto part = c.run(*layer, {x}, 2);
  ASSERT_EQ(part.size() * 3, full.size() * 2);
  EXPECT_TRUE(std::equal(part.begin(), part.end(), full.begin()));
}

TEST(Conv, AcceptsF16Weights) {
  LayerCase c("conv2d", {{1, 2, 3, 3}});
  c.attr("out_channels", 4).attr("kernel_size", 1).weight("weight", {4, 2, 1, 1}, {}, DType::F16);
  EXPECT_EQ(c.build()->weights().at(0)->dtype, DType::F16);
}

}  // namespace
}  // namespace kiln::test
