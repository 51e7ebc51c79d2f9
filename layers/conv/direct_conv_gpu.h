// Convolutions with few channels on the GPU as kiln's own kernel.
//
// Note [direct convolution]
// A convolution with a handful of output channels (an image head: 16 -> 3, a mask head: 32 -> 1) or
// of input channels (an RGB stem: 3 -> 32) is a GEMM with one tiny dimension: tensor-core tiles are
// mostly padding, and cuDNN 9.14 on an H200 runs such layers 10-40x off their memory floor (the
// autoencoder's 16 -> 3 3x3 head at 512x512: 3.9 ms of 13.8 in fp16 at batch 32; benchmarks/NOTES.md).
// kiln's kernel (layers/conv/direct_conv_kernels.h) computes each output position's block of 4, 8 or 32
// output channels on CUDA cores: the block's filter slice sits in shared memory (every thread reads the
// same weight, which shared memory broadcasts), half NHWC input moves 8 channels per 16-byte load, the
// bias and the folded activation are applied before the one store, and float32 output is written in
// NCHW directly. GpuEngineOptions::direct_conv picks it, cuDNN, or (Auto, the default) kiln's kernel
// for the layers direct_conv_preferred names (the heads: 3.9 -> 0.67 ms for the autoencoder's).
#pragma once

#include <memory>
#include <vector>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/weights.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

class GpuOp;
struct OpBuildEnv;

// True for the convolutions the kernel can run: not transposed, groups 1, a filter slice within
// kDirectConvMaxSharedBytes.
bool direct_conv_eligible(const ConvParams& p);

// The layers the kernel is offered for, whose float filter is uploaded at load: eligible, and at most 8
// output channels or at most 4 input channels (the shapes where cuDNN's tensor-core tiles are mostly
// padding). DirectConvAlgo::Kiln runs the kernel on all of them.
bool direct_conv_candidate(const ConvParams& p);

// The Auto rule: a candidate with at most 8 output channels, or in fp16 one with at most 4 input channels
// and a kernel of 25 taps or more (ResNet's 7x7 RGB stem). 3x3 RGB stems stay with cuDNN, which is faster
// there (the autoencoder's enc.0: 1.06 ms against the kernel's 1.29; benchmarks/NOTES.md, 2026-12-03).
bool direct_conv_preferred(const ConvParams& p, Precision precision);

// The weight forms the kernel reads: the float32 filter as exported and the float bias (Fp16: padded).
std::vector<WeightRequest> direct_conv_weight_forms(const ConvLayer& layer, Precision p);

// The op for a layer with direct_conv_eligible(params) whose forms were requested at load.
std::unique_ptr<GpuOp> make_direct_conv_op(const OpBuildEnv& env);

// True when `op` was made by make_direct_conv_op (another input size keeps the engine's choice).
bool is_direct_conv_op(const GpuOp* op);

}  // namespace kiln::gpu
