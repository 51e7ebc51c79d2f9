// Stems as im2col + GEMM (Note [stem convolution as im2col GEMM]), host side, everywhere: which
// convolutions the path takes, how a batch's positions are chunked within the workspace, and the
// filter's im2col rows. The GPU cases against the CPU reference are GpuIm2colGemmTest in layer_test.cpp.
#include <gmock/gmock.h>

#include <cstdint>
#include <vector>

#include "engine/gpu/layout.h"
#include "formats/dtype.h"
#include "layers/conv/im2col_gemm_gpu.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

ConvParams stem(std::int64_t in, std::int64_t out, Pair kernel) {
  ConvParams p;
  p.in_channels = in;
  p.out_channels = out;
  p.kernel = kernel;
  p.stride = {2, 2};
  p.padding = {kernel[0] / 2, kernel[1] / 2};
  return p;
}

TEST(Im2colGemmPlan, TakesForwardUngroupedFp16ConvolutionsWithShortRows) {
  const Shape y{32, 64, 112, 112};
  const Im2colGemmPlan resnet = plan_im2col_gemm(stem(3, 64, {7, 7}), y, Precision::Fp16, 32, 256u << 20);
  EXPECT_TRUE(resnet.eligible) << resnet.why_not;
  EXPECT_EQ(resnet.row_length, 152);  // 7 * 7 * 3 = 147, padded to 8
  EXPECT_THAT(plan_im2col_gemm(stem(3, 64, {7, 7}), y, Precision::Fp32, 32, 256u << 20).why_not, HasSubstr("fp16"));
  EXPECT_THAT(plan_im2col_gemm(stem(3, 64, {7, 7}), y, Precision::Tf32, 32, 256u << 20).why_not, HasSubstr("fp16"));
  ConvParams grouped = stem(4, 64, {3, 3});
  grouped.groups = 2;
  EXPECT_THAT(plan_im2col_gemm(grouped, y, Precision::Fp16, 32, 256u << 20).why_not, HasSubstr("grouped"));
  ConvParams up = stem(4, 64, {2, 2});
  up.transposed = true;
  EXPECT_THAT(plan_im2col_gemm(up, y, Precision::Fp16, 32, 256u << 20).why_not, HasSubstr("transposed"));
  EXPECT_THAT(plan_im2col_gemm(stem(64, 64, {7, 7}), y, Precision::Fp16, 32, 256u << 20).why_not, HasSubstr("3136 elements"));
  EXPECT_FALSE(plan_im2col_gemm(stem(3, 64, {7, 7}), Shape{32, 64}, Precision::Fp16, 32, 256u << 20).eligible);
  EXPECT_THAT(plan_im2col_gemm(stem(3, 64, {7, 7}), Shape{2048, 64, 1024, 1024}, Precision::Fp16, 2048, 256u << 20).why_not,
              HasSubstr("2^31"));
}

TEST(Im2colGemmPlan, ChunksPositionsNearTheTargetAndWithinTheCap) {
  const Shape y{32, 64, 112, 112};
  // 152 halves = 304 bytes a row: 24 MiB hold 82782 rows, 82688 in multiples of 128.
  const Im2colGemmPlan big = plan_im2col_gemm(stem(3, 64, {7, 7}), y, Precision::Fp16, 32, 256u << 20);
  EXPECT_EQ(big.chunk_rows, 82688);
  EXPECT_EQ(big.matmul_workspace, 32u << 20);
  EXPECT_LE(big.workspace_bytes(), 256u << 20);
  EXPECT_LE(big.chunk_rows * big.row_length * 2, static_cast<std::int64_t>(kIm2colChunkTarget));
  // A small batch: one GEMM of all its positions.
  const Im2colGemmPlan one = plan_im2col_gemm(stem(3, 64, {7, 7}), Shape{1, 64, 14, 14}, Precision::Fp16, 1, 256u << 20);
  EXPECT_EQ(one.chunk_rows, 196);
  // A 64 KiB cap: 8 KiB to cuBLASLt, and 188 rows fit the rest: chunks of 128.
  const Im2colGemmPlan small = plan_im2col_gemm(stem(3, 64, {7, 7}), y, Precision::Fp16, 32, 64u << 10);
  EXPECT_TRUE(small.eligible);
  EXPECT_EQ(small.matmul_workspace, 8u << 10);
  EXPECT_EQ(small.chunk_rows, 128);
  EXPECT_LE(small.workspace_bytes(), 64u << 10);
  // Not even 128 rows: the layer goes elsewhere.
  const Im2colGemmPlan none = plan_im2col_gemm(stem(3, 64, {7, 7}), y, Precision::Fp16, 32, 32u << 10);
  EXPECT_FALSE(none.eligible);
  EXPECT_THAT(none.why_not, HasSubstr("no room for 128"));
}

