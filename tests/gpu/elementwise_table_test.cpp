// add, sub, mul, div on the GPU against the CPU reference (the table of layer_test.cpp): broadcast
// both ways (SE gates [N, C, 1, 1], [N, 1, H, W] masks, per-sample values, both operands broadcast),
// odd channel counts (5: half NHWC pads them to 8) and 16 (the 16-byte vector paths), rank 2 and 3,
// scalars and weights with `reverse`. Divisors are kept away from 0 by a layer adding 3 to inputs in
// [-1, 1] (or weights in [0.5, 2]), so fp16 rounding stays within tolerance. A division followed by a
// convolution checks that half pads stay finite (the filter is zero there, but NaN * 0 is NaN).
#include <string>
#include <vector>

#include "engine/gpu/op.h"
#include "engine/model_dir.h"
#include "layers/registry_gpu.h"
#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {
namespace {

// "{name: l, op: <op>, inputs: [<inputs>]<rest>}"
std::string layer(const std::string& op, const std::string& inputs, const std::string& rest = {},
                  const std::string& name = "l") {
  return "{name: " + name + ", op: " + op + ", inputs: [" + inputs + "]" + rest + "}";
}

// The layer `d` = `input` + 3 (in [2, 4] for inputs in [-1, 1]): a divisor away from 0.
std::string shifted(const std::string& input, const std::string& name = "d") {
  return layer("add", input, ", attributes: {scalar: 3.0}", name);
}

Case two(const std::string& label, const std::string& op, const Shape& a, const Shape& b) {
  if (op != "div") return single(label, {{"x", a}, {"y", b}}, layer(op, "x, y"));
  return Case{label, {{"x", a}, {"y", b}}, {shifted("y"), layer("div", "x, d")}, {}, "l", false};
}

std::vector<Case> elementwise_cases() {
  std::vector<Case> v;
  const std::vector<std::string> ops = {"add", "sub", "mul", "div"};
  // Both operand orders of each broadcast pair, for every op.
  struct Pair {
    std::string label;
    Shape a, b;
  };
  const std::vector<Pair> pairs = {
      {"se_gate_c5", {3, 5, 4, 4}, {3, 5, 1, 1}},
      {"se_gate_c16", {3, 16, 4, 4}, {3, 16, 1, 1}},
      {"mask_c5", {3, 5, 4, 4}, {3, 1, 4, 4}},
      {"mask_c16", {3, 16, 3, 5}, {3, 1, 3, 5}},
      {"per_sample_c5", {3, 5, 3, 3}, {3, 1, 1, 1}},
      {"row_c5_w7", {3, 5, 3, 7}, {3, 5, 3, 1}},
      {"row_c3_w8", {3, 3, 4, 8}, {3, 3, 4, 1}},  // float32 NCHW: 16 bytes along w, the gate one value
      {"cols_c5", {3, 5, 4, 6}, {3, 1, 1, 6}},
      {"equal_c5", {3, 5, 4, 4}, {3, 5, 4, 4}},
      {"equal_c16", {3, 16, 2, 3}, {3, 16, 2, 3}},
      {"gate_c8_at_1x1", {3, 8, 1, 1}, {3, 8, 1, 1}},
      {"rank2_f10", {3, 10}, {3, 1}},
      {"rank2_f16", {3, 16}, {3, 16}},
      {"rank3", {3, 5, 6}, {3, 5, 1}},
  };
  for (const std::string& op : ops) {
    for (const Pair& p : pairs) {
      v.push_back(two(op + "_" + p.label, op, p.a, p.b));
      if (p.a != p.b) v.push_back(two(op + "_" + p.label + "_broadcast_first", op, p.b, p.a));
    }
    v.push_back(two(op + "_both_broadcast_c5", op, {3, 5, 4, 1}, {3, 1, 1, 6}));
    v.push_back(two(op + "_both_broadcast_c16", op, {3, 16, 1, 3}, {3, 1, 4, 1}));
  }

  // A real SE block: global pooling, sigmoid, the gate times the input.
  for (const std::int64_t c : {5, 16}) {
    v.push_back(Case{"se_block_c" + std::to_string(c), {{"x", {3, c, 5, 5}}},
                     {layer("global_avg_pool2d", "x", {}, "p"), layer("sigmoid", "p", {}, "s"), layer("mul", "x, s")},
                     {}, "l", false});
  }

  // Scalars, plain and reversed (rsub: 1 - x; rtruediv: 1 / (x + 3)).
  const Shape odd{3, 5, 4, 4}, wide{3, 16, 4, 4};
  v.push_back(single("add_scalar_c5", {{"x", odd}}, layer("add", "x", ", attributes: {scalar: 0.5}")));
  v.push_back(single("sub_scalar_c16", {{"x", wide}}, layer("sub", "x", ", attributes: {scalar: -1.25}")));
  v.push_back(single("rsub_scalar_c5", {{"x", odd}}, layer("sub", "x", ", attributes: {scalar: 1.0, reverse: true}")));
  v.push_back(single("mul_scalar_c16", {{"x", wide}}, layer("mul", "x", ", attributes: {scalar: 3.0}")));
  v.push_back(single("mul_scalar_rank2", {{"x", {3, 7}}}, layer("mul", "x", ", attributes: {scalar: -0.5}")));
  v.push_back(single("div_scalar_c5", {{"x", odd}}, layer("div", "x", ", attributes: {scalar: 0.25}")));
  v.push_back(Case{"rdiv_scalar_c5", {{"x", odd}},
                   {shifted("x"), layer("div", "d", ", attributes: {scalar: 1.0, reverse: true}")}, {}, "l", false});
  v.push_back(Case{"rdiv_scalar_c16", {{"x", wide}},
                   {shifted("x"), layer("div", "d", ", attributes: {scalar: 2.0, reverse: true}")}, {}, "l", false});

  // Weights: a layer scale per channel, per feature, per sample element; reversed.
  const std::string w = ", weights: {other: w}";
  v.push_back(single("layer_scale_c5", {{"x", odd}}, layer("mul", "x", w), {{"w", {5, 1, 1}}}));
  v.push_back(single("layer_scale_c16", {{"x", wide}}, layer("mul", "x", w), {{"w", {16, 1, 1}}}));
  v.push_back(single("bias_rank2_f10", {{"x", {3, 10}}}, layer("add", "x", w), {{"w", {10}}}));
  v.push_back(single("bias_rank3", {{"x", {3, 4, 6}}}, layer("sub", "x", w), {{"w", {4, 1}}}));
  v.push_back(single("pos_embed_sample_c5", {{"x", odd}},
                     layer("add", "x", ", attributes: {other_per: sample}" + w), {{"w", {5, 4, 4}}}));
  v.push_back(single("pos_embed_sample_c16", {{"x", wide}},
                     layer("sub", "x", ", attributes: {other_per: sample, reverse: true}" + w), {{"w", {16, 4, 4}}}));
  v.push_back(single("div_by_weight_c5", {{"x", odd}}, layer("div", "x", w), {{"w", {5, 1, 1}, 0.5f, 2.0f}}));
  v.push_back(Case{"weight_over_x_c16", {{"x", wide}}, {shifted("x"), layer("div", "d", ", attributes: {reverse: true}" + w)},
                   {{"w", {16, 1, 1}}}, "l", false});

  // Half pads after a division stay finite: a convolution reading them would turn NaN into NaN.
  for (const std::int64_t c : {5, 16}) {
    v.push_back(Case{"div_then_conv_c" + std::to_string(c), {{"x", {3, c, 4, 4}}, {"y", {3, c, 4, 4}}},
                     {shifted("y"), layer("div", "x, d", {}, "q"),
                      "{name: l, op: conv2d, inputs: [q], attributes: {out_channels: 4, kernel_size: 1}, "
                      "weights: {weight: cw}}"},
                     {{"cw", {4, c, 1, 1}}}, "l", false});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Elementwise, GpuLayerTest, ::testing::ValuesIn(elementwise_cases()), case_label);

OpDeclaration declared_last(const Graph& graph, Precision p) {
  const Layer& l = *graph.layers().back();
  return gpu_op_kind(l).declare(l, p);
}

// Host side: the output overwrites input 0 only when it has input 0's shape; the weight is float32
// in its own order at every precision.
TEST(ElementwiseDeclarations, InPlaceOnlyOverAnInputOfTheOutputShape) {
  const Case gate = two("g", "mul", {2, 5, 3, 3}, {2, 5, 1, 1});
  const Case first = two("f", "mul", {2, 5, 1, 1}, {2, 5, 3, 3});
  const Case both = two("b", "add", {2, 5, 3, 1}, {2, 1, 1, 3});
  const Case scale = single("s", {{"x", {2, 5, 3, 3}}}, layer("mul", "x", ", weights: {other: w}"), {{"w", {5, 1, 1}}});
  for (const Precision p : {Precision::Fp32, Precision::Tf32, Precision::Fp16}) {
    for (const Case* c : {&gate, &first, &both, &scale}) {
      SCOPED_TRACE(c->label);
      const TestModel model(c->inputs, c->layers, {c->output}, c->weights);
      const Graph graph = load_graph(model.dir());
      const OpDeclaration d = declared_last(graph, p);
      const bool in_place = c == &gate || c == &scale;
      EXPECT_EQ(d.output, in_place ? OutputStorage::MayOverwriteInput : OutputStorage::Own);
      EXPECT_EQ(graph.layers().back()->can_run_in_place(), in_place);
      EXPECT_EQ(d.epilogue_kind, kNoEpilogue);
      if (c != &scale) {
        EXPECT_TRUE(d.weights.empty());
        continue;
      }
      ASSERT_EQ(d.weights.size(), 1u);
      EXPECT_EQ(d.weights[0].tensor->name, "w");
      EXPECT_EQ(d.weights[0].form, WeightForm::F32);
    }
  }
}

}  // namespace
}  // namespace kiln::gpu::test
