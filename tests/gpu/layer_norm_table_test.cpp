// layer_norm on the GPU against the CPU reference (the table of layer_test.cpp, batches 3, 1, 2):
// odd channel counts (5: half NHWC pads them to 8, the kernel must read only 5 and zero the pads), 16,
// 96 (a warp striding three times), rank 2 (channels innermost in both precisions), 1x1 positions,
// weight and bias present or absent, inputs shifted far from 0 (the mean many spreads away: a
// one-pass variance in float would cancel) and a ConvNeXt block (depthwise conv, layer_norm, 1x1
// conv, gelu, 1x1 conv, layer scale, residual) whose 1x1 convolution reads layer_norm's pads.
#include <string>
#include <vector>

#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {
namespace {

// "{name: <name>, op: layer_norm, inputs: [<input>], attributes: {eps: <eps>}<weights>}"
std::string layer_norm(const std::string& input, const std::string& weights, const std::string& eps = "1.0e-6",
                       const std::string& name = "l") {
  return "{name: " + name + ", op: layer_norm, inputs: [" + input + "], attributes: {eps: " + eps + "}" + weights + "}";
}

std::string affine(const std::string& prefix) { return ", weights: {weight: " + prefix + "g, bias: " + prefix + "b}"; }

std::vector<Case> layer_norm_cases() {
  std::vector<Case> v;
  struct Form {
    std::string label;
    Shape shape;
  };
  const std::vector<Form> forms = {
      {"c5", {3, 5, 4, 4}},     {"c16", {3, 16, 3, 5}},   {"c96", {3, 96, 2, 3}}, {"c7_1x1", {3, 7, 1, 1}},
      {"c9_wide", {3, 9, 2, 17}}, {"rank2_f5", {3, 5}},  {"rank2_f96", {3, 96}},
  };
  for (const Form& f : forms) {
    const std::int64_t c = f.shape[1];
    v.push_back(
        single("ln_" + f.label, {{"x", f.shape}}, layer_norm("x", affine("")), {{"g", {c}, 0.5f, 1.5f}, {"b", {c}}}));
  }
  v.push_back(single("ln_c5_plain_eps_default", {{"x", {3, 5, 3, 3}}}, layer_norm("x", "", "1.0e-5")));
  v.push_back(single("ln_c16_weight_only", {{"x", {3, 16, 2, 2}}}, layer_norm("x", ", weights: {weight: g}"),
                     {{"g", {16}, -1.0f, 1.0f}}));
  v.push_back(single("ln_rank2_bias_only_eps_big", {{"x", {3, 12}}}, layer_norm("x", ", weights: {bias: b}", "0.5"),
                     {{"b", {12}}}));

  // Inputs in [7, 9]: the mean 8 lies about 14 spreads from 0 (kept below 16 so fp16 still holds the
  // spread to within its tolerance).
  for (const Form& f : {Form{"c5", {3, 5, 4, 3}}, Form{"c96", {3, 96, 3, 2}}, Form{"rank2_f16", {3, 16}}}) {
    const std::int64_t c = f.shape[1];
    v.push_back(Case{"ln_far_from_zero_" + f.label,
                     {{"x", f.shape}},
                     {"{name: s, op: add, inputs: [x], attributes: {scalar: 8.0}}", layer_norm("s", affine(""))},
                     {{"g", {c}, 0.5f, 1.5f}, {"b", {c}}},
                     "l",
                     false});
  }

  // A ConvNeXt block at C = 5 and 16: 7x7 depthwise conv, layer_norm, Linear(C, 4C) as a 1x1 conv,
  // gelu, Linear(4C, C), the layer scale [C, 1, 1] and the residual.
  for (const std::int64_t c : {5, 16}) {
    const std::string cs = std::to_string(c), c4 = std::to_string(4 * c);
    v.push_back(Case{"convnext_block_c" + cs,
                     {{"x", {3, c, 6, 5}}},
                     {"{name: dw, op: conv2d, inputs: [x], attributes: {out_channels: " + cs +
                          ", kernel_size: 7, padding: 3, groups: " + cs + "}, weights: {weight: dww, bias: dwb}}",
                      layer_norm("dw", affine(""), "1.0e-6", "ln"),
                      "{name: fc1, op: conv2d, inputs: [ln], attributes: {out_channels: " + c4 +
                          ", kernel_size: 1}, weights: {weight: w1, bias: b1}}",
                      "{name: act, op: gelu, inputs: [fc1]}",
                      "{name: fc2, op: conv2d, inputs: [act], attributes: {out_channels: " + cs +
                          ", kernel_size: 1}, weights: {weight: w2, bias: b2}}",
                      "{name: ls, op: mul, inputs: [fc2], weights: {other: scale}}",
                      "{name: l, op: add, inputs: [ls, x]}"},
                     {{"dww", {c, 1, 7, 7}},
                      {"dwb", {c}},
                      {"g", {c}, 0.5f, 1.5f},
                      {"b", {c}},
                      {"w1", {4 * c, c, 1, 1}},
                      {"b1", {4 * c}},
                      {"w2", {c, 4 * c, 1, 1}},
                      {"b2", {c}},
                      {"scale", {c, 1, 1}}},
                     "l",
                     false});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(LayerNorm, GpuLayerTest, ::testing::ValuesIn(layer_norm_cases()), case_label);

}  // namespace
}  // namespace kiln::gpu::test