TEST(Im2colGemmRule, AutoTakesStemsAndLeavesHeadsToTheDirectKernel) {
  EXPECT_TRUE(im2col_gemm_preferred(stem(3, 64, {7, 7}), Precision::Fp16));
  EXPECT_TRUE(im2col_gemm_preferred(stem(1, 16, {5, 5}), Precision::Fp16));
  EXPECT_FALSE(im2col_gemm_preferred(stem(3, 32, {3, 3}), Precision::Fp16));  // 3x3: cuDNN is faster
  EXPECT_TRUE(im2col_gemm_candidate(stem(3, 32, {3, 3}), Precision::Fp16));
  EXPECT_FALSE(im2col_gemm_preferred(stem(3, 64, {7, 7}), Precision::Fp32));
  EXPECT_FALSE(im2col_gemm_preferred(stem(3, 8, {7, 7}), Precision::Fp16));  // few outputs: the direct kernel
  EXPECT_FALSE(im2col_gemm_preferred(stem(8, 64, {3, 3}), Precision::Fp16));
  EXPECT_TRUE(im2col_gemm_candidate(stem(8, 64, {3, 3}), Precision::Fp16));  // offered: Im2colAlgo::Gemm
  EXPECT_FALSE(im2col_gemm_candidate(stem(9, 64, {3, 3}), Precision::Fp16));
  EXPECT_FALSE(im2col_gemm_candidate(stem(3, 64, {3, 3}), Precision::Tf32));
}

TEST(Im2colRows, FilterRowsInTapThenChannelOrderWithZeroPadding) {
  // [K=10, C=3, R=2, S=3]: rows padded to 16, each row's 18 values then zeros up to 24.
  const Shape filter{10, 3, 2, 3};
  const Im2colRows l = im2col_rows_layout(filter);
  EXPECT_EQ(l.rows, 16);
  EXPECT_EQ(l.row_length, 24);
  EXPECT_EQ(l.bytes(), 16u * 24u * 2u);
  std::vector<float> values(10 * 3 * 2 * 3);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.25f * static_cast<float>(i % 17) - 1.5f;
  std::vector<std::uint16_t> packed(static_cast<std::size_t>(l.rows * l.row_length), 0xffff);
  pack_im2col_rows(values.data(), filter, packed.data());
  for (std::int64_t k = 0; k < l.rows; ++k)
    for (std::int64_t e = 0; e < l.row_length; ++e) {
      const float got = half_to_float(packed[static_cast<std::size_t>(k * l.row_length + e)]);
      float want = 0.0f;
      if (k < 10 && e < 18) {
        const std::int64_t c = e % 3, s = (e / 3) % 3, r = e / 9;
        want = values[static_cast<std::size_t>(((k * 3 + c) * 2 + r) * 3 + s)];
      }
      EXPECT_EQ(got, want) << "row " << k << " element " << e;
    }
  EXPECT_EQ(im2col_rows_layout(Shape{10, 3}).bytes(), 0u);
}

}  // namespace
}  // namespace kiln::gpu::test
