// Properties every kind must have: running a smaller batch than the built one gives the prefix of
// the full run, and a layer that claims can_run_in_place gives the same result in place.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "base/errors.h"

#include "layers/registry.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

struct KindCase {
  std::string op;
  std::vector<Shape> inputs;  // at batch 3
  std::function<void(LayerCase&, std::mt19937&)> setup;
};

std::vector<KindCase> kind_cases() {
  auto none = [](LayerCase&, std::mt19937&) {};
  return {
      {"conv2d", {{3, 4, 7, 6}},
       [](LayerCase& c, std::mt19937& r) {
         c.attr("out_channels", 6).attr("kernel_size", 3).attr("padding", 1).attr("groups", 2);
         c.weight("weight", {6, 2, 3, 3}, random_floats(108, r)).weight("bias", {6}, random_floats(6, r));
       }},
      {"conv_transpose2d", {{3, 4, 5, 5}},
       [](LayerCase& c, std::mt19937& r) {
         c.attr("out_channels", 3).attr("kernel_size", 3).attr("stride", 2).attr("output_padding", 1);
         c.weight("weight", {4, 3, 3, 3}, random_floats(108, r));
       }},
      {"batch_norm", {{3, 5, 4, 3}},
       [](LayerCase& c, std::mt19937& r) {
         c.weight("scale", {5}, random_floats(5, r)).weight("shift", {5}, random_floats(5, r));
       }},
      {"relu", {{3, 5, 2, 2}}, none},
      {"leaky_relu", {{3, 7}}, none},
      {"sigmoid", {{3, 2, 3, 3}}, none},
      {"tanh", {{3, 11}}, none},
      {"elu", {{3, 2, 5}}, none},
      {"relu6", {{3, 4, 2, 2}}, none},
      {"hardtanh", {{3, 6}}, [](LayerCase& c, std::mt19937&) { c.attr("min_val", -0.5).attr("max_val", 2.0); }},
      {"hardswish", {{3, 3, 2, 3}}, none},
      {"hardsigmoid", {{3, 5}}, none},
      {"silu", {{3, 2, 3, 3}}, none},
      {"gelu", {{3, 7}}, [](LayerCase& c, std::mt19937&) { c.attr("approximate", "tanh"); }},
      {"softplus", {{3, 2, 4}}, [](LayerCase& c, std::mt19937&) { c.attr("beta", 2.0).attr("threshold", 1.0); }},
      {"mish", {{3, 3, 2, 2}}, none},
      {"prelu", {{3, 4, 2, 3}},
       [](LayerCase& c, std::mt19937& r) { c.attr("num_parameters", 4).weight("weight", {4}, random_floats(4, r)); }},
      {"max_pool2d", {{3, 3, 7, 7}}, [](LayerCase& c, std::mt19937&) { c.attr("kernel_size", 3).attr("padding", 1); }},
      {"avg_pool2d", {{3, 3, 7, 7}},
       [](LayerCase& c, std::mt19937&) { c.attr("kernel_size", 2).attr("stride", 1).attr("padding", 1); }},
      {"global_avg_pool2d", {{3, 3, 5, 4}}, none},
      {"global_max_pool2d", {{3, 3, 5, 4}}, none},
      {"adaptive_avg_pool2d", {{3, 3, 5, 4}}, [](LayerCase& c, std::mt19937&) { c.attr("output_size", 3); }},
      {"adaptive_max_pool2d", {{3, 3, 5, 4}},
       [](LayerCase& c, std::mt19937&) { c.attr("output_size", std::vector<std::int64_t>{7, 2}); }},
      {"linear", {{3, 9}},
       [](LayerCase& c, std::mt19937& r) {
         c.attr("out_features", 5).weight("weight", {5, 9}, random_floats(45, r)).weight("bias", {5}, random_floats(5, r));
       }},
      {"flatten", {{3, 2, 3, 4}}, none},
      {"lrn", {{3, 6, 3, 3}}, [](LayerCase& c, std::mt19937&) { c.attr("size", 3).attr("alpha", 0.1); }},
      {"softmax", {{3, 5, 2, 3}}, none},
      {"softmax", {{3, 10}}, none},
      {"add", {{3, 4, 2, 2}, {3, 4, 2, 2}, {3, 4, 2, 2}}, none},
      {"sub", {{3, 4, 2, 2}, {3, 4, 1, 1}}, none},
      {"mul", {{3, 4, 2, 3}}, [](LayerCase& c, std::mt19937& r) { c.weight("other", {4, 1, 1}, random_floats(4, r)); }},
      {"div", {{3, 5}}, [](LayerCase& c, std::mt19937&) { c.attr("scalar", 0.5).attr("reverse", true); }},
      {"concat", {{3, 2, 3, 3}, {3, 5, 3, 3}}, none},
      {"upsample_nearest", {{3, 2, 3, 2}}, none},
      {"upsample_bilinear", {{3, 2, 3, 2}},
       [](LayerCase& c, std::mt19937&) { c.attr("size", std::vector<std::int64_t>{5, 3}); }},
      {"channel_slice", {{3, 7, 2, 3}}, [](LayerCase& c, std::mt19937&) { c.attr("start", 2).attr("end", 6); }},
      {"channel_shuffle", {{3, 6, 2, 2}}, [](LayerCase& c, std::mt19937&) { c.attr("groups", 3); }},
      {"layer_norm", {{3, 5, 2, 3}},
       [](LayerCase& c, std::mt19937& r) {
         c.attr("eps", 1e-6).weight("weight", {5}, random_floats(5, r)).weight("bias", {5}, random_floats(5, r));
       }},
  };
}

