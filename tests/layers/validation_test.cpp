// Build-time validation: every rejection is a ModelError whose message names the file, line, layer,
// op and the offending field, with what was expected and what was found.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "layers/registry.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

LayerCase& conv(LayerCase& c, std::int64_t out = 4, std::int64_t k = 3) {
  return c.attr("out_channels", out).attr("kernel_size", k);
}

TEST(ConvValidation, WeightChannelsMismatchNamesBothShapes) {
  LayerCase c("conv2d", {{1, 64, 8, 8}}, "enc.3");
  c.attr("out_channels", 32).attr("kernel_size", 3).weight("weight", {32, 32, 3, 3}, {});
  const std::string msg = c.build_error();
  EXPECT_THAT(msg, StartsWith("model.yaml:12: layer enc.3 (conv2d): "));
  EXPECT_THAT(msg, HasSubstr("weight 'weight' = enc.3.weight has shape [32,32,3,3], expected [32,64,3,3]"));
  EXPECT_THAT(msg, HasSubstr("the input has 64 channels"));
}

TEST(ConvValidation, GroupsMustDivideChannels) {
  LayerCase a("conv2d", {{1, 64, 8, 8}});
  conv(a, 6).attr("groups", 3);
  EXPECT_THAT(a.build_error(), HasSubstr("model.yaml:14: layer l1 (conv2d): attribute 'groups' 3 does not divide "
                                         "the input's 64 channels"));
  LayerCase b("conv2d", {{1, 6, 8, 8}});
  conv(b, 4).attr("groups", 3);
  EXPECT_THAT(b.build_error(), HasSubstr("attribute 'groups' 3 does not divide out_channels 4"));
  LayerCase g("conv2d", {{1, 6, 8, 8}});
  conv(g, 6).attr("groups", 0);
  EXPECT_THAT(g.build_error(), HasSubstr("attribute 'groups' must be at least 1, found 0"));
}

TEST(ConvValidation, SpatialAttributeRanges) {
  struct Case {
    const char* key;
    std::vector<std::int64_t> value;
    const char* message;
  };
  const Case cases[] = {
      {"kernel_size", {0, 3}, "attribute 'kernel_size' must be at least 1, found [0, 3]"},
      {"stride", {1, 0}, "attribute 'stride' must be at least 1, found [1, 0]"},
      {"dilation", {0, 0}, "attribute 'dilation' must be at least 1, found [0, 0]"},
      {"padding", {-1, 0}, "attribute 'padding' must be at least 0, found [-1, 0]"},
      {"stride", {1 << 30, 1}, "attribute 'stride' must be at most 1048576, found [1073741824, 1]"},
  };
  for (const Case& k : cases) {
    LayerCase c("conv2d", {{1, 2, 8, 8}});
    c.attr("out_channels", 2).attr("kernel_size", 3).attr(k.key, k.value);
    c.weight("weight", {2, 2, 3, 3}, {});
    EXPECT_THAT(c.build_error(), HasSubstr(k.message));
  }
  LayerCase neg("conv2d", {{1, 2, 8, 8}});
  neg.attr("out_channels", -2).attr("kernel_size", 3);
  EXPECT_THAT(neg.build_error(), HasSubstr("attribute 'out_channels' must be at least 1, found -2"));
}

TEST(ConvValidation, OutputTooSmall) {
  LayerCase c("conv2d", {{1, 1, 2, 2}});
  conv(c, 1).weight("weight", {1, 1, 3, 3}, {});
  EXPECT_THAT(c.build_error(),
              HasSubstr("model.yaml:12: layer l1 (conv2d): input 2x2 is too small for kernel 3x3 with padding 0x0"));
  LayerCase d("conv2d", {{1, 1, 4, 4}});
  conv(d, 1).attr("dilation", 2).weight("weight", {1, 1, 3, 3}, {});
  EXPECT_THAT(d.build_error(), HasSubstr("input 4x4 is too small for kernel 3x3 with padding 0x0 and dilation 2x2"));
  LayerCase t("conv_transpose2d", {{1, 1, 1, 1}});
  conv(t, 1, 1).attr("padding", 1).weight("weight", {1, 1, 1, 1}, {});
  EXPECT_THAT(t.build_error(), HasSubstr("padding 1x1 is too large for input 1x1 with kernel 1x1 and stride 1x1: "
                                         "the output would be -1x-1"));
}

