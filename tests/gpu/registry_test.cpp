// The op table (layers/op_table.h) seen from both registries, and the GPU ops' declarations, which the
// engine plans from: weight forms, output storage, epilogues. Host only: runs without a GPU.
#include <gmock/gmock.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "engine/model_dir.h"
#include "layers/registry.h"
#include "layers/registry_gpu.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

TEST(OpRegistry, EveryOpHasACpuAndAGpuImplementationOrSaysWhyNot) {
  std::set<std::string> covered;
  for (const std::string& op : gpu_ops()) covered.insert(op);
  for (const auto& [op, why] : cpu_only_ops()) {
    EXPECT_FALSE(why.empty()) << op << " is CPU-only without a reason";
    EXPECT_TRUE(covered.insert(op).second) << op << " is listed both as a GPU op and as CPU-only";
  }
  const std::vector<std::string> cpu = registered_ops();
  EXPECT_EQ(std::vector<std::string>(covered.begin(), covered.end()), cpu);
  EXPECT_GE(cpu.size(), 18u);
}

// Builds the graph of a one- or two-layer model (weights random) for declaring its ops.
struct Declared {
  Graph graph;
  std::vector<OpDeclaration> ops;
};

Declared declare_all(const TestModel& m, Precision p) {
  Declared d{load_graph(m.dir()), {}};
  for (const auto& layer : d.graph.layers()) d.ops.push_back(gpu_op_kind(*layer).declare(*layer, p));
  return d;
}

TEST(OpDeclarations, ConvolutionAcceptsAnActivationWhichDeclaresItselfAnEpilogue) {
  const TestModel m({{"x", {1, 3, 6, 6}}},
                    {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 4, kernel_size: 3}, "
                     "weights: {weight: w, bias: b}}",
                     "{name: a, op: relu, inputs: [c]}"},
                    {"a"}, {{"w", {4, 3, 3, 3}}, {"b", {4}}});
  const Declared fp32 = declare_all(m, Precision::Fp32);
  EXPECT_EQ(fp32.ops[0].accepts_epilogues & kActivationEpilogue, kActivationEpilogue);
  EXPECT_EQ(fp32.ops[0].epilogue_kind, kNoEpilogue);
  EXPECT_EQ(fp32.ops[1].epilogue_kind, kActivationEpilogue);
  EXPECT_EQ(fp32.ops[1].output, OutputStorage::MayOverwriteInput);
  // 3 -> 4 channels: cuDNN's forms, then the direct kernel's (Note [direct convolution]).
  ASSERT_EQ(fp32.ops[0].weights.size(), 4u);
  EXPECT_EQ(fp32.ops[0].weights[0].form, WeightForm::F32);
  EXPECT_EQ(fp32.ops[0].weights[0].tensor->name, "w");
  EXPECT_EQ(fp32.ops[0].weights[2].form, WeightForm::F32);
  EXPECT_EQ(fp32.ops[0].weights[3].tensor->name, "b");
  // Fp16: the filter KRSC half, the bias as half for the graph and as float for the epilogue kernel;
  // the direct kernel's float filter and padded float bias; the im2col GEMM's filter rows and half bias
  // (Note [stem convolution as im2col GEMM]).
  const Declared fp16 = declare_all(m, Precision::Fp16);
  ASSERT_EQ(fp16.ops[0].weights.size(), 7u);
  EXPECT_EQ(fp16.ops[0].weights[0].form, WeightForm::F16Filter);
  EXPECT_EQ(fp16.ops[0].weights[1].form, WeightForm::F16Padded);
  EXPECT_EQ(fp16.ops[0].weights[2].form, WeightForm::F32Padded);
  EXPECT_EQ(fp16.ops[0].weights[3].form, WeightForm::F32);
  EXPECT_EQ(fp16.ops[0].weights[4].form, WeightForm::F32Padded);
  EXPECT_EQ(fp16.ops[0].weights[5].form, WeightForm::F16Im2colRows);
  EXPECT_EQ(fp16.ops[0].weights[6].form, WeightForm::F16Padded);
  EXPECT_EQ(fp16.ops[0].weights[6].tensor->name, "b");
}

