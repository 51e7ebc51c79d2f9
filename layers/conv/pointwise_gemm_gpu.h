// 1x1 convolutions of a 1x1 input (squeeze-excitation's two convolutions on the pooled [N, C, 1, 1]
// vector, classifier heads written as convolutions) as one cuBLASLt GEMM.
//
// Such a layer is a linear layer: y[n, co] = b[co] + sum_ci W[co, ci] x[n, ci]. cuDNN's graphs for it
// take 17-20 us each on an H200 at batch 32 (EfficientNet-B0 has 32 of them: benchmarks/NOTES.md), a
// GEMM of that size a few. Float32: x is [N, Cin] and the weight [Cout, Cin] as exported. Fp16 (NHWC,
// channels padded to 8): x is [N, Cin_s] and the KRSC filter the cuDNN path uses is [Cout_s, Cin_s],
// zero-padded, so the product's pad channels are the bias's pads (0). The bias rides cuBLASLt's
// epilogue; a folded activation runs as the affine+activation kernel after it.
#pragma once

#include <memory>

#include "layers/conv/conv.h"

namespace kiln::gpu {

class GpuOp;
struct OpBuildEnv;

// True for a conv2d with a 1x1 kernel, no padding, one group, whose input (`input`, NCHW) is 1x1.
bool is_pointwise_of_vector(const ConvParams& p, const Shape& input);

// The op for such a layer (its weights are the ones conv_gpu.cpp declares for the cuDNN path).
std::unique_ptr<GpuOp> make_pointwise_gemm_op(const OpBuildEnv& env);

}  // namespace kiln::gpu
