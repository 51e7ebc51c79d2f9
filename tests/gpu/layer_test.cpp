// Every GPU layer against the CPU reference (forward_cpu) over a table of shapes: stride, padding,
// dilation, groups, odd spatial sizes, channel counts that are not multiples of 8, batch > 1, and
// batches below the max batch (each model is loaded for max batch 3 and run at 3, 1 and 2). Every
// activation runs standalone, on inputs spread over its kinks, and fused after a convolution.
// Random data; fp32 tolerance 1e-5 (normalized max error), tf32 1e-2, fp16 (every case: half NHWC with
// padded channels, Note [fp16 layout]) 1e-2.
#include <cstddef>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/cpu_executor.h"
#include "engine/gpu/op.h"
#include "engine/model_dir.h"
#include "layers/conv/conv.h"
#include "layers/conv/direct_conv_gpu.h"
#include "layers/conv/im2col_gemm_gpu.h"
#include "layers/registry_gpu.h"
#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {

std::string dims(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

Case single(const std::string& label, const std::vector<std::pair<std::string, Shape>>& inputs, const std::string& layer,
            const std::vector<TestModel::Tensor>& weights) {
  return Case{label, inputs, {layer}, weights, "l", false};
}

std::string case_label(const ::testing::TestParamInfo<Case>& info) { return info.param.label; }

namespace {

// An activation layer: its op, its attributes (a YAML flow mapping's contents) and, for prelu, the
// number of slopes (1: shared; kPerChannel: one per channel of its input).
constexpr std::int64_t kPerChannel = -1;
struct Act {
  Act() = default;
  Act(std::string o, std::string a = {}, std::int64_t s = 0, std::string n = {})
      : op(std::move(o)), attrs(std::move(a)), slopes(s), name(std::move(n)) {}
  std::string op;
  std::string attrs;
  std::int64_t slopes = 0;
  std::string name;  // for case labels; the op when empty
  std::string label() const { return name.empty() ? op : name; }
};

// Appends the activation layer `name` reading `input` of `channels` channels to `k` (with prelu's
// weight, uniform in [-0.5, 0.5]).
void add_activation(Case& k, const Act& a, const std::string& name, const std::string& input, std::int64_t channels) {
  std::string layer = "{name: " + name + ", op: " + a.op + ", inputs: [" + input + "]";
  std::string attrs = a.attrs;
  if (a.slopes != 0) {
    const std::int64_t n = a.slopes == kPerChannel ? channels : a.slopes;
    attrs += (attrs.empty() ? "" : ", ") + std::string("num_parameters: ") + std::to_string(n);
    k.weights.push_back({name + ".w", {n}, -0.5f, 0.5f});
  }
  if (!attrs.empty()) layer += ", attributes: {" + attrs + "}";
  if (a.slopes != 0) layer += ", weights: {weight: " + name + ".w}";
  k.layers.push_back(layer + "}");
  k.output = name;
}

struct ConvSpec {
  std::string op = "conv2d";
  std::int64_t out = 4;
  std::vector<std::int64_t> kernel{3, 3}, stride{1, 1}, padding{0, 0}, dilation{1, 1}, output_padding{0, 0};
  std::int64_t groups = 1;
  bool bias = true;
  float gain = 1.0f;  // weights uniform in ±gain/2, bias in ±gain: gain > 1 spreads the outputs over the
                      // activations' kinks and thresholds
  Act activation;     // appended layer (op empty: none)
};

Case conv_case(const std::string& label, const Shape& x, const ConvSpec& c) {
  Case k;
  k.label = label;
  k.inputs = {{"x", x}};
  const bool t = c.op == "conv_transpose2d";
  const Shape w = t ? Shape{x[1], c.out / c.groups, c.kernel[0], c.kernel[1]}
                    : Shape{c.out, x[1] / c.groups, c.kernel[0], c.kernel[1]};
  std::string attrs = "out_channels: " + std::to_string(c.out) + ", kernel_size: " + dims(c.kernel) +
                      ", stride: " + dims(c.stride) + ", padding: " + dims(c.padding) + ", dilation: " +
                      dims(c.dilation) + ", groups: " + std::to_string(c.groups);
  if (t) attrs += ", output_padding: " + dims(c.output_padding);
  k.layers.push_back("{name: c, op: " + c.op + ", inputs: [x], attributes: {" + attrs + "}, weights: {weight: c.w" +
                     (c.bias ? ", bias: c.b}}" : "}}"));
  k.weights.push_back({"c.w", w, -c.gain / 2, c.gain / 2});
  if (c.bias) k.weights.push_back({"c.b", {c.out}, -c.gain, c.gain});
  k.output = "c";
  if (!c.activation.op.empty()) add_activation(k, c.activation, "a", "c", c.out);
  k.tf32_too = true;
  return k;
}

// Relu6 / hardtanh, hardswish, hardsigmoid, silu, mish, both GELU forms, softplus (the default
// threshold, which cuDNN's mode may compute, and a small one, which it cannot), prelu per channel and shared.
std::vector<Act> more_activations() {
  return {{"relu6"},
          {"hardtanh"},
          {"hardtanh", "min_val: -0.5, max_val: 0.25", 0, "hardtanh_narrow"},
          {"hardswish"},
          {"hardsigmoid"},
          {"silu"},
          {"mish"},
          {"gelu"},
          {"gelu", "approximate: tanh", 0, "gelu_tanh"},
          {"softplus"},
          {"softplus", "beta: 2.0, threshold: 1.5", 0, "softplus_threshold"},
          {"prelu", "", kPerChannel},
          {"prelu", "", 1, "prelu_shared"}};
}

Case activation_case(const std::string& label, const Shape& x, const Act& a) {
  Case k{label, {{"x", x}}, {}, {}, "", false};
  add_activation(k, a, "l", "x", x.size() >= 2 ? x[1] : 1);
  return k;
}

// The activation after a batch_norm that spreads its input (uniform in [-1, 1]) over about [-11, 11],
// across the kinks at ±3 and 6 and the small softplus threshold: the standalone kernel on every branch.
Case spread_activation_case(const std::string& label, const Shape& x, const Act& a) {
  Case k{label, {{"x", x}}, {"{name: n, op: batch_norm, inputs: [x], weights: {scale: n.s, shift: n.t}}"},
         {{"n.s", {x[1]}, 4.0f, 8.0f}, {"n.t", {x[1]}, -3.0f, 3.0f}}, "n", false};
  add_activation(k, a, "l", "n", x[1]);
  return k;
}

std::vector<Case> cases() {
  std::vector<Case> v;
  auto conv = [](auto f) {
    ConvSpec c;
    f(c);
    return c;
  };
  v.push_back(conv_case("conv3x3_pad1_odd", {3, 3, 9, 9}, conv([](ConvSpec& c) { c.out = 5; c.padding = {1, 1}; })));
  v.push_back(conv_case("conv_stride2_nobias", {3, 3, 11, 7},
                        conv([](ConvSpec& c) { c.out = 6; c.stride = {2, 2}; c.bias = false; })));
  v.push_back(conv_case("conv_dilation2", {3, 4, 10, 10}, conv([](ConvSpec& c) { c.dilation = {2, 2}; c.padding = {2, 2}; })));
  v.push_back(conv_case("conv_groups2", {3, 6, 8, 8}, conv([](ConvSpec& c) { c.groups = 2; c.padding = {1, 1}; })));
  v.push_back(conv_case("conv_depthwise", {3, 8, 7, 7},
                        conv([](ConvSpec& c) { c.out = 8; c.groups = 8; c.padding = {1, 1}; })));
  // Depthwise convolutions (kiln's kernel, Note [depthwise convolution]): MobileNet's 3x3 stride 2 with
  // relu6 on 144 channels (18 vectors of 8), EfficientNet's 5x5 stride 2 with silu, ConvNeXt's 7x7
  // without bias, dilation with odd channels (fp16 pads 5 to 8), an asymmetric kernel and stride with
  // sigmoid (whose value at 0 must not reach the pad channels), and no padding.
  const auto dw = [&](std::int64_t ch, auto set) {
    return conv([&](ConvSpec& c) {
      c.out = ch;
      c.groups = ch;
      c.gain = 4.0f;
      set(c);
    });
  };
  v.push_back(conv_case("dwconv3x3_s2_relu6_c144", {3, 144, 13, 11}, dw(144, [](ConvSpec& c) {
                          c.stride = {2, 2}; c.padding = {1, 1}; c.activation = {"relu6"}; })));
  v.push_back(conv_case("dwconv5x5_s2_silu_c40", {3, 40, 15, 14}, dw(40, [](ConvSpec& c) {
                          c.kernel = {5, 5}; c.stride = {2, 2}; c.padding = {2, 2}; c.activation = {"silu"}; })));
  v.push_back(conv_case("dwconv7x7_nobias_c16", {3, 16, 9, 8}, dw(16, [](ConvSpec& c) {
                          c.kernel = {7, 7}; c.padding = {3, 3}; c.bias = false; })));
  v.push_back(conv_case("dwconv_dilation2_hardswish_c5", {3, 5, 10, 9}, dw(5, [](ConvSpec& c) {
                          c.padding = {2, 2}; c.dilation = {2, 2}; c.activation = {"hardswish"}; })));
  v.push_back(conv_case("dwconv3x5_s1x2_sigmoid_c24", {3, 24, 7, 12}, dw(24, [](ConvSpec& c) {
                          c.kernel = {3, 5}; c.stride = {1, 2}; c.padding = {1, 2}; c.activation = {"sigmoid"}; })));
  v.push_back(conv_case("dwconv3x3_nopad_c8", {3, 8, 6, 6}, dw(8, [](ConvSpec&) {})));
  // 5x5 stride 1 (EfficientNet) and a 7x7 over a row of 13.
  v.push_back(conv_case("dwconv5x5_s1_relu_c32", {3, 32, 11, 13}, dw(32, [](ConvSpec& c) {
                          c.kernel = {5, 5}; c.padding = {2, 2}; c.activation = {"relu"}; })));
  v.push_back(conv_case("dwconv7x7_w13_c8", {3, 8, 5, 13}, dw(8, [](ConvSpec& c) { c.kernel = {7, 7}; c.padding = {3, 3}; })));
  // Few channels (kiln's direct kernel under Auto, Note [direct convolution]): the autoencoder's 16 -> 3 head
  // with sigmoid (whose value at 0 must not reach the fp16 pad channels), a 32 -> 1 mask head, RGB stems
  // (3 -> 32 stride 2, ResNet's 7x7 stride 2), dilation without bias, input channels that are no multiple
  // of 8 with an asymmetric kernel and stride, two output-channel blocks of which the second is partial,
  // and no padding.
  const auto few = [&](std::int64_t out, auto set) {
    return conv([&](ConvSpec& c) {
      c.out = out;
      c.gain = 2.0f;
      set(c);
    });
  };
  v.push_back(conv_case("direct3x3_16to3_sigmoid", {3, 16, 13, 11}, few(3, [](ConvSpec& c) {
                          c.padding = {1, 1}; c.activation = {"sigmoid"}; })));
  v.push_back(conv_case("direct1x1_32to1", {3, 32, 9, 7}, few(1, [](ConvSpec& c) { c.kernel = {1, 1}; })));
  v.push_back(conv_case("direct3x3_s2_3to32_relu", {3, 3, 15, 14}, few(32, [](ConvSpec& c) {
                          c.stride = {2, 2}; c.padding = {1, 1}; c.activation = {"relu"}; })));
  v.push_back(conv_case("direct7x7_s2_3to8_relu", {3, 3, 23, 21}, few(8, [](ConvSpec& c) {
                          c.kernel = {7, 7}; c.stride = {2, 2}; c.padding = {3, 3}; c.activation = {"relu"}; })));
  v.push_back(conv_case("direct_dilation2_5to5_nobias", {3, 5, 12, 10}, few(5, [](ConvSpec& c) {
                          c.dilation = {2, 2}; c.padding = {2, 2}; c.bias = false; })));
  v.push_back(conv_case("direct3x5_s1x2_20to6_hardswish", {3, 20, 9, 14}, few(6, [](ConvSpec& c) {
                          c.kernel = {3, 5}; c.stride = {1, 2}; c.padding = {1, 2}; c.activation = {"hardswish"}; })));
  v.push_back(conv_case("direct3x3_4to12_silu", {3, 4, 8, 8}, few(12, [](ConvSpec& c) {
                          c.padding = {1, 1}; c.activation = {"silu"}; })));
  v.push_back(conv_case("direct3x3_nopad_9to8", {3, 9, 7, 6}, few(8, [](ConvSpec&) {})));
  // Stems (fp16: im2col + GEMM under Auto, Note [stem convolution as im2col GEMM]): ResNet's 7x7 stride 2
  // with the ReLU in the GEMM's epilogue, MobileNet's 3x3 stride 2 with ReLU6 (an epilogue kernel), a
  // stride-1 3x3, no bias with SiLU, one input channel, and a 4-channel input with an asymmetric kernel,
  // stride and dilation (rows of 60 real elements padded to 64).
  v.push_back(conv_case("stem7x7_s2_3to64_relu", {3, 3, 23, 21}, few(64, [](ConvSpec& c) {
                          c.kernel = {7, 7}; c.stride = {2, 2}; c.padding = {3, 3}; c.activation = {"relu"}; })));
  v.push_back(conv_case("stem3x3_s2_3to32_relu6", {3, 3, 15, 14}, few(32, [](ConvSpec& c) {
                          c.stride = {2, 2}; c.padding = {1, 1}; c.activation = {"relu6"}; })));
  v.push_back(conv_case("stem3x3_3to20_relu", {3, 3, 12, 13}, few(20, [](ConvSpec& c) {
                          c.padding = {1, 1}; c.activation = {"relu"}; })));
  v.push_back(conv_case("stem3x3_s2_3to24_silu_nobias", {3, 3, 17, 16}, few(24, [](ConvSpec& c) {
                          c.stride = {2, 2}; c.padding = {1, 1}; c.bias = false; c.activation = {"silu"}; })));
  v.push_back(conv_case("stem3x3_1to16_sigmoid", {3, 1, 9, 9}, few(16, [](ConvSpec& c) {
                          c.padding = {1, 1}; c.activation = {"sigmoid"}; })));
  v.push_back(conv_case("stem5x3_s1x2_dil2_4to40", {3, 4, 16, 18}, few(40, [](ConvSpec& c) {
                          c.kernel = {5, 3}; c.stride = {1, 2}; c.padding = {4, 2}; c.dilation = {2, 2}; })));
  v.push_back(conv_case("conv1x1", {3, 13, 5, 5}, conv([](ConvSpec& c) { c.out = 7; c.kernel = {1, 1}; })));
  // 1x1 convolutions of a 1x1 input run as a GEMM (layers/conv/pointwise_gemm_gpu.h): with a folded
  // activation, without bias at odd channel counts, with a stride (still 1x1), and the whole
  // squeeze-excitation block of EfficientNet / MobileNet-V3 (pool, two such convs, gate multiply).
  v.push_back(conv_case("conv1x1_of_vector_sigmoid_c40", {3, 40, 1, 1}, conv([](ConvSpec& c) {
                          c.out = 10; c.kernel = {1, 1}; c.gain = 4.0f; c.activation = {"sigmoid"}; })));
  v.push_back(conv_case("conv1x1_of_vector_nobias_c5", {3, 5, 1, 1}, conv([](ConvSpec& c) {
                          c.out = 7; c.kernel = {1, 1}; c.bias = false; })));
  v.push_back(conv_case("conv1x1_of_vector_stride2_silu_c16", {3, 16, 1, 1}, conv([](ConvSpec& c) {
                          c.out = 24; c.kernel = {1, 1}; c.stride = {2, 2}; c.activation = {"silu"}; })));
  {
    Case se{"conv_squeeze_excitation_c24",
            {{"x", {3, 24, 9, 7}}},
            {"{name: p, op: global_avg_pool2d, inputs: [x]}",
             "{name: f1, op: conv2d, inputs: [p], attributes: {out_channels: 6, kernel_size: 1}, weights: {weight: w1, bias: b1}}",
             "{name: a1, op: silu, inputs: [f1]}",
             "{name: f2, op: conv2d, inputs: [a1], attributes: {out_channels: 24, kernel_size: 1}, weights: {weight: w2, bias: b2}}",
             "{name: g, op: sigmoid, inputs: [f2]}",
             "{name: l, op: mul, inputs: [x, g]}"},
            {{"w1", {6, 24, 1, 1}}, {"b1", {6}}, {"w2", {24, 6, 1, 1}}, {"b2", {24}}},
            "l",
            true};
    v.push_back(se);
  }
  v.push_back(conv_case("conv_asymmetric", {3, 3, 9, 8},
                        conv([](ConvSpec& c) { c.out = 5; c.kernel = {3, 1}; c.stride = {2, 1}; c.padding = {1, 0}; })));
  v.push_back(conv_case("conv_19to21", {3, 19, 12, 12}, conv([](ConvSpec& c) { c.out = 21; c.padding = {1, 1}; })));
  v.push_back(conv_case("conv_relu", {3, 5, 8, 9}, conv([](ConvSpec& c) { c.out = 6; c.padding = {1, 1}; c.activation = {"relu"}; })));
  v.push_back(conv_case("conv_leaky_relu", {3, 5, 8, 9},
                        conv([](ConvSpec& c) { c.activation = {"leaky_relu", "negative_slope: 0.2"}; })));
  v.push_back(conv_case("conv_sigmoid", {3, 5, 8, 9}, conv([](ConvSpec& c) { c.activation = {"sigmoid"}; })));
  v.push_back(conv_case("conv_tanh", {3, 5, 8, 9}, conv([](ConvSpec& c) { c.activation = {"tanh"}; })));
  v.push_back(conv_case("conv_elu_nobias", {3, 5, 8, 9},
                        conv([](ConvSpec& c) { c.bias = false; c.activation = {"elu", "alpha: 0.7"}; })));
  v.push_back(conv_case("deconv_k2s2_relu", {3, 8, 5, 5}, conv([](ConvSpec& c) {
                          c.op = "conv_transpose2d"; c.kernel = {2, 2}; c.stride = {2, 2}; c.activation = {"relu"}; })));
  v.push_back(conv_case("deconv_k3s2p1op1", {3, 4, 6, 5}, conv([](ConvSpec& c) {
                          c.op = "conv_transpose2d"; c.out = 3; c.stride = {2, 2}; c.padding = {1, 1};
                          c.output_padding = {1, 1}; })));
  v.push_back(conv_case("deconv_groups2", {3, 4, 5, 5}, conv([](ConvSpec& c) {
                          c.op = "conv_transpose2d"; c.out = 6; c.groups = 2; c.padding = {1, 1}; })));
  v.push_back(conv_case("deconv_dilation2_sigmoid", {3, 3, 5, 5}, conv([](ConvSpec& c) {
                          c.op = "conv_transpose2d"; c.out = 2; c.stride = {2, 2}; c.dilation = {2, 2};
                          c.activation = {"sigmoid"}; })));

  // Each further activation fused after a convolution whose outputs (gain 4) reach about ±15: 5 -> 6
  // channels (fp16 pads 6 to 8); cuDNN's pointwise mode where it has one, else kiln's epilogue kernel.
  for (const Act& a : more_activations()) {
    v.push_back(conv_case("conv_" + a.label(), {3, 5, 8, 9}, conv([&](ConvSpec& c) {
                            c.out = 6; c.padding = {1, 1}; c.gain = 4.0f; c.activation = a; })));
  }
  v.push_back(conv_case("conv_softplus_huge", {3, 5, 8, 9}, conv([](ConvSpec& c) {
                          c.gain = 30.0f; c.activation = {"softplus"}; })));  // beta*x beyond exp's float range
  v.push_back(conv_case("conv_softplus_beta2", {3, 5, 8, 9}, conv([](ConvSpec& c) {
                          c.gain = 4.0f; c.activation = {"softplus", "beta: 2.0, threshold: 20.0"}; })));  // cuDNN's beta
  v.push_back(conv_case("conv_mish_huge", {3, 5, 8, 9}, conv([](ConvSpec& c) { c.gain = 30.0f; c.activation = {"mish"}; })));
  v.push_back(conv_case("conv_gelu_tanh_c16", {3, 16, 6, 6}, conv([](ConvSpec& c) {
                          c.out = 16; c.padding = {1, 1}; c.gain = 3.0f; c.activation = {"gelu", "approximate: tanh"}; })));
  v.push_back(conv_case("conv_hardswish_c16_nobias", {3, 8, 6, 6}, conv([](ConvSpec& c) {
                          c.out = 16; c.bias = false; c.gain = 4.0f; c.activation = {"hardswish"}; })));
  v.push_back(conv_case("conv_prelu_c16", {3, 8, 6, 6}, conv([](ConvSpec& c) {
                          c.out = 16; c.padding = {1, 1}; c.gain = 3.0f; c.activation = {"prelu", "", kPerChannel}; })));
  v.push_back(conv_case("deconv_silu", {3, 4, 5, 5}, conv([](ConvSpec& c) {
                          c.op = "conv_transpose2d"; c.out = 3; c.stride = {2, 2}; c.gain = 3.0f; c.activation = {"silu"}; })));
  v.push_back(conv_case("deconv_relu6_groups2", {3, 4, 5, 5}, conv([](ConvSpec& c) {
                          c.op = "conv_transpose2d"; c.out = 6; c.groups = 2; c.gain = 4.0f; c.activation = {"relu6"}; })));
  // Standalone: odd channels (fp16 pads 5 to 8), spread over the kinks, the 16-byte paths (16 channels;
  // [N, F] with F % 8 == 0), [N, F] with odd F, and rank 3.
  for (const Act& a : more_activations()) {
    v.push_back(activation_case(a.label(), {3, 5, 4, 6}, a));
    v.push_back(spread_activation_case("spread_" + a.label(), {3, 5, 4, 6}, a));
    v.push_back(activation_case(a.label() + "_c16", {3, 16, 4, 4}, a));
    v.push_back(activation_case(a.label() + "_2d_f16", {3, 16}, a));
    v.push_back(activation_case(a.label() + "_2d_odd", {3, 37}, a));
  }
  v.push_back(activation_case("prelu_3d", {3, 6, 10}, {"prelu", "", kPerChannel}));
  v.push_back(activation_case("prelu_1d", {3}, {"prelu", "", 1}));
  v.push_back(activation_case("mish_3d", {3, 6, 10}, {"mish"}));

  const Shape p1{3, 5, 9, 9}, p2{3, 3, 10, 11};
  v.push_back(single("maxpool_k2", {{"x", p1}}, "{name: l, op: max_pool2d, inputs: [x], attributes: {kernel_size: 2}}"));
  v.push_back(single("maxpool_k3s2p1", {{"x", p2}},
                     "{name: l, op: max_pool2d, inputs: [x], attributes: {kernel_size: 3, stride: 2, padding: 1}}"));
  v.push_back(single("avgpool_include_pad", {{"x", p2}},
                     "{name: l, op: avg_pool2d, inputs: [x], attributes: {kernel_size: 3, stride: 2, padding: 1}}"));
  v.push_back(single("avgpool_exclude_pad", {{"x", p2}},
                     "{name: l, op: avg_pool2d, inputs: [x], attributes: {kernel_size: 3, stride: 2, padding: 1, "
                     "count_include_pad: false}}"));
  v.push_back(single("global_avgpool", {{"x", {3, 7, 5, 6}}}, "{name: l, op: global_avg_pool2d, inputs: [x]}"));

  const Shape a{3, 5, 4, 6};
  v.push_back(single("relu", {{"x", a}}, "{name: l, op: relu, inputs: [x]}"));
  v.push_back(single("leaky_relu", {{"x", a}}, "{name: l, op: leaky_relu, inputs: [x], attributes: {negative_slope: 0.1}}"));
  v.push_back(single("sigmoid", {{"x", a}}, "{name: l, op: sigmoid, inputs: [x]}"));
  v.push_back(single("tanh", {{"x", a}}, "{name: l, op: tanh, inputs: [x]}"));
  v.push_back(single("elu", {{"x", a}}, "{name: l, op: elu, inputs: [x], attributes: {alpha: 1.3}}"));
  v.push_back(single("batch_norm", {{"x", {3, 6, 5, 5}}}, "{name: l, op: batch_norm, inputs: [x], weights: {scale: s, shift: t}}",
                     {{"s", {6}, 0.5f, 1.5f}, {"t", {6}}}));

  Case lin = single("linear_bias", {{"x", {3, 37}}}, "{name: l, op: linear, inputs: [x], attributes: {out_features: 13}, "
                    "weights: {weight: w, bias: b}}", {{"w", {13, 37}}, {"b", {13}}});
  lin.tf32_too = true;
  v.push_back(lin);
  v.push_back(Case{"flatten_linear_nobias", {{"x", {3, 4, 3, 3}}},
                   {"{name: f, op: flatten, inputs: [x]}",
                    "{name: l, op: linear, inputs: [f], attributes: {out_features: 10}, weights: {weight: w}}"},
                   {{"w", {10, 36}}}, "l", true});

  const Shape n{3, 9, 4, 4};
  v.push_back(single("lrn_size5_cudnn", {{"x", n}}, "{name: l, op: lrn, inputs: [x], attributes: {size: 5}}"));
  v.push_back(single("lrn_size4_kernel", {{"x", n}}, "{name: l, op: lrn, inputs: [x], attributes: {size: 4, alpha: 0.01}}"));
  v.push_back(single("lrn_size3_k2", {{"x", n}},
                     "{name: l, op: lrn, inputs: [x], attributes: {size: 3, alpha: 0.05, beta: 0.5, k: 2.0}}"));
  v.push_back(single("softmax_2d", {{"x", {3, 10}}}, "{name: l, op: softmax, inputs: [x]}"));
  v.push_back(single("softmax_4d", {{"x", {3, 6, 3, 4}}}, "{name: l, op: softmax, inputs: [x]}"));

  const Shape t{3, 4, 5, 5};
  v.push_back(single("add3", {{"x", t}, {"y", t}, {"z", t}}, "{name: l, op: add, inputs: [x, y, z]}"));
  // An activation after an equal-shape add folds into the sum kernel (ResNet's add + ReLU): float32 NCHW at
  // an odd width, half NHWC with pad channels that sigmoid(0) = 0.5 must not reach, three inputs, and
  // the aligned vector path.
  const auto add_then = [](const std::string& label, const Shape& s, const std::string& act, int inputs) {
    Case k{label, {}, {}, {}, "r", false};
    std::string names;
    for (int i = 0; i < inputs; ++i) {
      const std::string name(1, static_cast<char>('x' + i));
      k.inputs.push_back({name, s});
      names += (i ? ", " : "") + name;
    }
    k.layers = {"{name: l, op: add, inputs: [" + names + "]}", "{name: r, op: " + act + ", inputs: [l]}"};
    return k;
  };
  v.push_back(add_then("add_relu_w5", {3, 4, 3, 5}, "relu", 2));
  v.push_back(add_then("add_sigmoid_c5", {3, 5, 4, 3}, "sigmoid", 2));
  v.push_back(add_then("add3_relu6_c8", {3, 8, 4, 4}, "relu6", 3));
  v.push_back(single("concat3", {{"x", {3, 3, 4, 5}}, {"y", {3, 5, 4, 5}}, {"z", {3, 1, 4, 5}}},
                     "{name: l, op: concat, inputs: [x, y, z]}"));
  v.push_back(single("concat_2d", {{"x", {3, 7}}, {"y", {3, 2}}}, "{name: l, op: concat, inputs: [x, y]}"));
  v.push_back(single("upsample2", {{"x", {3, 3, 4, 5}}}, "{name: l, op: upsample_nearest, inputs: [x]}"));
  v.push_back(single("upsample2x3", {{"x", {3, 3, 4, 5}}},
                     "{name: l, op: upsample_nearest, inputs: [x], attributes: {scale: [2, 3]}}"));

  // Channel counts and widths that take the kernels' 16-byte paths (float32: 4 elements, half: 8),
  // including the [N, C, 1, 1] shapes where both stored orders coincide (ResNet's global pooling).
  const Shape al{3, 8, 4, 4}, wide{3, 16, 4, 4};
  v.push_back(single("global_avgpool_c16", {{"x", {3, 16, 7, 7}}}, "{name: l, op: global_avg_pool2d, inputs: [x]}"));
  v.push_back(single("maxpool_c16", {{"x", {3, 16, 8, 8}}}, "{name: l, op: max_pool2d, inputs: [x], "
                     "attributes: {kernel_size: 3, stride: 2, padding: 1}}"));
  v.push_back(single("maxpool_to_1x1_c8", {{"x", {3, 8, 2, 2}}}, "{name: l, op: max_pool2d, inputs: [x], "
                     "attributes: {kernel_size: 2}}"));
  v.push_back(single("relu_c8", {{"x", al}}, "{name: l, op: relu, inputs: [x]}"));
  v.push_back(single("sigmoid_2d_f16", {{"x", {3, 16}}}, "{name: l, op: sigmoid, inputs: [x]}"));
  v.push_back(single("batch_norm_c8", {{"x", al}}, "{name: l, op: batch_norm, inputs: [x], weights: {scale: s, shift: t}}",
                     {{"s", {8}, 0.5f, 1.5f}, {"t", {8}}}));
  v.push_back(single("add_c8", {{"x", al}, {"y", al}}, "{name: l, op: add, inputs: [x, y]}"));
  v.push_back(single("concat_aligned", {{"x", al}, {"y", wide}}, "{name: l, op: concat, inputs: [x, y]}"));
  v.push_back(single("concat_mixed", {{"x", al}, {"y", {3, 3, 4, 4}}, {"z", al}},
                     "{name: l, op: concat, inputs: [x, y, z]}"));
  v.push_back(single("upsample_c16", {{"x", wide}}, "{name: l, op: upsample_nearest, inputs: [x]}"));
  v.push_back(single("upsample_from_1x1", {{"x", {3, 8, 1, 1}}}, "{name: l, op: upsample_nearest, inputs: [x], "
                     "attributes: {scale: [3, 2]}}"));
  v.push_back(single("softmax_c16", {{"x", {3, 16, 2, 3}}}, "{name: l, op: softmax, inputs: [x]}"));
  v.push_back(single("lrn_c16", {{"x", wide}}, "{name: l, op: lrn, inputs: [x], attributes: {size: 5}}"));
  v.push_back(Case{"flatten_1x1_c16_linear", {{"x", {3, 16, 1, 1}}},
                   {"{name: f, op: flatten, inputs: [x]}",
                    "{name: l, op: linear, inputs: [f], attributes: {out_features: 5}, weights: {weight: w}}"},
                   {{"w", {5, 16}}}, "l", false});
  return v;
}

// Runs anywhere: the table's models are valid and the CPU reference runs them (so a GPU failure
// below is the GPU's, not the test model's).
TEST_P(GpuLayerTest, ModelIsValidForTheCpuReference) {
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  GraphBuildOptions g;
  g.max_batch = 3;
  const LoadedModel m = load_model(model.dir(), g);
  const CpuExecutor cpu(m.graph, m.weights);
  const RunResult r = cpu.run(random_inputs(m.graph, 2, 1), 2);
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].shape[0], 2);
}

