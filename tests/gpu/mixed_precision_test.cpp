// Mixed precision (GpuEngineOptions::fp32_layers, Note [mixed precision] in engine/mixed_precision.h):
// fp16 engines with chosen layers in float32, against the CPU reference over a table of models and
// boundaries (a float stem feeding half blocks through skip links, a float block inside half ones, a
// float classifier, depthwise stems); every layer in float32 must be as exact as an fp32 engine; kept
// layer outputs, device runs, CUDA graphs and other input sizes see each tensor as it is stored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/cpu_executor.h"
#include "engine/gpu/engine.h"
#include "engine/model_dir.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using kiln::test::make_dynamic;
using kiln::test::make_unet_like;
using kiln::test::random_inputs_of;
using ::testing::HasSubstr;

std::string conv(const std::string& name, const std::string& in, std::int64_t out, std::int64_t k,
                 std::int64_t stride = 1, std::int64_t groups = 1) {
  return "{name: " + name + ", op: conv2d, inputs: [" + in + "], attributes: {out_channels: " + std::to_string(out) +
         ", kernel_size: " + std::to_string(k) + ", stride: " + std::to_string(stride) +
         ", padding: " + std::to_string(k / 2) + ", groups: " + std::to_string(groups) + "}, weights: {weight: " +
         name + ".w, bias: " + name + ".b}}";
}
void conv_w(std::vector<TestModel::Tensor>& w, const std::string& name, std::int64_t in, std::int64_t out,
            std::int64_t k, std::int64_t groups = 1) {
  w.push_back({name + ".w", {out, in / groups, k, k}, -0.3f, 0.3f});
  w.push_back({name + ".b", {out}, -0.2f, 0.2f});
}

