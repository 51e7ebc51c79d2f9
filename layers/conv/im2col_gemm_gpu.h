// Stem convolutions (few input channels, many output channels) in fp16 as im2col + one cuBLASLt GEMM.
//
// Note [stem convolution as im2col GEMM]
// The first convolution of a CNN reads 3 channels (RGB) and writes 32-64: ResNet's 7x7 stride-2 3 -> 64,
// MobileNet's and EfficientNet's 3x3 stride-2 3 -> 32. Its GEMM form (rows: output positions; columns:
// the kh*kw*3 values a position's window covers; times the [kh*kw*3, Cout] filter) has a reduction of
// only 27-147 elements. In NHWC half the input's channels are padded to 8, so cuDNN 9.14 reduces over
// kh*kw*8 and stays 30x off the layer's floor (ResNet-50's conv1 0.495 ms of a 2.4 ms network at batch
// 32 on an H200); kiln's direct kernel (Note [direct convolution]) runs it on CUDA cores at 0.45 ms,
// bound by their FMA rate. Here the window values of a chunk of output positions are gathered once
// into the workspace (launch_im2col: the real channels only, each row padded to a multiple of 8 for
// 16-byte rows) and multiplied by the filter held as matching rows (WeightForm::F16Im2colRows) in one
// tensor-core GEMM whose output is the layer's NHWC output itself (its rows are positions, its
// columns the stored output channels); the bias and a ReLU ride in cuBLASLt's epilogue, any other
// activation follows as one kernel. A chunk's buffer is kept near kIm2colChunkTarget so that it is
// still in L2 when the GEMM reads it; the batch runs chunk by chunk in one stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/weights.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

class GpuOp;
struct OpBuildEnv;

// The im2col buffer a chunk aims at (bytes): below the 50 MiB L2 of an H100/H200 with room to spare.
constexpr std::uint64_t kIm2colChunkTarget = std::uint64_t{24} << 20;
// The longest row (elements) the path takes: the stems it is for have 27-196.
constexpr std::int64_t kIm2colMaxRowLength = 1024;

// How a convolution would run as im2col + GEMM.
struct Im2colGemmPlan {
  bool eligible = false;
  std::string why_not;               // set when not eligible
  std::int64_t row_length = 0;       // elements of an im2col row: pad8(kh * kw * Cin)
  std::int64_t chunk_rows = 0;       // output positions per GEMM (a multiple of 128, or all of them)
  std::uint64_t matmul_workspace = 0;  // reserved for cuBLASLt, at the start of the workspace
  std::uint64_t workspace_bytes() const {
    return matmul_workspace + static_cast<std::uint64_t>(chunk_rows * row_length) * 2;
  }
};

// The plan for `params` producing `output` (at max batch `max_batch`) in `precision` within
// `workspace_cap` bytes of workspace: eligible in Fp16 for a forward convolution with groups 1 whose
// rows are at most kIm2colMaxRowLength long, with fewer than 2^31 output positions, and for which at
// least 128 rows fit the cap. Pure host arithmetic; matmul_workspace is the most cuBLASLt may use (the
// op lowers it to what its algorithm needs).
Im2colGemmPlan plan_im2col_gemm(const ConvParams& params, const Shape& output, Precision precision,
                                std::int64_t max_batch, std::uint64_t workspace_cap);

// The layers the path is offered for, whose filter is uploaded as im2col rows at load (a few KiB each):
// Fp16 forward convolutions with groups 1 and at most kIm2colMaxInChannels input channels.
// Im2colAlgo::Gemm runs every candidate whose plan is eligible.
constexpr std::int64_t kIm2colMaxInChannels = 8;
bool im2col_gemm_candidate(const ConvParams& params, Precision precision);

// The Auto rule (GpuEngineOptions::im2col): candidates with at most 4 input channels, more than 8 output
// channels (layers with at most 8 outputs stay with the direct kernel) and a kernel of 25 taps or more
// (ResNet's 7x7 stem: 0.45 -> 0.24 ms at batch 32; 3x3 stems stay with cuDNN, faster there).
bool im2col_gemm_preferred(const ConvParams& params, Precision precision);

// The weight forms the path reads: the filter as im2col rows and the bias as padded half (the epilogue's).
std::vector<WeightRequest> im2col_gemm_weight_forms(const ConvLayer& layer);

// The op for a layer whose plan is eligible (conv_gpu.cpp asks plan_im2col_gemm first).
std::unique_ptr<GpuOp> make_im2col_gemm_op(const OpBuildEnv& env, const Im2colGemmPlan& plan);

// True when `op` was made by make_im2col_gemm_op (another input size keeps the engine's choice).
bool is_im2col_gemm_op(const GpuOp* op);

}  // namespace kiln::gpu
