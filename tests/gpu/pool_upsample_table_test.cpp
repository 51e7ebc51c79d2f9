// Pooling and upsampling rows of the GPU-vs-CPU-reference table (layer_table.h): ceil mode (its
// clipped last window and the rule that drops a window starting in the padding), dilation,
// divisor_override, adaptive pooling (to 1x1, 6x6 from 13x13 as AlexNet/VGG, 7x7 from 5x5 where the
// windows overlap), global max pooling, nearest 'nearest' / 'nearest-exact' at non-integer ratios and
// with a kept scale_factor, bilinear both ways of align_corners, non-integer ratios and from 1x1 (the
// ASPP pooling branch), large windows (the block-per-output kernel). 5 channels (fp16 pads 5 to 8) and 16 (the 16-byte vector paths), odd sizes.
#include <string>
#include <vector>

#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {
namespace {

// One layer `l` reading x of shape `s` with op `op` and attributes `attrs` (a YAML flow map's contents).
Case layer(const std::string& label, const Shape& s, const std::string& op, const std::string& attrs = {}) {
  std::string yaml = "{name: l, op: " + op + ", inputs: [x]";
  if (!attrs.empty()) yaml += ", attributes: {" + attrs + "}";
  return single(label, {{"x", s}}, yaml + "}");
}

std::vector<Case> pool_cases() {
  const Shape odd{3, 5, 11, 9}, wide{3, 16, 11, 9};
  std::vector<Case> v;
  for (const auto& [tag, s] : {std::pair<std::string, Shape>{"c5", odd}, {"c16", wide}}) {
    v.push_back(layer("maxpool_ceil_" + tag, s, "max_pool2d", "kernel_size: 3, stride: 2, ceil_mode: true"));
    v.push_back(layer("maxpool_ceil_pad_" + tag, s, "max_pool2d",
                      "kernel_size: 2, stride: 2, padding: 1, ceil_mode: true"));
    v.push_back(layer("maxpool_dilation_" + tag, s, "max_pool2d",
                      "kernel_size: [3, 2], stride: [1, 2], padding: 1, dilation: [2, 3], ceil_mode: true"));
    v.push_back(layer("avgpool_ceil_" + tag, s, "avg_pool2d", "kernel_size: 3, stride: 2, padding: 1, ceil_mode: true"));
    v.push_back(layer("avgpool_ceil_nopad_count_" + tag, s, "avg_pool2d",
                      "kernel_size: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false"));
    v.push_back(layer("avgpool_divisor_" + tag, s, "avg_pool2d",
                      "kernel_size: [2, 3], stride: 2, padding: 1, ceil_mode: true, divisor_override: 5"));
    v.push_back(layer("adaptive_avg_1x1_" + tag, s, "adaptive_avg_pool2d", "output_size: 1"));
    v.push_back(layer("adaptive_max_3x4_" + tag, s, "adaptive_max_pool2d", "output_size: [3, 4]"));
    v.push_back(layer("global_max_" + tag, s, "global_max_pool2d"));
  }
  // googlenet's ceil pool on an odd size; a 2x2 input that only ceil mode pools with kernel 3.
  v.push_back(layer("maxpool_ceil_k3s2_odd", {3, 5, 7, 7}, "max_pool2d", "kernel_size: 3, stride: 2, ceil_mode: true"));
  v.push_back(layer("maxpool_ceil_tiny", {3, 5, 2, 2}, "max_pool2d", "kernel_size: 3, stride: 2, ceil_mode: true"));
  v.push_back(layer("adaptive_avg_6x6_from_13", {3, 5, 13, 13}, "adaptive_avg_pool2d", "output_size: 6"));
  v.push_back(layer("adaptive_max_6x6_from_13_c16", {3, 16, 13, 13}, "adaptive_max_pool2d", "output_size: 6"));
  v.push_back(layer("adaptive_avg_7x7_from_5", {3, 5, 5, 5}, "adaptive_avg_pool2d", "output_size: 7"));
  v.push_back(layer("adaptive_max_7x7_from_5_c16", {3, 16, 5, 5}, "adaptive_max_pool2d", "output_size: 7"));
  v.push_back(layer("adaptive_avg_1x1_c16_from_7", {3, 16, 7, 7}, "adaptive_avg_pool2d", "output_size: 1"));
  // Windows of 64 positions or more take the block-per-output kernel: global pooling of a large plane
  // (EfficientNet's squeeze), channel tiles beyond one block (300 channels: 38 vectors in fp16, 38
  // tiles of 8 in fp32), sliding windows with padding counted, and adaptive windows of unequal sizes.
  for (const std::int64_t c : {5, 16, 300}) {
    const std::string tag = "c" + std::to_string(c);
    v.push_back(layer("global_avg_large_" + tag, {2, c, 37, 41}, "adaptive_avg_pool2d", "output_size: 1"));
    v.push_back(layer("global_max_large_" + tag, {2, c, 37, 41}, "global_max_pool2d"));
  }
  v.push_back(layer("avgpool_9x9_pad_counted_c16", {2, 16, 23, 20}, "avg_pool2d", "kernel_size: 9, stride: 3, padding: 2"));
  v.push_back(layer("avgpool_9x9_pad_uncounted_c5", {2, 5, 23, 20}, "avg_pool2d",
                    "kernel_size: 9, stride: 3, padding: 2, count_include_pad: false"));
  v.push_back(layer("maxpool_9x8_dilated_c16", {2, 16, 40, 33}, "max_pool2d", "kernel_size: [9, 8], stride: 4, dilation: 2"));
  v.push_back(layer("adaptive_max_2x3_from_30x31_c5", {2, 5, 30, 31}, "adaptive_max_pool2d", "output_size: [2, 3]"));
  v.push_back(layer("adaptive_avg_2x3_from_30x31_c16", {2, 16, 30, 31}, "adaptive_avg_pool2d", "output_size: [2, 3]"));
  return v;
}

std::vector<Case> upsample_cases() {
  std::vector<Case> v;
  for (const auto& [tag, c] : {std::pair<std::string, std::int64_t>{"c5", 5}, {"c16", 16}}) {
    const Shape s{3, c, 5, 7};
    v.push_back(layer("nearest_size_" + tag, s, "upsample_nearest", "size: [8, 11]"));
    v.push_back(layer("nearest_exact_size_" + tag, s, "upsample_nearest", "size: [8, 11], mode: nearest-exact"));
    v.push_back(layer("nearest_down_" + tag, s, "upsample_nearest", "size: [3, 4]"));
    v.push_back(layer("nearest_scale_factor_" + tag, s, "upsample_nearest", "size: [8, 11], scale_factor: 1.7"));
    v.push_back(layer("bilinear_" + tag, s, "upsample_bilinear", "size: [12, 17]"));
    v.push_back(layer("bilinear_corners_" + tag, s, "upsample_bilinear", "size: [12, 17], align_corners: true"));
    v.push_back(layer("bilinear_scale_factor_" + tag, s, "upsample_bilinear", "size: [8, 11], scale_factor: 1.7"));
    v.push_back(layer("bilinear_down_" + tag, s, "upsample_bilinear", "size: [3, 4]"));
    v.push_back(layer("bilinear_from_1x1_" + tag, {3, c, 1, 1}, "upsample_bilinear", "size: [9, 7]"));
    v.push_back(layer("bilinear_from_1x1_corners_" + tag, {3, c, 1, 1}, "upsample_bilinear",
                      "size: [9, 7], align_corners: true"));
  }
  v.push_back(layer("nearest_2x_scale_factor", {3, 5, 3, 30}, "upsample_nearest",
                    "size: [6, 60], scale_factor: 2.01"));
  v.push_back(layer("bilinear_x4_odd", {3, 5, 3, 5}, "upsample_bilinear", "size: [12, 20]"));
  v.push_back(layer("bilinear_to_1x1_corners", {3, 5, 3, 5}, "upsample_bilinear", "size: [1, 1], align_corners: true"));
  // Bilinear by whole factors (nn.Upsample(scale_factor=2, mode='bilinear')), as the `scale` form.
  v.push_back(layer("bilinear_scale_2x_c5", {3, 5, 5, 7}, "upsample_bilinear", "scale: 2"));
  v.push_back(layer("bilinear_scale_2x3_corners_c16", {3, 16, 4, 5}, "upsample_bilinear", "scale: [2, 3], align_corners: true"));
  // The size of a second input (a segmentation head's resize to the image: interpolate(x, size=
  // image.shape[-2:])): its height and width, never its values.
  for (const auto& [op, mode] : {std::pair<std::string, std::string>{"upsample_bilinear", ""},
                                 {"upsample_bilinear", "align_corners: true"},
                                 {"upsample_nearest", ""},
                                 {"upsample_nearest", "mode: nearest-exact"}}) {
    std::string yaml = "{name: l, op: " + op + ", inputs: [x, image]";
    if (!mode.empty()) yaml += ", attributes: {" + mode + "}";
    const std::string label = op.substr(9) + "_like_image" + (mode.empty() ? "" : mode[0] == 'a' ? "_corners" : "_exact");
    v.push_back(single(label + "_c5", {{"x", {3, 5, 5, 7}}, {"image", {3, 3, 19, 26}}}, yaml + "}"));
    v.push_back(single(label + "_c16", {{"x", {3, 16, 6, 6}}, {"image", {3, 3, 4, 13}}}, yaml + "}"));
  }
  return v;
}

std::vector<Case> pool_upsample_cases() {
  std::vector<Case> v = pool_cases();
  for (Case& c : upsample_cases()) v.push_back(std::move(c));
  return v;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(PoolUpsample, GpuLayerTest, ::testing::ValuesIn(pool_upsample_cases()), case_label);

}  // namespace kiln::gpu::test