TEST_P(GpuLayerTest, MatchesCpuReference) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  GpuEngineOptions fp32;
  expect_matches_cpu(model.dir(), fp32, 3, {3, 1, 2}, kFp32Tol);
  if (c.tf32_too) {
    GpuEngineOptions tf32;
    tf32.precision = Precision::Tf32;
    expect_matches_cpu(model.dir(), tf32, 3, {3, 2}, kTf32Tol);
  }
}

TEST_P(GpuLayerTest, MatchesCpuReferenceFp16) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  GpuEngineOptions fp16;
  fp16.precision = Precision::Fp16;
  expect_matches_cpu(model.dir(), fp16, 3, {3, 1, 2}, kFp16Tol);
}

// Convolutions again with fusion off and the find mode (timed candidates), which take other paths.
class GpuConvTest : public ::testing::TestWithParam<Case> {};

std::vector<Case> conv_cases() {
  std::vector<Case> out;
  for (Case& c : cases()) {
    if (c.label.find("conv") != std::string::npos) out.push_back(std::move(c));
  }
  return out;
}

TEST_P(GpuConvTest, MatchesCpuReferenceUnfusedFindMode) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  GpuEngineOptions options;
  options.fuse = false;
  options.algo = AlgoMode::Find;
  expect_matches_cpu(model.dir(), options, 3, {3, 2}, kFp32Tol);
  options.precision = Precision::Fp16;  // the epilogue kernel and timed candidates on half NHWC
  expect_matches_cpu(model.dir(), options, 3, {3, 2}, kFp16Tol);
}