TEST(ConvValidation, OutputPadding) {
  LayerCase t("conv_transpose2d", {{1, 2, 4, 4}});
  conv(t, 2).attr("stride", 2).attr("output_padding", 2).weight("weight", {2, 2, 3, 3}, {});
  EXPECT_THAT(t.build_error(),
              HasSubstr("attribute 'output_padding' 2x2 must be smaller than the stride 2x2 or the dilation 1x1"));
  LayerCase c("conv2d", {{1, 2, 4, 4}});
  conv(c, 2).attr("output_padding", 1).weight("weight", {2, 2, 3, 3}, {});
  EXPECT_THAT(c.build_error(), HasSubstr("model.yaml:14: layer l1 (conv2d): unknown attribute 'output_padding' "
                                         "(conv2d takes: dilation, groups, kernel_size, out_channels, padding, stride)"));
}

TEST(ConvValidation, TransposedWeightLayout) {
  LayerCase t("conv_transpose2d", {{1, 8, 4, 4}});
  conv(t, 6).attr("groups", 2).weight("weight", {6, 4, 3, 3}, {});
  EXPECT_THAT(t.build_error(), HasSubstr("has shape [6,4,3,3], expected [8,3,3,3] (the input has 8 channels, groups "
                                         "2; layout [in_channels, out_channels/groups, kh, kw])"));
}

TEST(ConvValidation, MissingAndMistypedAttributes) {
  LayerCase a("conv2d", {{1, 2, 4, 4}});
  a.attr("kernal_size", 3).attr("out_channels", 2);
  EXPECT_THAT(a.build_error(),
              HasSubstr("missing required attribute 'kernel_size' (given: kernal_size, out_channels)"));
  LayerCase b("conv2d", {{1, 2, 4, 4}});
  b.attr("out_channels", 2).attr("kernel_size", 2.5);
  EXPECT_THAT(b.build_error(),
              HasSubstr("model.yaml:14: layer l1 (conv2d): attribute 'kernel_size': expected an integer or a list "
                        "of two integers [h, w], found float 2.5"));
  LayerCase c("conv2d", {{1, 2, 4, 4}});
  c.attr("out_channels", 2).attr("kernel_size", std::vector<std::int64_t>{1, 2, 3});
  EXPECT_THAT(c.build_error(), HasSubstr("found list [1, 2, 3]"));
  LayerCase d("conv2d", {{1, 2, 4, 4}});
  d.attr("out_channels", 2.0).attr("kernel_size", 1);
  EXPECT_THAT(d.build_error(), HasSubstr("attribute 'out_channels': expected an integer, found float 2"));
}

TEST(ConvValidation, Weights) {
  LayerCase missing("conv2d", {{1, 2, 4, 4}});
  conv(missing, 2);
  EXPECT_THAT(missing.build_error(), HasSubstr("missing weight 'weight' (a tensor of shape [2,2,3,3])"));
  LayerCase absent("conv2d", {{1, 2, 4, 4}});
  conv(absent, 2).bind("weight", "enc.9.weight");
  EXPECT_THAT(absent.build_error(),
              HasSubstr("weight 'weight' names tensor enc.9.weight, which is not in weights.manifest"));
  LayerCase unused("conv2d", {{1, 2, 4, 4}});
  conv(unused, 2).weight("weight", {2, 2, 3, 3}, {}).weight("bais", {2}, {});
  EXPECT_THAT(unused.build_error(),
              HasSubstr("weight role 'bais' is not used by conv2d (it takes: bias, weight)"));
  LayerCase bias("conv2d", {{1, 2, 4, 4}});
  conv(bias, 2).weight("weight", {2, 2, 3, 3}, {}).weight("bias", {3}, {});
  EXPECT_THAT(bias.build_error(), HasSubstr("weight 'bias' = l1.bias has shape [3], expected [2]"));
}

TEST(ConvValidation, InputsAndRank) {
  LayerCase two("conv2d", {{1, 2, 4, 4}, {1, 2, 4, 4}});
  conv(two, 2);
  EXPECT_THAT(two.build_error(), HasSubstr("takes 1 input, found 2 (in0, in1)"));
  LayerCase rank("conv2d", {{1, 2, 4}});
  conv(rank, 2);
  EXPECT_THAT(rank.build_error(), HasSubstr("input 'in0' must be 4-D (NCHW), found shape [1,2,4]"));
}

