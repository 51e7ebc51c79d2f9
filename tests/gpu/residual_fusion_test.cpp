// Residual adds folded into the convolution before them (GpuEngineOptions::fuse_residual, engine/fusion.h):
// against the CPU reference over a table of blocks, every path a convolution can take (cuDNN's graph with
// the add in it or after it, kiln's direct and depthwise kernels followed by the sum kernel), in fp32,
// tf32 and fp16, at the max batch and a smaller one; and the layer reports say what ran where.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/gpu/engine.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {
namespace {

struct Block {
  std::string label;
  Shape x;
  std::vector<std::string> layers;
  std::vector<TestModel::Tensor> weights;
  std::string output;
  std::string conv;  // the layer the add must fold into
  std::string add;
  std::string act;   // the activation after the add ("" when none)
};

void PrintTo(const Block& b, std::ostream* os) { *os << b.label; }

std::string conv_yaml(const std::string& name, const std::string& in, std::int64_t out, std::int64_t k,
                      std::int64_t groups, bool bias) {
  return "{name: " + name + ", op: conv2d, inputs: [" + in + "], attributes: {out_channels: " + std::to_string(out) +
         ", kernel_size: " + std::to_string(k) + ", padding: " + std::to_string(k / 2) +
         ", groups: " + std::to_string(groups) + "}, weights: {weight: " + name + ".w" +
         (bias ? ", bias: " + name + ".b}}" : "}}");
}
void conv_weights(Block& b, const std::string& name, std::int64_t in, std::int64_t out, std::int64_t k,
                  std::int64_t groups, bool bias) {
  b.weights.push_back({name + ".w", {out, in / groups, k, k}, -0.3f, 0.3f});
  if (bias) b.weights.push_back({name + ".b", {out}, -0.5f, 0.5f});
}

std::vector<Block> blocks() {
  std::vector<Block> v;
  {  // ResNet's basic block: conv+relu, conv, + x, relu
    Block b{"basic_c16", {3, 16, 12, 10}, {}, {}, "r2", "c2", "add", "r2"};
    b.layers = {conv_yaml("c1", "x", 16, 3, 1, true), "{name: r1, op: relu, inputs: [c1]}",
                conv_yaml("c2", "r1", 16, 3, 1, true), "{name: add, op: add, inputs: [c2, x]}",
                "{name: r2, op: relu, inputs: [add]}"};
    conv_weights(b, "c1", 16, 16, 3, 1, true);
    conv_weights(b, "c2", 16, 16, 3, 1, true);
    v.push_back(b);
  }
  {  // torchvision's bottleneck order: the downsample is traced after the last conv, so the add goes there
    Block b{"downsample_order_c24", {3, 24, 9, 11}, {}, {}, "r", "down", "add", "r"};
    b.layers = {conv_yaml("c3", "x", 32, 1, 1, true), conv_yaml("down", "x", 32, 1, 1, true),
                "{name: add, op: add, inputs: [c3, down]}", "{name: r, op: relu, inputs: [add]}"};
    conv_weights(b, "c3", 24, 32, 1, 1, true);
    conv_weights(b, "down", 24, 32, 1, 1, true);
    v.push_back(b);
  }
  {  // MobileNet-V2's inverted residual: a 1x1 projection without bias, + x, no activation
    Block b{"project_nobias_noact_c32", {3, 32, 7, 9}, {}, {}, "add", "p", "add", ""};
    b.layers = {conv_yaml("p", "x", 32, 1, 1, false), "{name: add, op: add, inputs: [x, p]}"};
    conv_weights(b, "p", 32, 32, 1, 1, false);
    v.push_back(b);
  }
  {  // few output channels: kiln's direct kernel, then the sum kernel
    Block b{"direct_c4_relu", {3, 4, 13, 11}, {}, {}, "r", "c", "add", "r"};
    b.layers = {conv_yaml("c", "x", 4, 3, 1, true), "{name: add, op: add, inputs: [c, x]}",
                "{name: r, op: relu, inputs: [add]}"};
    conv_weights(b, "c", 4, 4, 3, 1, true);
    v.push_back(b);
  }
  {  // depthwise (kiln's kernel in fp16, cuDNN's graph in fp32), + x, relu
    Block b{"depthwise_c24_relu", {3, 24, 10, 8}, {}, {}, "r", "dw", "add", "r"};
    b.layers = {conv_yaml("dw", "x", 24, 3, 24, true), "{name: add, op: add, inputs: [dw, x]}",
                "{name: r, op: relu, inputs: [add]}"};
    conv_weights(b, "dw", 24, 24, 3, 24, true);
    v.push_back(b);
  }
  return v;
}

class GpuResidualFusion : public ::testing::TestWithParam<Block> {};

const LayerReport& report(const GpuEngine& engine, const std::string& name) {
  for (const LayerReport& r : engine.layer_reports()) {
    if (r.name == name) return r;
  }
  throw UsageError("no layer report for " + name);
}

TEST_P(GpuResidualFusion, MatchesTheCpuReferenceWithTheAddFolded) {
  KILN_REQUIRE_GPU();
  const Block& b = GetParam();
  const TestModel model({{"x", b.x}}, b.layers, {b.output}, b.weights, 7);
  for (const Precision p : {Precision::Fp32, Precision::Tf32, Precision::Fp16}) {
    SCOPED_TRACE(std::string(precision_name(p)));
    GpuEngineOptions options;
    options.precision = p;
    options.fuse_residual = true;
    options.plan_cache.clear();
    const auto engine = GpuEngine::load(model.dir(), options);
    EXPECT_EQ(report(*engine, b.add).implementation, "fused into " + b.conv);
    if (!b.act.empty()) {
      EXPECT_EQ(report(*engine, b.act).implementation, "fused into " + b.conv);
    }
    const std::string impl = report(*engine, b.conv).implementation;
    EXPECT_TRUE(impl.find("add") != std::string::npos) << impl;
    const double tol = p == Precision::Fp32 ? kFp32Tol : p == Precision::Tf32 ? kTf32Tol : kFp16Tol;
    const double err = expect_matches_cpu(model.dir(), options, b.x[0], {b.x[0], 1}, tol);
    RecordProperty(std::string("max_error_") + precision_name(p), std::to_string(err));
    // The same block unfused gives the same values within the precision's tolerance.
    options.fuse_residual = false;
    const auto unfused = GpuEngine::load(model.dir(), options);
    EXPECT_NE(report(*unfused, b.add).implementation.rfind("fused into", 0), 0u);
    expect_matches_cpu(model.dir(), options, b.x[0], {b.x[0]}, tol);
  }
}

std::string block_label(const ::testing::TestParamInfo<Block>& info) { return info.param.label; }

INSTANTIATE_TEST_SUITE_P(Blocks, GpuResidualFusion, ::testing::ValuesIn(blocks()), block_label);

}  // namespace
}  // namespace kiln::gpu::test