struct Case {
  std::string label;
  Shape x;
  std::vector<std::string> layers;
  std::vector<TestModel::Tensor> weights;
  std::vector<std::string> outputs;
  std::string spec;
  int conversions;  // how many tensors the engine must convert
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

std::vector<Case> cases() {
  std::vector<Case> v;
  const std::vector<std::string> basic = {conv("c1", "x", 16, 3), "{name: r1, op: relu, inputs: [c1]}",
                                          conv("c2", "r1", 16, 3), "{name: add, op: add, inputs: [c2, x]}",
                                          "{name: r2, op: relu, inputs: [add]}"};
  std::vector<TestModel::Tensor> basic_w;
  conv_w(basic_w, "c1", 16, 16, 3);
  conv_w(basic_w, "c2", 16, 16, 3);
  // The stem in float32: c2 reads half copies of r1 and (as its folded residual) of x.
  v.push_back({"stem_then_residual_block", {3, 16, 12, 10}, basic, basic_w, {"r2"}, "c1", 2});
  // A float32 block between half layers: its input and residual are widened, its output narrowed by nobody
  // (it is the model output, which leaves as float32).
  v.push_back({"float_block_after_half_stem", {3, 16, 12, 10}, basic, basic_w, {"r2"}, "c2", 2});
  {  // MobileNet-like: a strided RGB stem, a depthwise 3x3, a pointwise projection, in float32 up to dw
    Case c{"mobilenet_stem_to_dw", {2, 3, 17, 15}, {}, {}, {"pw"}, "..dr", 1};
    c.layers = {conv("stem", "x", 16, 3, 2), "{name: sr, op: relu6, inputs: [stem]}", conv("dw", "sr", 16, 3, 1, 16),
                "{name: dr, op: relu6, inputs: [dw]}", conv("pw", "dr", 24, 1)};
    conv_w(c.weights, "stem", 3, 16, 3);
    conv_w(c.weights, "dw", 16, 16, 3, 16);
    conv_w(c.weights, "pw", 16, 24, 1);
    v.push_back(c);
  }
  {  // a half body and a float32 classifier: the pooled features are widened for flatten + linear
    Case c{"float_classifier", {3, 8, 9, 7}, {}, {}, {"fc"}, "flat,fc", 1};
    c.layers = {conv("c", "x", 24, 3), "{name: r, op: relu, inputs: [c]}",
                "{name: gap, op: adaptive_avg_pool2d, inputs: [r], attributes: {output_size: 1}}",
                "{name: flat, op: flatten, inputs: [gap]}",
                "{name: fc, op: linear, inputs: [flat], attributes: {out_features: 10}, weights: {weight: fc.w, bias: fc.b}}"};
    conv_w(c.weights, "c", 8, 24, 3);
    c.weights.push_back({"fc.w", {10, 24}, -0.3f, 0.3f});
    c.weights.push_back({"fc.b", {10}, -0.2f, 0.2f});
    v.push_back(c);
  }
  {  // a skip link from the float stem into a later half concat, and two outputs of either kind
    Case c{"skip_into_concat_two_outputs", {2, 8, 10, 12}, {}, {}, {"c1", "mix"}, "c1", 1};
    c.layers = {conv("c1", "x", 8, 3), conv("c2", "c1", 8, 3), conv("c3", "c2", 8, 1),
                "{name: cat, op: concat, inputs: [c3, c1]}", conv("mix", "cat", 4, 1)};
    conv_w(c.weights, "c1", 8, 8, 3);
    conv_w(c.weights, "c2", 8, 8, 3);
    conv_w(c.weights, "c3", 8, 8, 1);
    conv_w(c.weights, "mix", 16, 4, 1);
    v.push_back(c);
  }
  return v;
}

GpuEngineOptions mixed(const std::string& spec) {
  GpuEngineOptions o;
  o.precision = Precision::Fp16;
  o.fp32_layers = spec;
  return o;
}

class GpuMixedPrecision : public testing::TestWithParam<Case> {};

TEST_P(GpuMixedPrecision, MatchesTheCpuReference) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model({{"x", c.x}}, c.layers, c.outputs, c.weights);
  const GpuEngineOptions o = mixed(c.spec);
  expect_matches_cpu(model.dir(), o, c.x[0], {c.x[0], 1}, kFp16Tol);
  GraphBuildOptions g;
  g.max_batch = c.x[0];
  const auto engine = GpuEngine::load(model.dir(), o, g);
  EXPECT_EQ(static_cast<int>(engine->conversions().size()), c.conversions);
  EXPECT_GT(engine->fp32_layer_count(), 0);
  EXPECT_THAT(engine->device_description(), HasSubstr("layers fp32)"));
  std::string reports;
  for (const LayerReport& r : engine->layer_reports()) reports += r.name + ": " + r.implementation + "\n";
  EXPECT_THAT(reports, HasSubstr("[fp32]"));
  EXPECT_THAT(reports, HasSubstr("[converts "));
  const std::vector<bool> selected = select_layers(engine->graph(), c.spec);
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const Layer& layer = *engine->graph().layers()[i];
    if (selected[i] && layer.op() != "flatten") {  // a view runs as its input (the Note's rules)
      EXPECT_EQ(engine->layer_precision(static_cast<int>(i)), Precision::Fp32) << layer.name();
    }
  }
}

// Every layer in float32: the fp16 engine runs the fp32 engine's ops, as exact as fp32.
TEST_P(GpuMixedPrecision, EveryLayerInFloat32IsAsExactAsFp32) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model({{"x", c.x}}, c.layers, c.outputs, c.weights);
  const GpuEngineOptions o = mixed(std::to_string(c.layers.size()));
  expect_matches_cpu(model.dir(), o, c.x[0], {c.x[0]}, kFp32Tol);
  GraphBuildOptions g;
  g.max_batch = c.x[0];
  EXPECT_TRUE(GpuEngine::load(model.dir(), o, g)->conversions().empty());
}

// run_device and a CUDA graph replay give run()'s results bit for bit: the conversions are part of the work.
TEST_P(GpuMixedPrecision, DeviceRunsAndGraphsMatchRun) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model({{"x", c.x}}, c.layers, c.outputs, c.weights);
  GraphBuildOptions g;
  g.max_batch = c.x[0];
  ExecutionContext ctx(GpuEngine::load(model.dir(), mixed(c.spec), g));
  const std::vector<HostTensor> in = kiln::test::random_inputs(ctx.engine().graph(), c.x[0], 3);
  const RunResult host = ctx.run(in, c.x[0]);
  expect_run_device_matches_run(ctx, in, host, c.x[0]);
}