TEST(PoolValidation, Messages) {
  LayerCase pad("max_pool2d", {{1, 1, 8, 8}});
  pad.attr("kernel_size", 3).attr("padding", 2);
  EXPECT_THAT(pad.build_error(), HasSubstr("attribute 'padding' 2x2 must be at most half the kernel 3x3"));
  LayerCase small("avg_pool2d", {{1, 1, 2, 2}});
  small.attr("kernel_size", 5).attr("padding", 1);
  EXPECT_THAT(small.build_error(), HasSubstr("input 2x2 is too small for kernel 5x5 with padding 1x1"));
  LayerCase max_cip("max_pool2d", {{1, 1, 4, 4}});
  max_cip.attr("kernel_size", 2).attr("count_include_pad", false);
  EXPECT_THAT(max_cip.build_error(), HasSubstr("unknown attribute 'count_include_pad' (max_pool2d takes: "
                                               "ceil_mode, dilation, kernel_size, padding, stride)"));
  LayerCase cip("avg_pool2d", {{1, 1, 4, 4}});
  cip.attr("kernel_size", 2).attr("count_include_pad", 1);
  EXPECT_THAT(cip.build_error(), HasSubstr("attribute 'count_include_pad': expected true or false, found integer 1"));
  LayerCase global("global_avg_pool2d", {{1, 1, 4, 4}});
  global.attr("kernel_size", 2);
  EXPECT_THAT(global.build_error(),
              HasSubstr("unknown attribute 'kernel_size' (global_avg_pool2d takes no attributes)"));
  LayerCase missing("avg_pool2d", {{1, 1, 4, 4}});
  EXPECT_THAT(missing.build_error(),
              HasSubstr("missing required attribute 'kernel_size' (the layer has no attributes)"));
}

TEST(LinearValidation, Messages) {
  LayerCase rank("linear", {{1, 512, 1, 1}});
  rank.attr("out_features", 10);
  EXPECT_THAT(rank.build_error(), HasSubstr("input 'in0' must be 2-D [N, in_features], found shape [1,512,1,1] "
                                            "(add a flatten layer before linear)"));
  LayerCase features("linear", {{1, 512}}, "fc");
  features.attr("out_features", 10).weight("weight", {10, 256}, {});
  EXPECT_THAT(features.build_error(),
              HasSubstr("weight 'weight' = fc.weight has shape [10,256], expected [10,512] (the input has 512 features"));
  LayerCase out("linear", {{1, 4}});
  out.attr("out_features", 3).weight("weight", {3, 4}, {}).weight("bias", {4}, {});
  EXPECT_THAT(out.build_error(), HasSubstr("weight 'bias' = l1.bias has shape [4], expected [3]"));
}

TEST(NormValidation, Messages) {
  LayerCase bn("batch_norm", {{1, 3, 4, 4}});
  bn.weight("scale", {4}, {}).weight("shift", {3}, {});
  EXPECT_THAT(bn.build_error(),
              HasSubstr("weight 'scale' = l1.scale has shape [4], expected [3] (one per channel; the input has 3"));
  LayerCase shift("batch_norm", {{1, 3, 4, 4}});
  shift.weight("scale", {3}, {});
  EXPECT_THAT(shift.build_error(), HasSubstr("missing weight 'shift'"));
  LayerCase size("lrn", {{1, 3, 4, 4}});
  size.attr("size", 0);
  EXPECT_THAT(size.build_error(), HasSubstr("attribute 'size' must be at least 1, found 0"));
  LayerCase nan("lrn", {{1, 3, 4, 4}});
  nan.attr("size", 2).attr("beta", std::numeric_limits<double>::quiet_NaN());
  EXPECT_THAT(nan.build_error(), HasSubstr("attribute 'beta' must be a finite number"));
}

