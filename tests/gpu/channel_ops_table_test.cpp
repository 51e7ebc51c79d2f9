// channel_slice and channel_shuffle on the GPU against the CPU reference (the table of layer_test.cpp,
// batches 3, 1, 2): odd channel counts and ranges that start or end off a multiple of 8 (half NHWC
// pads them: the slice's copy must zero the output's pads and never read the input's), 8- and
// 16-channel aligned ranges (the copy's 16-byte path), rank 2 and 3, groups 2, 3 and 4 with odd
// channels per group, and a ShuffleNet unit (chunk, conv on one half, concat, shuffle) whose
// convolution reads the slice's pads.
#include <string>
#include <vector>

#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {
namespace {

std::string slice(const std::string& input, std::int64_t start, std::int64_t end, const std::string& name = "l") {
  return "{name: " + name + ", op: channel_slice, inputs: [" + input + "], attributes: {start: " +
         std::to_string(start) + ", end: " + std::to_string(end) + "}}";
}

std::string shuffle(const std::string& input, std::int64_t groups, const std::string& name = "l") {
  return "{name: " + name + ", op: channel_shuffle, inputs: [" + input + "], attributes: {groups: " +
         std::to_string(groups) + "}}";
}

std::vector<Case> channel_ops_cases() {
  std::vector<Case> v;
  struct SliceForm {
    std::string label;
    Shape shape;
    std::int64_t start, end;
  };
  const std::vector<SliceForm> slices = {
      {"slice_c7_tail", {3, 7, 4, 5}, 2, 7},        // 5 channels: stored as 8 in fp16
      {"slice_c7_head", {3, 7, 3, 3}, 0, 3},
      {"slice_c13_off8", {3, 13, 4, 4}, 3, 11},     // 8 channels starting off a vector boundary
      {"slice_c16_low", {3, 16, 4, 4}, 0, 8},       // aligned: 16-byte moves in both precisions
      {"slice_c16_high", {3, 16, 4, 4}, 8, 16},
      {"slice_c24_mid", {3, 24, 2, 6}, 8, 16},
      {"slice_c16_odd_plane", {3, 16, 3, 5}, 4, 12},  // float32 planes of 15: no vectors
      {"slice_c5_one", {3, 5, 4, 4}, 4, 5},
      {"slice_c9_whole", {3, 9, 2, 2}, 0, 9},
      {"slice_1x1", {3, 20, 1, 1}, 3, 17},
      {"slice_rank2", {3, 10}, 3, 9},
      {"slice_rank3", {3, 6, 5}, 1, 4},
  };
  for (const SliceForm& f : slices) v.push_back(single(f.label, {{"x", f.shape}}, slice("x", f.start, f.end)));

  struct ShuffleForm {
    std::string label;
    Shape shape;
    std::int64_t groups;
  };
  const std::vector<ShuffleForm> shuffles = {
      {"shuffle_c6_g2", {3, 6, 4, 5}, 2},   {"shuffle_c9_g3", {3, 9, 3, 3}, 3},
      {"shuffle_c16_g4", {3, 16, 4, 4}, 4}, {"shuffle_c16_g2", {3, 16, 2, 3}, 2},
      {"shuffle_c58_g2", {3, 58, 4, 4}, 2}, {"shuffle_c24_g3_1x1", {3, 24, 1, 1}, 3},
      {"shuffle_c12_g1", {3, 12, 2, 2}, 1}, {"shuffle_rank2_g3", {3, 12}, 3},
      {"shuffle_rank3_g2", {3, 10, 4}, 2},
  };
  for (const ShuffleForm& f : shuffles) v.push_back(single(f.label, {{"x", f.shape}}, shuffle("x", f.groups)));

  // A ShuffleNet v2 unit with an odd half (a 1x1 conv reads the sliced half's pads in fp16).
  for (const std::int64_t c : {10, 16}) {
    v.push_back(Case{"shufflenet_unit_c" + std::to_string(c),
                     {{"x", {3, c, 4, 4}}},
                     {slice("x", 0, c / 2, "a"), slice("x", c / 2, c, "b"),
                      "{name: conv, op: conv2d, inputs: [b], attributes: {out_channels: " + std::to_string(c / 2) +
                          ", kernel_size: 1}, weights: {weight: w}}",
                      "{name: cat, op: concat, inputs: [a, conv]}", shuffle("cat", 2)},
                     {{"w", {c / 2, c / 2, 1, 1}}},
                     "l",
                     false});
  }
  // A slice of a shuffle of a slice: views at channel offsets feeding each other.
  v.push_back(Case{"slice_shuffle_slice", {{"x", {3, 21, 3, 3}}},
                   {slice("x", 1, 19, "s"), shuffle("s", 3, "t"), slice("t", 5, 14)}, {}, "l", false});
  return v;
}

INSTANTIATE_TEST_SUITE_P(ChannelOps, GpuLayerTest, ::testing::ValuesIn(channel_ops_cases()), case_label);

}  // namespace
}  // namespace kiln::gpu::test