// Host side, in CI too: the table's models build and run on the CPU reference, and each spec selects layers.
TEST_P(GpuMixedPrecision, TheCaseIsAValidModelAndSpec) {
  const Case& c = GetParam();
  const TestModel model({{"x", c.x}}, c.layers, c.outputs, c.weights);
  GraphBuildOptions g;
  g.max_batch = c.x[0];
  const LoadedModel m = load_model(model.dir(), g);
  const RunResult r = CpuExecutor(m.graph, m.weights).run(kiln::test::random_inputs(m.graph, 1, 2), 1);
  EXPECT_EQ(r.outputs.size(), c.outputs.size());
  const std::vector<bool> selected = select_layers(m.graph, c.spec);
  EXPECT_NE(std::find(selected.begin(), selected.end(), true), selected.end());
}

INSTANTIATE_TEST_SUITE_P(Cases, GpuMixedPrecision, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& i) { return i.param.label; });

// Kept layer outputs are unpacked as each is stored: the float32 stem's equal an fp32 engine's, the half
// rest are within fp16's bound of the CPU reference.
TEST(GpuMixedPrecisionLayers, KeptOutputsAreReadAsStored) {
  KILN_REQUIRE_GPU();
  const auto model = make_unet_like({2, 2, 8, 12});
  GraphBuildOptions g;
  g.max_batch = 2;
  GpuEngineOptions o = mixed("..r1");
  o.keep_all_layer_outputs = true;
  GpuEngineOptions f32;
  f32.keep_all_layer_outputs = true;
  ExecutionContext ctx(GpuEngine::load(model->dir(), o, g));
  ExecutionContext ref(GpuEngine::load(model->dir(), f32, g));
  const std::vector<HostTensor> in = kiln::test::random_inputs(ctx.engine().graph(), 2, 5);
  RunOptions keep;
  keep.keep_layer_outputs = true;
  const RunResult got = ctx.run(in, 2, keep);
  const RunResult want = ref.run(in, 2, keep);
  ASSERT_EQ(got.layers.size(), want.layers.size());
  for (std::size_t i = 0; i < got.layers.size(); ++i) {
    const bool stem = ctx.engine().layer_precision(static_cast<int>(i)) == Precision::Fp32;
    EXPECT_LE(normalized_max_error(got.layers[i], want.layers[i]), stem ? 1e-6 : kFp16Tol)
        << got.layers[i].name << (stem ? " (float32)" : " (half)");
  }
  EXPECT_EQ(ctx.engine().layer_precision(0), Precision::Fp32);
  EXPECT_EQ(ctx.engine().layer_precision(static_cast<int>(got.layers.size()) - 1), Precision::Fp16);
}

// Another input size of a dynamic model builds its variant with the same precisions and copies.
TEST(GpuMixedPrecisionLayers, OtherInputSizesKeepThePlan) {
  KILN_REQUIRE_GPU();
  const auto model = make_unet_like({2, 2, 8, 12});
  make_dynamic(model->dir(), {2, 2}, {32, 32});
  GraphBuildOptions g;
  g.max_batch = 2;
  const LoadedModel cpu_model = load_model(model->dir(), g);
  const CpuExecutor cpu(cpu_model.graph, cpu_model.weights);
  ExecutionContext ctx(GpuEngine::load(model->dir(), mixed("c1"), g));
  EXPECT_FALSE(ctx.engine().conversions().empty());
  for (const Shape& s : {Shape{2, 2, 10, 14}, Shape{1, 2, 32, 32}, Shape{2, 2, 6, 4}}) {
    std::vector<HostTensor> in = random_inputs_of(cpu_model.graph, {s}, 8);
    for (HostTensor& t : in)
      for (float& v : t.data) v = half_to_float(float_to_half(v));
    const RunResult got = ctx.run(in, s[0]);
    EXPECT_LE(normalized_max_error(got.outputs[0], cpu.run(in, s[0]).outputs[0]), kFp16Tol) << shape_to_string(s);
  }
}

// The option is checked at load, naming the item or the precision.
TEST(GpuMixedPrecisionLayers, BadSpecsAreUsageErrors) {
  KILN_REQUIRE_GPU();
  const auto model = make_unet_like({1, 2, 8, 12});
  const auto message = [&](const GpuEngineOptions& o) {
    try {
      GpuEngine::load(model->dir(), o);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  EXPECT_THAT(message(mixed("c9")), HasSubstr("item 'c9'"));
  GpuEngineOptions tf32 = mixed("c1");
  tf32.precision = Precision::Tf32;
  EXPECT_THAT(message(tf32), HasSubstr("only an fp16 engine"));
}

}  // namespace
}  // namespace kiln::gpu::test