TEST(OpDeclarations, FlattenIsAViewUnlessFp16MustReorderNhwc) {
  const TestModel m({{"x", {2, 3, 4, 4}}}, {"{name: f, op: flatten, inputs: [x]}"}, {"f"}, {});
  EXPECT_EQ(declare_all(m, Precision::Fp32).ops[0].output, OutputStorage::ViewOfInput);
  EXPECT_EQ(declare_all(m, Precision::Fp16).ops[0].output, OutputStorage::Own);
  const TestModel pooled({{"x", {2, 16, 1, 1}}}, {"{name: f, op: flatten, inputs: [x]}"}, {"f"}, {});
  EXPECT_EQ(declare_all(pooled, Precision::Fp16).ops[0].output, OutputStorage::ViewOfInput);
}

TEST(OpDeclarations, WeightFormsFollowThePrecision) {
  const TestModel m({{"x", {2, 5, 3, 3}}},
                    {"{name: n, op: batch_norm, inputs: [x], weights: {scale: s, shift: t}}",
                     "{name: f, op: flatten, inputs: [n]}",
                     "{name: l, op: linear, inputs: [f], attributes: {out_features: 7}, weights: {weight: w, bias: b}}"},
                    {"l"}, {{"s", {5}}, {"t", {5}}, {"w", {7, 45}}, {"b", {7}}});
  const Declared fp32 = declare_all(m, Precision::Tf32);
  for (const OpDeclaration& d : fp32.ops)
    for (const WeightRequest& r : d.weights) EXPECT_EQ(r.form, WeightForm::F32) << r.tensor->name;
  const Declared fp16 = declare_all(m, Precision::Fp16);
  EXPECT_EQ(fp16.ops[0].weights.at(0).form, WeightForm::F32Padded);  // batch_norm: padded float vectors
  EXPECT_EQ(fp16.ops[0].output, OutputStorage::MayOverwriteInput);
  EXPECT_EQ(fp16.ops[2].weights.at(0).form, WeightForm::F16);  // linear: half, logical order
  EXPECT_EQ(fp16.ops[2].accepts_epilogues, kNoEpilogue);
}

TEST(ActivationView, StridesOfBothStoredLayouts) {
  int dummy = 0;
  const TensorView nchw = activation_view(&dummy, {2, 3, 5, 7}, Precision::Fp32);
  EXPECT_EQ(nchw.type, ElementType::F32);
  EXPECT_EQ(nchw.cs, 3);
  EXPECT_EQ(nchw.sw, 1);
  EXPECT_EQ(nchw.sh, 7);
  EXPECT_EQ(nchw.sc, 35);
  EXPECT_EQ(nchw.sn, 105);
  EXPECT_TRUE(nchw.packed());
  EXPECT_FALSE(nchw.channels_inner());
  const TensorView nhwc = activation_view(&dummy, {2, 3, 5, 7}, Precision::Fp16);
  EXPECT_EQ(nhwc.type, ElementType::F16);
  EXPECT_EQ(nhwc.c, 3);
  EXPECT_EQ(nhwc.cs, 8);
  EXPECT_EQ(nhwc.sc, 1);
  EXPECT_EQ(nhwc.sw, 8);
  EXPECT_EQ(nhwc.sh, 56);
  EXPECT_EQ(nhwc.sn, 280);
  EXPECT_EQ(nhwc.stored_elements(), static_cast<std::int64_t>(activation_bytes({2, 3, 5, 7}, Precision::Fp16) / 2));
  EXPECT_TRUE(nhwc.packed());
  // [N, F] and [N, C, 1, 1]: one position, so both orders coincide and the channels are innermost.
  const TensorView flat = activation_view(&dummy, {4, 37}, Precision::Fp16);
  EXPECT_EQ(flat.cs, 37);
  EXPECT_TRUE(flat.packed());
  EXPECT_TRUE(flat.channels_inner());
  EXPECT_TRUE(activation_view(&dummy, {4, 6, 1, 1}, Precision::Fp32).packed());
  // A channel slice keeps the strides and moves the pointer by whole channels.
  const TensorView slice = nhwc.channel_slice(2, 4);
  EXPECT_EQ(static_cast<char*>(slice.data) - reinterpret_cast<char*>(&dummy), 4);
  EXPECT_EQ(slice.c, 4);
  EXPECT_EQ(slice.sw, 8);
  const TensorView logical = logical_view(&dummy, {2, 3, 5, 7}, ElementType::F16);
  EXPECT_EQ(logical.sc, 35);
  EXPECT_EQ(logical.cs, 3);
}

}  // namespace
}  // namespace kiln::gpu::test
