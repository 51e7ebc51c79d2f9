// Transposed convolutions with kernel = stride as GEMM + scatter (Note [deconvolution as GEMM]):
// which layers take the path and how the batch is chunked (host-side, everywhere), and on the GPU every
// form against the CPU reference: fp32/tf32 NCHW and fp16 NHWC with padded channels, odd channel counts,
// asymmetric kernels, no bias, folded activations, and batches split into chunks by a small workspace cap.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "engine/gpu/engine.h"
#include "layers/conv/deconv_gemm_gpu.h"
#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

ConvParams up(Pair kernel, Pair stride) {
  ConvParams p;
  p.transposed = true;
  p.in_channels = 8;
  p.out_channels = 4;
  p.kernel = kernel;
  p.stride = stride;
  return p;
}

TEST(DeconvGemmPlan, TakesExactlyTheNonOverlappingTransposedConvolutions) {
  const Shape y{32, 4, 64, 64};
  EXPECT_TRUE(plan_deconv_gemm(up({2, 2}, {2, 2}), y, Precision::Fp32, 32, 256u << 20).eligible);
  EXPECT_TRUE(plan_deconv_gemm(up({2, 3}, {2, 3}), y, Precision::Fp16, 32, 256u << 20).eligible);
  EXPECT_TRUE(plan_deconv_gemm(up({1, 1}, {1, 1}), y, Precision::Tf32, 32, 256u << 20).eligible);
  ConvParams forward = up({2, 2}, {2, 2});
  forward.transposed = false;
  EXPECT_THAT(plan_deconv_gemm(forward, y, Precision::Fp32, 32, 256u << 20).why_not, HasSubstr("not a transposed"));
  EXPECT_THAT(plan_deconv_gemm(up({3, 3}, {2, 2}), y, Precision::Fp32, 32, 256u << 20).why_not, HasSubstr("kernel"));
  ConvParams padded = up({2, 2}, {2, 2});
  padded.padding = {1, 1};
  EXPECT_FALSE(plan_deconv_gemm(padded, y, Precision::Fp32, 32, 256u << 20).eligible);
  ConvParams outpad = up({2, 2}, {2, 2});
  outpad.output_padding = {1, 0};
  EXPECT_FALSE(plan_deconv_gemm(outpad, y, Precision::Fp32, 32, 256u << 20).eligible);
  ConvParams grouped = up({2, 2}, {2, 2});
  grouped.groups = 2;
  EXPECT_THAT(plan_deconv_gemm(grouped, y, Precision::Fp32, 32, 256u << 20).why_not, HasSubstr("grouped"));
}

TEST(DeconvGemmPlan, ChunksTheBatchSoTheProductFitsTheWorkspace) {
  // fp32 [4, 64, 64] per image: 64 KiB of product; fp16 stores 8 channels: also 64 KiB.
  const Shape y{32, 4, 64, 64};
  const DeconvGemmPlan all = plan_deconv_gemm(up({2, 2}, {2, 2}), y, Precision::Fp32, 32, 256u << 20);
  EXPECT_EQ(all.product_bytes, 64u << 10);
  EXPECT_EQ(all.chunk, 32);
  EXPECT_LE(all.workspace_bytes(), 256u << 20);
  const DeconvGemmPlan half = plan_deconv_gemm(up({2, 2}, {2, 2}), y, Precision::Fp16, 32, 256u << 20);
  EXPECT_EQ(half.product_bytes, 64u << 10);
  // A 1 MiB cap: 128 KiB go to cuBLASLt, 14 images' products fit in the rest.
  const DeconvGemmPlan small = plan_deconv_gemm(up({2, 2}, {2, 2}), y, Precision::Fp32, 32, 1u << 20);
  EXPECT_TRUE(small.eligible);
  EXPECT_EQ(small.matmul_workspace, 128u << 10);
  EXPECT_EQ(small.chunk, 14);
  EXPECT_LE(small.workspace_bytes(), 1u << 20);
  // A large output: chunks stay near the product target, not the whole cap.
  const DeconvGemmPlan big = plan_deconv_gemm(up({2, 2}, {2, 2}), Shape{32, 16, 512, 512}, Precision::Fp32, 32, 256u << 20);
  EXPECT_EQ(big.product_bytes, 16u << 20);
  EXPECT_EQ(big.chunk, 4);
  // One image larger than the cap: not eligible (cuDNN's data gradient runs it).
  const DeconvGemmPlan none = plan_deconv_gemm(up({2, 2}, {2, 2}), Shape{1, 16, 512, 512}, Precision::Fp32, 1, 8u << 20);
  EXPECT_FALSE(none.eligible);
  EXPECT_THAT(none.why_not, HasSubstr("exceeds the workspace cap"));
}

// One transposed convolution `u` (weights uniform in ±1/2, bias in ±1) and, optionally, an activation.
Case deconv(const std::string& label, const Shape& x, std::int64_t out, Pair k, bool bias, const std::string& act) {
  Case c;
  c.label = label;
  c.inputs = {{"x", x}};
  c.layers = {"{name: u, op: conv_transpose2d, inputs: [x], attributes: {out_channels: " + std::to_string(out) +
              ", kernel_size: " + dims({k[0], k[1]}) + ", stride: " + dims({k[0], k[1]}) + "}, weights: {weight: u.w" +
              (bias ? ", bias: u.b}}" : "}}")};
  c.weights = {{"u.w", {x[1], out, k[0], k[1]}, -0.5f, 0.5f}};
  if (bias) c.weights.push_back({"u.b", {out}, -1.0f, 1.0f});
  c.output = "u";
  if (!act.empty()) {
    c.layers.push_back("{name: a, op: " + act + ", inputs: [u]}");
    c.output = "a";
  }
  c.tf32_too = true;
  return c;
}