// Depthwise convolutions by every path GpuEngineOptions::depthwise offers: kiln's kernel, cuDNN's graph,
// and Auto's pick between them (the layer report says which ran). Each matches the CPU
// reference.
class GpuDepthwiseTest : public ::testing::TestWithParam<Case> {};

std::vector<Case> depthwise_cases() {
  std::vector<Case> out;
  for (Case& c : cases()) {
    if (c.label.rfind("dwconv", 0) == 0 || c.label == "conv_depthwise") out.push_back(std::move(c));
  }
  return out;
}

TEST_P(GpuDepthwiseTest, EveryPathMatchesTheCpuReference) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  for (const Precision p : {Precision::Fp32, Precision::Fp16}) {
    for (const DepthwiseAlgo how : {DepthwiseAlgo::Kiln, DepthwiseAlgo::Cudnn, DepthwiseAlgo::Auto}) {
      GpuEngineOptions options;
      options.precision = p;
      options.depthwise = how;
      const auto engine = GpuEngine::load(model.dir(), options);
      const std::string impl = engine->layer_reports().at(0).implementation;
      const bool kiln = impl.rfind("kiln depthwise kernel", 0) == 0;
      if (how != DepthwiseAlgo::Auto) {
        EXPECT_EQ(kiln, how != DepthwiseAlgo::Cudnn) << impl;
      }
      // fp32 and tf32 keep cuDNN's graph under Auto.
      if (how == DepthwiseAlgo::Auto && p == Precision::Fp32) {
        EXPECT_FALSE(kiln) << impl;
      }
      SCOPED_TRACE(impl);
      expect_matches_cpu(model.dir(), options, 3, {3, 2}, p == Precision::Fp16 ? kFp16Tol : kFp32Tol);
    }
  }
}