TEST(EveryKind, IsCoveredHere) {
  std::vector<std::string> covered;
  for (const KindCase& k : kind_cases()) covered.push_back(k.op);
  for (const std::string& op : registered_ops())
    EXPECT_NE(std::find(covered.begin(), covered.end(), op), covered.end()) << op;
}

TEST(EveryKind, SmallerBatchGivesThePrefixOfTheFullRun) {
  std::mt19937 rng(5);
  for (const KindCase& k : kind_cases()) {
    SCOPED_TRACE(k.op);
    LayerCase c(k.op, k.inputs);
    k.setup(c, rng);
    auto layer = c.build();
    std::vector<std::vector<float>> inputs;
    for (const Shape& s : k.inputs) inputs.push_back(random_floats(static_cast<std::size_t>(count(s)), rng, -3, 3));
    const auto full = c.run(*layer, inputs);
    for (std::int64_t batch : {1, 2}) {
      const auto part = c.run(*layer, inputs, batch);
      ASSERT_EQ(part.size() * 3, full.size() * static_cast<std::size_t>(batch));
      EXPECT_TRUE(std::equal(part.begin(), part.end(), full.begin())) << "batch " << batch;
    }
    std::vector<float> out(full.size());
    CpuForwardArgs bad;
    bad.inputs.assign(k.inputs.size(), inputs[0].data());
    bad.output = out.data();
    bad.batch = 4;  // above the built batch of 3
    bad.weights = &c.weights;
    EXPECT_THROW(layer->forward_cpu(bad), UsageError);
  }
}

TEST(EveryKind, InPlaceEqualsOutOfPlace) {
  std::mt19937 rng(9);
  int in_place = 0;
  for (const KindCase& k : kind_cases()) {
    SCOPED_TRACE(k.op);
    LayerCase c(k.op, k.inputs);
    k.setup(c, rng);
    auto layer = c.build();
    if (!layer->can_run_in_place()) continue;
    ++in_place;
    ASSERT_EQ(layer->output_shape(), layer->is_view() ? layer->output_shape() : k.inputs[0]);
    std::vector<std::vector<float>> inputs;
    for (const Shape& s : k.inputs) inputs.push_back(random_floats(static_cast<std::size_t>(count(s)), rng, -3, 3));
    const auto expected = c.run(*layer, inputs, 2);
    CpuForwardArgs args;
    for (const auto& in : inputs) args.inputs.push_back(in.data());
    std::vector<float> buffer = inputs[0];
    args.inputs[0] = buffer.data();
    args.output = buffer.data();
    args.batch = 2;
    args.weights = &c.weights;
    layer->forward_cpu(args);
    buffer.resize(expected.size());
    EXPECT_EQ(buffer, expected);
  }
  EXPECT_GE(in_place, 10);  // activations, batch_norm, add, softmax, flatten
}

}  // namespace
}  // namespace kiln::test