TEST(ActivationValidation, Messages) {
  LayerCase attr("relu", {{1, 3}});
  attr.attr("alpha", 0.5);
  EXPECT_THAT(attr.build_error(), HasSubstr("unknown attribute 'alpha' (relu takes no attributes)"));
  LayerCase weight("tanh", {{1, 3}});
  weight.weight("weight", {3}, {});
  EXPECT_THAT(weight.build_error(), HasSubstr("weight role 'weight' is not used by tanh (it takes no weights)"));
  LayerCase inf("leaky_relu", {{1, 3}});
  inf.attr("negative_slope", std::numeric_limits<double>::infinity());
  EXPECT_THAT(inf.build_error(), HasSubstr("attribute 'negative_slope' must be a finite number"));
  LayerCase str("elu", {{1, 3}});
  AttrValue s;
  s.kind = AttrValue::Kind::String;
  s.s = "one";
  str.attr("alpha", s);
  EXPECT_THAT(str.build_error(), HasSubstr("attribute 'alpha': expected a number, found string 'one'"));
}

TEST(TensorOpValidation, Messages) {
  LayerCase sm("softmax", {{1, 3, 4, 4}});
  sm.attr("axis", 2);
  EXPECT_THAT(sm.build_error(), HasSubstr("attribute 'axis' is 2; only 1 (channels) is supported"));
  LayerCase sm3("softmax", {{1, 3, 4}});
  EXPECT_THAT(sm3.build_error(), HasSubstr("input 'in0' must be 2-D or 4-D, found shape [1,3,4]"));
  LayerCase add("add", {{1, 3, 4, 4}, {1, 2, 4, 4}});
  EXPECT_THAT(add.build_error(), HasSubstr("input 1 'in1' has shape [1,2,4,4], input 0 'in0' has [1,3,4,4]: "
                                           "dimension 1 is 2 and 3; add broadcasts dimensions that are equal or 1"));
  LayerCase one("add", {{1, 3}});
  EXPECT_THAT(one.build_error(), HasSubstr("has one input and no second operand: give a second input, attribute "
                                           "'scalar' or weight 'other'"));
  LayerCase cat("concat", {{1, 3, 4, 4}, {1, 2, 4, 5}});
  EXPECT_THAT(cat.build_error(), HasSubstr("input 1 'in1' has shape [1,2,4,5], input 0 'in0' has [1,3,4,4]; all "
                                           "dimensions but the channels (1) must match"));
  LayerCase cat_rank("concat", {{1, 3, 4, 4}, {1, 3}});
  EXPECT_THAT(cat_rank.build_error(), HasSubstr("input 1 'in1' has shape [1,3], input 0 'in0' has [1,3,4,4]"));
  LayerCase cat_axis("concat", {{1, 3}, {1, 3}});
  cat_axis.attr("axis", 0);
  EXPECT_THAT(cat_axis.build_error(), HasSubstr("attribute 'axis' is 0; only 1 (channels) is supported"));
  LayerCase up("upsample_nearest", {{1, 3, 4, 4}});
  up.attr("scale", std::vector<std::int64_t>{0, 2});
  EXPECT_THAT(up.build_error(), HasSubstr("attribute 'scale' must be at least 1, found [0, 2]"));
  LayerCase flat("flatten", {{6}});
  EXPECT_THAT(flat.build_error(), HasSubstr("input 'in0' must have at least 2 dimensions, found shape [6]"));
}

TEST(LayerValidation, ShapeLimits) {
  LayerCase big("upsample_nearest", {{1, 1, 1 << 20, 1 << 20}});
  big.attr("scale", std::vector<std::int64_t>{1 << 20, 1});
  EXPECT_THAT(big.build_error(), HasSubstr("output shape [1,1,1099511627776,1048576] has more than 2^50 elements"));
  LayerCase zero("relu", {{1, 0, 3}});
  EXPECT_THAT(zero.build_error(), HasSubstr("input 'in0' of shape [1,0,3] has a dimension below 1"));
}

TEST(Registry, UnknownOpListsKnownOpsSorted) {
  // The message lists every registered op, sorted (the registry's own list, so a new op needs no edit here).
  std::vector<std::string> ops = registered_ops();
  ASSERT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  for (const char* op : {"add", "conv2d", "max_pool2d", "mul", "upsample_bilinear"}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  }
  std::string list;
  for (const std::string& op : ops) list += (list.empty() ? "" : ", ") + op;
  LayerCase c("conv3d", {{1, 3, 4, 4}});
  EXPECT_EQ(c.build_error(), "model.yaml:12: layer l1 (conv3d): unknown op 'conv3d' (known ops: " + list + ")");
}

}  // namespace
}  // namespace kiln::test
