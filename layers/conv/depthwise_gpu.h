// Depthwise convolutions on the GPU as kiln's own kernel.
//
// Note [depthwise convolution]
// A conv2d with groups = in_channels = out_channels (MobileNet's and EfficientNet's 3x3 / 5x5,
// ConvNeXt's 7x7) reads each input element kh*kw times and does 2*kh*kw flops per output: it is
// bound by memory, not by arithmetic. cuDNN 9.14 on an H200 offers such graphs in NHWC half only on
// its fallback engine eng0, at 150-300 GB/s (MobileNet-V2 batch 32 fp16: 3.4 of 4.2 ms;
// benchmarks/NOTES.md). kiln's kernel (layers/conv/depthwise_kernels.h) computes each output from its
// window directly, 8 channels per thread in half NHWC, with the bias and the folded activation
// applied before the one store. GpuEngineOptions::depthwise chooses it, cuDNN's graph, or (Auto, the
// default) by what was measured: in fp16 kiln's kernel unless cuDNN runs the layer on a specialised
// engine (EfficientNet's eng8 beat the kernel by 15 %), in fp32 cuDNN's graph (equal or 3-13 % faster).
#pragma once

#include <memory>
#include <vector>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/weights.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

class GpuOp;
struct OpBuildEnv;

// True for the convolutions the kernel runs: not transposed, groups = in = out channels (> 1).
bool is_depthwise(const ConvParams& p);

// The weight forms the kernel reads (float32 weight and bias; Fp16: F16Taps and the float bias padded).
std::vector<WeightRequest> depthwise_weight_forms(const ConvLayer& layer, Precision p);

// The op for a layer with is_depthwise(params) whose forms were requested at load.
std::unique_ptr<GpuOp> make_depthwise_op(const OpBuildEnv& env);

}  // namespace kiln::gpu
