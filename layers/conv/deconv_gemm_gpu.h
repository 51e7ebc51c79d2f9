// Transposed convolutions whose kernel equals their stride, as one cuBLASLt GEMM and a scatter.
//
// Note [deconvolution as GEMM]
// With kernel = stride (2x2 stride 2: the decoders of autoencoders and U-Nets), padding 0, output
// padding 0, dilation 1 and one group, each input pixel writes its own kh x kw block of the output and
// no two blocks overlap: y[n, co, h*kh + i, w*kw + j] = b[co] + sum_ci x[n, ci, h, w] * W[ci, co, i, j].
// That is a plain product of the input's pixels by the weight seen as a [Cin, Cout*kh*kw] matrix,
// followed by a scatter of each tap (i, j) to its output position. cuDNN runs such layers as its
// data-gradient kernels at 0.3-7 TFLOP/s on an H200 (benchmarks/NOTES.md); a GEMM runs near the
// tensor-core (fp16) or FMA (fp32) peak. The product lands in the context's workspace, the scatter
// kernel adds the bias and the folded activation while moving it (launch_deconv_scatter):
//   fp32/tf32 (NCHW): per image, D[HW x Cout*kh*kw] = X[HW x Cin] * W[Cin x Cout*kh*kw] (column-major),
//     strided-batched over the images of a chunk; the weight as exported.
//   fp16 (NHWC, channels padded to 8): D'[Q' x N*H*W] = F[Q' x Cin_s] * X[Cin_s x N*H*W] (column-major)
//     with Q' = kh*kw*Cout_s, where F is the fp16 KRSC filter the data-gradient path already uses
//     ([Cin_s][kh][kw][Cout_s]), so the product's rows are output channels in NHWC order.
// The product of one image is as large as its output, so the batch runs in chunks whose product fits
// the workspace; when not even one image fits, the layer stays on cuDNN's data gradient.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/gpu/engine_options.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

class GpuOp;
struct OpBuildEnv;

// How a transposed convolution would run as GEMM + scatter (Note [deconvolution as GEMM]).
struct DeconvGemmPlan {
  bool eligible = false;
  std::string why_not;                  // set when not eligible
  std::int64_t chunk = 0;               // images per GEMM
  std::uint64_t product_bytes = 0;      // the product of one image (= its output as stored)
  std::uint64_t matmul_workspace = 0;   // reserved for cuBLASLt, at the start of the workspace
  std::uint64_t workspace_bytes() const { return matmul_workspace + static_cast<std::uint64_t>(chunk) * product_bytes; }
};

// The product buffer a chunk aims at: large enough that the GEMM runs at full speed, small enough not
// to grow the context's workspace (one per context) much beyond what cuDNN already asks for.
constexpr std::uint64_t kDeconvProductTarget = std::uint64_t{64} << 20;

// The plan for `params` producing `output` (at max batch `max_batch`) in `precision` within
// `workspace_cap` bytes of workspace. Pure host arithmetic.
DeconvGemmPlan plan_deconv_gemm(const ConvParams& params, const Shape& output, Precision precision,
                                std::int64_t max_batch, std::uint64_t workspace_cap);

// The GEMM op for a layer whose plan is eligible (conv_gpu.cpp asks plan_deconv_gemm first).
std::unique_ptr<GpuOp> make_deconv_gemm_op(const OpBuildEnv& env, const DeconvGemmPlan& plan);

}  // namespace kiln::gpu