std::vector<Case> deconv_gemm_cases() {
  return {deconv("gemm_k2_5to3", {3, 5, 4, 6}, 3, {2, 2}, true, ""),
          deconv("gemm_k2_16to16_relu", {3, 16, 5, 5}, 16, {2, 2}, true, "relu"),
          deconv("gemm_k2_nobias_silu", {3, 8, 3, 7}, 6, {2, 2}, false, "silu"),
          deconv("gemm_k3_sigmoid", {3, 4, 3, 3}, 5, {3, 3}, true, "sigmoid"),
          deconv("gemm_k2x3_asymmetric", {3, 6, 4, 3}, 7, {2, 3}, true, "leaky_relu"),
          deconv("gemm_k1_pointwise", {3, 9, 5, 4}, 10, {1, 1}, true, ""),
          deconv("gemm_from_1x1", {3, 24, 1, 1}, 8, {4, 4}, true, "tanh"),
          deconv("gemm_k2_32to16_wide", {3, 32, 16, 16}, 16, {2, 2}, true, "relu")};
}

// Default options: the GEMM in fp32 and tf32, the data gradient in fp16 (DeconvAlgo::Auto).
INSTANTIATE_TEST_SUITE_P(DeconvGemm, GpuLayerTest, ::testing::ValuesIn(deconv_gemm_cases()), case_label);

// The same rows with the GEMM forced in fp16, plus inputs whose images are not 16-byte multiples (5 x 3 x 3
// floats: each image's matrix and each chunk start less aligned than cuBLASLt assumes by default).
class DeconvGemmFp16Test : public ::testing::TestWithParam<Case> {};

TEST_P(DeconvGemmFp16Test, MatchesCpuReferenceWithTheGemmForced) {
  KILN_REQUIRE_GPU();
  const Case& c = GetParam();
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  GpuEngineOptions options;
  options.deconv = DeconvAlgo::Gemm;
  options.precision = Precision::Fp16;
  expect_matches_cpu(model.dir(), options, 3, {3, 1, 2}, kFp16Tol);
}

INSTANTIATE_TEST_SUITE_P(DeconvGemm, DeconvGemmFp16Test, ::testing::ValuesIn(deconv_gemm_cases()), case_label);

TEST(DeconvGemm, UnalignedImagesAndChunks) {
  KILN_REQUIRE_GPU();
  // [5, 3, 3] float images are 180 B apart (each image's matrix only 4-byte aligned). [5, 39, 41] with a
  // 1 MiB cap: 8 images per GEMM, so chunks start 8 x 31980 B (fp32: 32-byte aligned) or 8 x 25584 B
  // (fp16: 128-byte aligned) apart, where cuBLASLt assumes 256 unless told.
  for (const Shape& x : {Shape{9, 5, 3, 3}, Shape{9, 5, 39, 41}}) {
    const Case c = deconv("unaligned", x, 4, {2, 2}, true, "relu");
    const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
    for (const Precision p : {Precision::Fp32, Precision::Tf32, Precision::Fp16}) {
      GpuEngineOptions options;
      options.precision = p;
      options.deconv = DeconvAlgo::Gemm;
      options.workspace_cap_bytes = 1u << 20;
      const double tol = p == Precision::Fp32 ? kFp32Tol : p == Precision::Tf32 ? kTf32Tol : kFp16Tol;
      expect_matches_cpu(model.dir(), options, 9, {9, 8, 5, 1}, tol);
    }
  }
}

TEST(DeconvGemm, ReportsTheGemmPathAndSplitsBatchesIntoChunks) {
  KILN_REQUIRE_GPU();
  // 8 x [16, 64, 64] outputs: 256 KiB per image in fp32, 128 KiB in fp16; a 1 MiB cap leaves 896 KiB
  // for products: 3 images per GEMM in fp32 (batch 8 = 3 + 3 + 2), 7 in fp16 (8 = 7 + 1).
  const Case c = deconv("chunked", {8, 6, 32, 32}, 16, {2, 2}, true, "relu");
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  for (const Precision p : {Precision::Fp32, Precision::Fp16}) {
    GpuEngineOptions options;
    options.precision = p;
    options.deconv = DeconvAlgo::Gemm;  // fp16 takes the data gradient by default
    options.workspace_cap_bytes = 1u << 20;
    GraphBuildOptions g;
    g.max_batch = 8;
    const auto engine = GpuEngine::load(model.dir(), options, g);
    EXPECT_THAT(engine->layer_reports()[0].implementation, HasSubstr("cublasLt GEMM + scatter"));
    EXPECT_THAT(engine->layer_reports()[0].implementation, HasSubstr(p == Precision::Fp32 ? ", 3 image(s)" : ", 7 image(s)"));
    expect_matches_cpu(model.dir(), options, 8, {8, 7, 3, 1}, p == Precision::Fp32 ? kFp32Tol : kFp16Tol);
  }
}

TEST(DeconvGemm, DataGradientStaysWhenTheGemmIsOff) {
  KILN_REQUIRE_GPU();
  const Case c = deconv("dgrad", {2, 8, 6, 6}, 4, {2, 2}, true, "relu");
  const TestModel model(c.inputs, c.layers, {c.output}, c.weights);
  GpuEngineOptions options;
  options.deconv = DeconvAlgo::DataGradient;
  GraphBuildOptions g;
  g.max_batch = 2;
  const auto engine = GpuEngine::load(model.dir(), options, g);
  EXPECT_THAT(engine->layer_reports()[0].implementation, HasSubstr("dgrad"));
  expect_matches_cpu(model.dir(), options, 2, {2, 1}, kFp32Tol);
}

}  // namespace
}  // namespace kiln::gpu::test
