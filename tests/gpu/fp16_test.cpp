// Precision::Fp16: the layout helpers (host only, run anywhere), and on a GPU a network with skip links
// (add and concat), upsampling, LRN, softmax and a flatten + linear head against the CPU reference:
// outputs, every kept layer output, run_device, an f16 weight blob, and batches below the max.
#include <gmock/gmock.h>

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/cpu_executor.h"
#include "engine/gpu/layout.h"
#include "engine/model_dir.h"
#include "formats/dtype.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

TEST(Fp16Layout, PadsChannelsOfRank4TensorsOnly) {
  EXPECT_EQ(stored_channels({2, 3, 5, 7}, Precision::Fp16), 8);
  EXPECT_EQ(stored_channels({2, 16, 5, 7}, Precision::Fp16), 16);
  EXPECT_EQ(stored_channels({2, 3, 5, 7}, Precision::Fp32), 3);
  EXPECT_EQ(stored_channels({2, 37}, Precision::Fp16), 37);
  EXPECT_EQ(activation_bytes({2, 3, 5, 7}, Precision::Fp16), 2u * 5 * 7 * 8 * 2);
  EXPECT_EQ(activation_bytes({2, 3, 5, 7}, Precision::Fp32), 2u * 3 * 5 * 7 * 4);
  EXPECT_EQ(activation_bytes({2, 37}, Precision::Fp16), 2u * 37 * 2);
  const StoredDims d = stored_dims({2, 3, 5, 7}, Precision::Fp16);
  EXPECT_EQ(d.n, 2);
  EXPECT_EQ(d.c, 3);
  EXPECT_EQ(d.hw, 35);
  EXPECT_EQ(d.cs, 8);
  EXPECT_TRUE(fp16_flatten_is_view({2, 16, 1, 1}));
  EXPECT_FALSE(fp16_flatten_is_view({2, 12, 1, 1}));  // padded channels must be dropped
  EXPECT_FALSE(fp16_flatten_is_view({2, 16, 2, 1}));  // NHWC order differs from NCHW
  EXPECT_TRUE(fp16_flatten_is_view({2, 37}));
}

// Values k*256 + c*16 + r*4 + s (exact in half for these sizes), so every element says where it came from.
std::vector<float> labelled(const Shape& s) {
  std::vector<float> v;
  for (std::int64_t k = 0; k < s[0]; ++k)
    for (std::int64_t c = 0; c < s[1]; ++c)
      for (std::int64_t r = 0; r < s[2]; ++r)
        for (std::int64_t x = 0; x < s[3]; ++x) v.push_back(static_cast<float>(k * 256 + c * 16 + r * 4 + x));
  return v;
}

TEST(Fp16Layout, FilterBecomesKrscWithZeroPaddedChannels) {
  const Shape src{5, 3, 2, 2};
  const FilterLayout f = fp16_filter_layout(src, 1);
  EXPECT_TRUE(f.dense);
  EXPECT_EQ(f.k, 8);
  EXPECT_EQ(f.c, 8);
  std::vector<std::uint16_t> dst(f.bytes() / 2, 0xffff);
  pack_fp16_filter(labelled(src).data(), src, 1, dst.data());
  auto at = [&](std::int64_t k, std::int64_t r, std::int64_t s, std::int64_t c) {
    return half_to_float(dst[static_cast<std::size_t>(((k * f.r + r) * f.s + s) * f.c + c)]);
  };
  EXPECT_EQ(at(4, 1, 0, 2), 1060.0f);
  EXPECT_EQ(at(0, 0, 1, 1), 17.0f);
  EXPECT_EQ(at(4, 1, 1, 3), 0.0f);  // padded input channel
  EXPECT_EQ(at(6, 0, 0, 0), 0.0f);  // padded output channel
}