// Convolutions with few channels by every path GpuEngineOptions::direct_conv offers: kiln's direct kernel,
// cuDNN, and Auto (which picks the kernel for the cases with at most 8 output channels). Each matches the
// CPU reference.
class GpuDirectConvTest : public ::testing::TestWithParam<Case> {};

std::vector<Case> direct_conv_cases() {
  std::vector<Case> out;
  for (Case& c : cases()) {
    if (c.label.rfind("direct", 0) == 0 || c.label == "conv3x3_pad1_odd") out.push_back(std::move(c));
  }
  return out;
}

TEST_P(GpuDirectConvTest, EveryPathMatchesTheCpuReference) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  for (const Precision p : {Precision::Fp32, Precision::Fp16}) {
    for (const DirectConvAlgo how : {DirectConvAlgo::Kiln, DirectConvAlgo::Cudnn, DirectConvAlgo::Auto}) {
      GpuEngineOptions options;
      options.precision = p;
      options.direct_conv = how;
      options.im2col = Im2colAlgo::Off;  // GpuIm2colGemmTest covers the stems' GEMM
      const auto engine = GpuEngine::load(model.dir(), options);
      const std::string impl = engine->layer_reports().at(0).implementation;
      const ConvParams params = dynamic_cast<const ConvLayer&>(*engine->graph().layers().at(0)).params();
      const bool want = how == DirectConvAlgo::Kiln || (how == DirectConvAlgo::Auto && direct_conv_preferred(params, p));
      EXPECT_EQ(impl.rfind("kiln direct conv kernel", 0) == 0, want) << impl;
      SCOPED_TRACE(impl);
      expect_matches_cpu(model.dir(), options, 3, {3, 2}, p == Precision::Fp16 ? kFp16Tol : kFp32Tol);
    }
  }
}