TEST(Fp16Layout, UnalignedGroupedFilterBecomesBlockDiagonal) {
  const Shape src{4, 3, 1, 1};  // groups 2: outputs 0-1 read inputs 0-2, outputs 2-3 read inputs 3-5
  const FilterLayout f = fp16_filter_layout(src, 2);
  EXPECT_TRUE(f.dense);
  EXPECT_EQ(f.k, 8);
  EXPECT_EQ(f.c, 8);
  std::vector<std::uint16_t> dst(f.bytes() / 2);
  pack_fp16_filter(labelled(src).data(), src, 2, dst.data());
  auto at = [&](std::int64_t k, std::int64_t c) { return half_to_float(dst[static_cast<std::size_t>(k * f.c + c)]); };
  EXPECT_EQ(at(1, 2), 288.0f);
  EXPECT_EQ(at(1, 3), 0.0f);
  EXPECT_EQ(at(2, 3), 512.0f);
  EXPECT_EQ(at(3, 5), 800.0f);
  EXPECT_EQ(at(2, 0), 0.0f);
  // Aligned groups keep cuDNN's grouped layout [K][R][S][C/groups].
  const FilterLayout g = fp16_filter_layout({32, 1, 3, 3}, 32);
  EXPECT_FALSE(g.dense);
  EXPECT_EQ(g.k, 32);
  EXPECT_EQ(g.c, 1);
}

TEST(Fp16Layout, UnpacksNhwcToNchwOnTheHost) {
  const Shape s{1, 3, 1, 2};  // stored [1][1][2][8]
  std::vector<std::uint16_t> stored(16, float_to_half(9.0f));
  for (int w = 0; w < 2; ++w)
    for (int c = 0; c < 3; ++c) stored[static_cast<std::size_t>(w * 8 + c)] = float_to_half(static_cast<float>(c * 10 + w));
  const std::vector<float> v = unpack_activation(reinterpret_cast<const std::byte*>(stored.data()), s, Precision::Fp16);
  EXPECT_EQ(v, (std::vector<float>{0, 1, 10, 11, 20, 21}));
}

// conv+relu -> conv -> add (skip) -> maxpool -> conv (3 channels: padded) -> concat with the pool ->
// batch_norm -> lrn -> upsample -> deconv+sigmoid -> avgpool -> flatten (2x2: a reorder) -> linear -> softmax.
std::unique_ptr<TestModel> skip_net(DType dtype = DType::F32) {
  return std::make_unique<TestModel>(
      std::vector<std::pair<std::string, Shape>>{{"x", {3, 3, 16, 16}}},
      std::vector<std::string>{
          "{name: c1, op: conv2d, inputs: [x], attributes: {out_channels: 8, kernel_size: 3, padding: 1}, "
          "weights: {weight: c1.w, bias: c1.b}}",
          "{name: r1, op: relu, inputs: [c1]}",
          "{name: c2, op: conv2d, inputs: [r1], attributes: {out_channels: 8, kernel_size: 3, padding: 1}, "
          "weights: {weight: c2.w, bias: c2.b}}",
          "{name: s, op: add, inputs: [c2, r1]}",
          "{name: p, op: max_pool2d, inputs: [s], attributes: {kernel_size: 2}}",
          "{name: c3, op: conv2d, inputs: [p], attributes: {out_channels: 3, kernel_size: 1}, "
          "weights: {weight: c3.w, bias: c3.b}}",
          "{name: cat, op: concat, inputs: [p, c3]}",
          "{name: bn, op: batch_norm, inputs: [cat], weights: {scale: bn.s, shift: bn.t}}",
          "{name: n, op: lrn, inputs: [bn], attributes: {size: 3}}",
          "{name: up, op: upsample_nearest, inputs: [n]}",
          "{name: d, op: conv_transpose2d, inputs: [up], attributes: {out_channels: 6, kernel_size: 2, stride: 2}, "
          "weights: {weight: d.w, bias: d.b}}",
          "{name: ds, op: sigmoid, inputs: [d]}",
          "{name: ap, op: avg_pool2d, inputs: [ds], attributes: {kernel_size: 16}}",
          "{name: f, op: flatten, inputs: [ap]}",
          "{name: fc, op: linear, inputs: [f], attributes: {out_features: 10}, weights: {weight: fc.w, bias: fc.b}}",
          "{name: sm, op: softmax, inputs: [fc]}"},
      std::vector<std::string>{"sm", "c3"},
      std::vector<TestModel::Tensor>{{"c1.w", {8, 3, 3, 3}},
                                     {"c1.b", {8}},
                                     {"c2.w", {8, 8, 3, 3}},
                                     {"c2.b", {8}},
                                     {"c3.w", {3, 8, 1, 1}},
                                     {"c3.b", {3}},
                                     {"bn.s", {11}, 0.5f, 1.5f},
                                     {"bn.t", {11}},
                                     {"d.w", {11, 6, 2, 2}},
                                     {"d.b", {6}},
                                     {"fc.w", {10, 24}, -2.0f, 2.0f},
                                     {"fc.b", {10}}},
      1, dtype);
}