// Host side: which convolutions the direct kernel may run, is offered for and Auto gives it, and that the
// declaration requests its float filter (and a float bias, padded in fp16) for the candidates.
TEST(DirectConvDeclarations, RuleAndWeightForms) {
  ConvParams p;
  p.in_channels = 16;
  p.out_channels = 3;
  p.kernel = {3, 3};
  EXPECT_TRUE(direct_conv_eligible(p));
  EXPECT_TRUE(direct_conv_candidate(p));
  EXPECT_TRUE(direct_conv_preferred(p, Precision::Fp32));
  EXPECT_TRUE(direct_conv_preferred(p, Precision::Fp16));
  p.out_channels = 64;
  EXPECT_TRUE(direct_conv_eligible(p));   // 9 * 16 * 8 floats of shared memory
  EXPECT_FALSE(direct_conv_candidate(p));  // cuDNN's tensor cores: wide on both sides; no float filter uploaded
  p.in_channels = 3;
  p.kernel = {7, 7};
  EXPECT_TRUE(direct_conv_candidate(p));                     // an RGB stem: offered (KILN_DIRECT_CONV=kiln)
  EXPECT_TRUE(direct_conv_preferred(p, Precision::Fp16));   // 7x7 in fp16: the kernel is faster
  EXPECT_FALSE(direct_conv_preferred(p, Precision::Fp32));  // in fp32 cuDNN is
  p.kernel = {3, 3};
  EXPECT_TRUE(direct_conv_candidate(p));
  EXPECT_FALSE(direct_conv_preferred(p, Precision::Fp16));  // a 3x3 stem: cuDNN is faster
  p.kernel = {7, 7};
  p.in_channels = 256;
  p.kernel = {3, 3};
  EXPECT_FALSE(direct_conv_eligible(p));  // 73 KiB of filter slice
  p.in_channels = 4;
  p.out_channels = 4;
  p.groups = 2;
  EXPECT_FALSE(direct_conv_eligible(p));
  p.groups = 1;
  p.transposed = true;
  EXPECT_FALSE(direct_conv_eligible(p));

  for (const char* label : {"direct3x3_16to3_sigmoid", "direct_dilation2_5to5_nobias"}) {
    Case c;
    for (Case& k : cases()) {
      if (k.label == label) c = std::move(k);
    }
    const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
    const Graph graph = load_graph(model.dir());
    const Layer& layer = *graph.layers().at(0);
    for (const Precision prec : {Precision::Fp32, Precision::Fp16}) {
      const OpDeclaration d = gpu_op_kind(layer).declare(layer, prec);
      const ConvLayer& conv = dynamic_cast<const ConvLayer&>(layer);
      int filters = 0, biases = 0;
      for (const WeightRequest& r : d.weights) {
        if (r.tensor == &conv.weight() && r.form == WeightForm::F32) ++filters;
        if (conv.bias() && r.tensor == conv.bias() &&
            r.form == (prec == Precision::Fp16 ? WeightForm::F32Padded : WeightForm::F32)) {
          ++biases;
        }
      }
      EXPECT_GE(filters, 1) << label;
      EXPECT_EQ(biases >= 1, conv.bias() != nullptr) << label;
    }
  }
}

// The add + activation cases fold the activation into the sum kernel, and the host-side declaration says
// an equal-shape add accepts it (a broadcasting one does not).
TEST(GpuAddActivation, FoldsIntoTheSumKernel) {
  for (const char* label : {"add_relu_w5", "add_sigmoid_c5", "add3_relu6_c8"}) {
    Case c;
    for (Case& k : cases()) {
      if (k.label == label) c = std::move(k);
    }
    ASSERT_EQ(c.label, label);
    const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
    const Graph graph = load_graph(model.dir());
    const Layer& add = *graph.layers().at(0);
    for (const Precision p : {Precision::Fp32, Precision::Fp16}) {
      EXPECT_EQ(gpu_op_kind(add).declare(add, p).accepts_epilogues, kActivationEpilogue) << label;
    }
    if (!no_device_reason().empty()) continue;
    for (const Precision p : {Precision::Fp32, Precision::Fp16}) {
      GpuEngineOptions options;
      options.precision = p;
      const auto engine = GpuEngine::load(model.dir(), options);
      EXPECT_EQ(engine->layer_reports().at(0).implementation.rfind("cuda kernel (add+", 0), 0u) << label;
      EXPECT_EQ(engine->layer_reports().at(1).implementation, "fused into l") << label;
    }
  }
  Case bias = single("b", {{"x", {2, 4, 3, 3}}, {"y", {2, 4, 1, 1}}}, "{name: l, op: add, inputs: [x, y]}");
  const TestModel model(bias.inputs, bias.layers, {bias.output}, bias.weights);
  const Graph graph = load_graph(model.dir());
  const Layer& add = *graph.layers().at(0);
  EXPECT_EQ(gpu_op_kind(add).declare(add, Precision::Fp16).accepts_epilogues, kNoEpilogue);
}