// Runs anywhere: the network is valid and the CPU reference runs it (so a GPU failure below is the GPU's).
TEST(Fp16Layout, SkipNetIsValidForTheCpuReference) {
  const auto net = skip_net();
  GraphBuildOptions g;
  g.max_batch = 3;
  const LoadedModel m = load_model(net->dir(), g);
  const CpuExecutor cpu(m.graph, m.weights);
  const RunResult r = cpu.run(random_inputs(m.graph, 2, 1), 2);
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_EQ(r.outputs[0].shape, (Shape{2, 10}));
  EXPECT_EQ(r.outputs[1].shape, (Shape{2, 3, 8, 8}));
}

GpuEngineOptions fp16_options() {
  GpuEngineOptions o;
  o.precision = Precision::Fp16;
  return o;
}

TEST(GpuFp16, SkipNetMatchesCpuAtEveryBatch) {
  KILN_REQUIRE_GPU();
  const auto net = skip_net();
  expect_matches_cpu(net->dir(), fp16_options(), 3, {3, 1, 2}, kFp16Tol);
  GpuEngineOptions unfused = fp16_options();
  unfused.fuse = false;
  expect_matches_cpu(net->dir(), unfused, 3, {2}, kFp16Tol);
}

TEST(GpuFp16, F16BlobMatchesCpu) {
  KILN_REQUIRE_GPU();
  const auto net = skip_net(DType::F16);
  expect_matches_cpu(net->dir(), fp16_options(), 3, {3, 2}, kFp16Tol);
}

TEST(GpuFp16, KeptLayerOutputsAreFloatNchw) {
  KILN_REQUIRE_GPU();
  const auto net = skip_net();
  GpuEngineOptions options = fp16_options();
  options.keep_all_layer_outputs = true;
  GraphBuildOptions g;
  g.max_batch = 3;
  auto engine = GpuEngine::load(net->dir(), options, g);
  const LoadedModel cpu_model = load_model(net->dir(), g);
  const CpuExecutor cpu(cpu_model.graph, cpu_model.weights);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 2, 11);
  ExecutionContext ctx(engine);
  const RunResult got = ctx.run(in, 2, RunOptions{true});
  const RunResult want = cpu.run(in, 2, RunOptions{true});
  ASSERT_EQ(got.layers.size(), want.layers.size());
  for (std::size_t i = 0; i < got.layers.size(); ++i) {
    EXPECT_EQ(got.layers[i].shape, want.layers[i].shape) << want.layers[i].name;
    EXPECT_LE(normalized_max_error(got.layers[i], want.layers[i]), kFp16Tol) << "layer " << want.layers[i].name;
  }
}

TEST(GpuFp16, RunDeviceTakesAndGivesFloat) {
  KILN_REQUIRE_GPU();
  const auto net = skip_net();
  GraphBuildOptions g;
  g.max_batch = 3;
  auto engine = GpuEngine::load(net->dir(), fp16_options(), g);
  EXPECT_THAT(engine->device_description(), HasSubstr("fp16"));
  ExecutionContext ctx(engine);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 3, 5);
  const RunResult host = ctx.run(in, 3);
  expect_run_device_matches_run(ctx, in, host, 3);
}

}  // namespace
}  // namespace kiln::gpu::test