// Host side: prelu declares its slopes (float; fp16 pads per-channel ones to the stored channels) and
// is no epilogue (a producer's epilogue carries no weights); the other activations are epilogues.
TEST(ActivationDeclarations, PreluDeclaresItsSlopesAndIsNoEpilogue) {
  Case per = activation_case("p", {2, 5, 3, 3}, {"prelu", "", kPerChannel});
  Case shared = activation_case("s", {2, 5, 3, 3}, {"prelu", "", 1});
  Case hs = activation_case("h", {2, 5, 3, 3}, {"hardswish"});
  for (const Precision p : {Precision::Fp32, Precision::Tf32, Precision::Fp16}) {
    for (const Case* c : {&per, &shared, &hs}) {
      const TestModel model(c->inputs, c->layers, {c->output}, c->weights);
      const Graph graph = load_graph(model.dir());
      const Layer& layer = *graph.layers().at(0);
      const OpDeclaration d = gpu_op_kind(layer).declare(layer, p);
      EXPECT_EQ(d.output, OutputStorage::MayOverwriteInput);
      if (c == &hs) {
        EXPECT_EQ(d.epilogue_kind, kActivationEpilogue);
        EXPECT_TRUE(d.weights.empty());
        continue;
      }
      EXPECT_EQ(d.epilogue_kind, kNoEpilogue) << c->label;
      ASSERT_EQ(d.weights.size(), 1u);
      EXPECT_EQ(d.weights[0].tensor->name, "l.w");
      const bool padded = p == Precision::Fp16 && c == &per;
      EXPECT_EQ(d.weights[0].form, padded ? WeightForm::F32Padded : WeightForm::F32) << c->label;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, GpuLayerTest, ::testing::ValuesIn(cases()), case_label);
INSTANTIATE_TEST_SUITE_P(Table, GpuConvTest, ::testing::ValuesIn(conv_cases()), case_label);
INSTANTIATE_TEST_SUITE_P(Table, GpuDepthwiseTest, ::testing::ValuesIn(depthwise_cases()), case_label);
INSTANTIATE_TEST_SUITE_P(Table, GpuDirectConvTest, ::testing::ValuesIn(direct_conv_cases()), case_label);

// Stems by every path GpuEngineOptions::im2col offers in fp16 (Note [stem convolution as im2col GEMM]):
// the GEMM whenever it is forced or Auto's rule names the layer, else the direct kernel or cuDNN; each
// matches the CPU reference at batches 3, 1 and 2 (of max batch 3). With a 64 KiB workspace cap a
// batch's positions run as several GEMMs of 128 rows and a shorter last one.
class GpuIm2colGemmTest : public ::testing::TestWithParam<Case> {};

std::vector<Case> im2col_cases() {
  std::vector<Case> out;
  for (Case& c : cases()) {
    if (c.label.rfind("stem", 0) == 0 || c.label == "direct3x3_s2_3to32_relu" || c.label == "direct3x3_4to12_silu" ||
        c.label == "direct7x7_s2_3to8_relu" || c.label == "direct3x3_nopad_9to8") {
      out.push_back(std::move(c));
    }
  }
  return out;
}

TEST_P(GpuIm2colGemmTest, EveryPathMatchesTheCpuReference) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  for (const Im2colAlgo how : {Im2colAlgo::Gemm, Im2colAlgo::Auto, Im2colAlgo::Off}) {
    for (const std::uint64_t cap : {std::uint64_t{256} << 20, std::uint64_t{64} << 10}) {
      GpuEngineOptions options;
      options.precision = Precision::Fp16;
      options.im2col = how;
      options.workspace_cap_bytes = cap;
      const auto engine = GpuEngine::load(model.dir(), options);
      const std::string impl = engine->layer_reports().at(0).implementation;
      const ConvLayer& layer = dynamic_cast<const ConvLayer&>(*engine->graph().layers().at(0));
      const ConvParams params = layer.params();
      const bool eligible = plan_im2col_gemm(params, layer.output_shape(), Precision::Fp16, 3, cap).eligible;
      const bool want = eligible && im2col_gemm_candidate(params, Precision::Fp16) &&
                        (how == Im2colAlgo::Gemm || (how == Im2colAlgo::Auto && im2col_gemm_preferred(params, Precision::Fp16)));
      EXPECT_EQ(impl.rfind("im2col + cublasLt GEMM", 0) == 0, want) << impl;
      SCOPED_TRACE(impl);
      expect_matches_cpu(model.dir(), options, 3, {3, 1, 2}, kFp16Tol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, GpuIm2colGemmTest, ::testing::ValuesIn(im2col_cases()), case_label);

}  // namespace
}  // namespace kiln::gpu::test
