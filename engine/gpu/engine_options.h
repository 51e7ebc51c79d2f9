// Options of the GPU engine (engine/gpu/engine.h), fixed when it is loaded.
#pragma once

#include "base/api.h"

#include <cstdint>
#include <string>

namespace kiln::gpu {

// Arithmetic of convolutions and fully connected layers. Activations are float32 in Fp32 and Tf32.
//  - Fp32: exact float32. cuDNN engines whose numerical notes say TENSOR_CORE (TF32 on float data),
//    DOWN_CONVERT_INPUTS, REDUCED_PRECISION_REDUCTION, FFT or WINOGRAD are excluded; cuBLASLt computes
//    in CUBLAS_COMPUTE_32F. Matches the CPU reference to ~1e-5 relative.
//  - Tf32: tensor cores allowed (TF32 inputs, float accumulation); cuBLASLt CUBLAS_COMPUTE_32F_FAST_TF32.
//    About 1e-3 relative error; ~2x faster convolutions on Hopper.
//  - Fp16: the tensor-core path. Activations in the arena are IEEE half, rank-4 ones channels-last
//    (NHWC) with channels zero-padded to a multiple of 8 (Note [fp16 layout], engine/gpu/layout.h);
//    weights are converted at load (filters KRSC half, padded). Convolutions run cuDNN graphs with half
//    I/O and CUDNN_DATA_FLOAT compute (engines with REDUCED_PRECISION_REDUCTION, i.e. half accumulation,
//    are excluded); linear runs cuBLASLt with half A/B/C/D and CUBLAS_COMPUTE_32F; the small kernels
//    (pooling, softmax, LRN, activations, add, ...) compute in float and round once to half. The memory
//    plan is in 2-byte elements. The caller still sees float32 in logical (NCHW) order: run, run_device
//    and kept layer outputs are converted at the boundary. About 1e-3 relative error (half rounding of
//    every activation); tests allow 1e-2 normalized.
enum class Precision { Fp32, Tf32, Fp16 };

// How each convolution's cuDNN engine is chosen (at load, at max batch):
//  - Heuristic: cuDNN heuristics mode A (instant), then mode B if A offers nothing usable; the first
//    config that is allowed by the precision, finalizes and fits the workspace cap wins.
//  - Find (the autotuner): for every fusion depth of the convolution's epilogue (the whole epilogue in
//    cuDNN's graph, a shorter prefix of it, the bare convolution), the candidates of heuristics mode A,
//    mode B and the fallback list (kFindQuota of each and at most kFindCompiledQuota runtime-compiled
//    ones, layers/conv/conv_gpu_graph.h) are finalized and
//    timed on scratch buffers as 20 executions inside a CUDA graph; each depth's fastest is timed again
//    together with the kernels that do the part of the epilogue its graph lacks, and the fastest total
//    wins. Identical layers are tuned once (the plan cache's memory), and `kiln tune --algo find` keeps
//    the outcome on disk. Slower to load (ResNet-50 fp16 on an H100: 81 s against 4.4 s) and, measured on
//    the reference models, no faster in the network than the heuristic choice (benchmarks/NOTES.md,
//    2026-12-07): Heuristic stays the default.
// Both fall back to a plan that needs no workspace when nothing fits the cap.
enum class AlgoMode { Heuristic, Find };

enum class DeconvAlgo { Auto, Gemm, DataGradient };
enum class DepthwiseAlgo { Auto, Kiln, Cudnn };
enum class DirectConvAlgo { Auto, Kiln, Cudnn };
enum class Im2colAlgo { Auto, Gemm, Off };

// PlanCache::default_directory(), for GpuEngineOptions' default.
KILN_API std::string default_plan_cache_directory();

struct GpuEngineOptions {
  Precision precision = Precision::Fp32;
  AlgoMode algo = AlgoMode::Heuristic;
  std::uint64_t workspace_cap_bytes = std::uint64_t{256} << 20;  // per layer; the shared workspace is the max
  // The GPU the engine and its contexts run on; every call makes it current for its own work and gives
  // the caller's current device back (Note [device discipline], engine/gpu/device_scope.h).
  int device = 0;
  // Keep every layer's output for layer-by-layer comparison (ExecutionContext::run with
  // RunOptions::keep_layer_outputs): uses Graph::plan_keeping_all() and disables fusion, so every
  // layer's own output exists. Costs memory (the sum of all activations).
  bool keep_all_layer_outputs = false;
  // Fold an activation that is the only reader of a convolution's output into the convolution (cuDNN
  // runtime fusion where the GPU supports it, else one epilogue kernel).
  bool fuse = true;
  // Also fold a residual add (an equal-shape add of a convolution's output and a tensor made before
  // it, ResNet's `out += identity`) and the activation after it into the convolution: one cuDNN graph
  // conv+bias+add+activation where an allowed engine runs it, else the convolution and one add kernel
  // (engine/fusion.h, Note in layers/conv/conv_gpu.cpp). On an H200 in fp16 ResNet-50 at batch 32
  // went 1.91 -> 1.51 ms with it, ResNet-18 0.995 -> 0.871 ms; fp32 and MobileNet-V2 unchanged
  // (benchmarks/NOTES.md, 2026-12-04). engine_options_from reads KILN_FUSE_RESIDUAL=1|0 from the environment.
  bool fuse_residual = true;
  // Fp32 only: also admit cuDNN's FFT and Winograd engines (PyTorch's cuDNN convolutions use them), which
  // round differently from a direct float32 sum (benchmarks/NOTES.md, 2026-12-07, has their error and
  // speed on the reference models). Off by default, so fp32 stays the exact mode; Tf32 and Fp16 admit
  // them always. engine_options_from reads KILN_FP32_TRANSFORMS=1|0 from the environment.
  bool fp32_transforms = false;
  // Debugging: synchronize the stream after every layer so an asynchronous failure names its layer.
  bool sync_each_layer = false;
  // How transposed convolutions whose kernel equals their stride run (Note [deconvolution as GEMM],
  // layers/conv/deconv_gemm_gpu.h): Auto takes the GEMM in fp32 and tf32 (2.3-2.4x faster networks at
  // batch 32 on an H200) and cuDNN's data gradient in fp16 (as fast or faster there: benchmarks/NOTES.md);
  // Gemm and DataGradient force one. engine_options_from reads KILN_DECONV=auto|gemm|dgrad from the
  // environment (before/after measurements with one binary).
  DeconvAlgo deconv = DeconvAlgo::Auto;
  // How depthwise convolutions (groups = in = out channels) run (Note [depthwise convolution],
  // layers/conv/depthwise_gpu.h). Auto: in fp16 kiln's kernel unless cuDNN runs the layer on an engine
  // other than its generic engine 0 (MobileNet-V2 batch 32 4.24 -> 1.12 ms, ConvNeXt-T 13.2 -> 3.65 ms on
  // an H200; EfficientNet-B0's eng8 layers stay, 15 % faster than the kernel); in fp32 and tf32 cuDNN's
  // graph (equal or 3-13 % faster there: benchmarks/NOTES.md). Kiln and Cudnn force one.
  // engine_options_from reads KILN_DEPTHWISE=auto|kiln|cudnn from the environment.
  DepthwiseAlgo depthwise = DepthwiseAlgo::Auto;
  // How convolutions with few channels run (Note [direct convolution], layers/conv/direct_conv_gpu.h).
  // Auto: kiln's direct kernel for the layers direct_conv_preferred names (groups 1, at most 8 output
  // channels: the autoencoder's 16 -> 3 head 3.9 -> 0.67 ms in fp16 on an H200; in fp16 also 7x7 stems of
  // at most 4 input channels, which the im2col GEMM takes first unless `im2col` is Off), cuDNN for the rest; Kiln:
  // the kernel for every direct_conv_candidate (also <= 4 input channels, for A/B profiles); Cudnn: never. engine_options_from reads KILN_DIRECT_CONV=auto|kiln|cudnn from the environment.
  DirectConvAlgo direct_conv = DirectConvAlgo::Auto;
  // How fp16 stems (few input channels, many output channels: the RGB convolution at the start of a CNN)
  // run (Note [stem convolution as im2col GEMM], layers/conv/im2col_gemm_gpu.h). Auto: as an im2col
  // buffer and one tensor-core GEMM for the layers im2col_gemm_preferred names; Gemm: for every eligible
  // one; Off: never (they go to the direct kernel or cuDNN as before). engine_options_from reads
  // KILN_IM2COL=auto|gemm|off from the environment.
  Im2colAlgo im2col = Im2colAlgo::Auto;
  // The persistent plan cache's directory (Note [plan cache], formats/plan_cache.h): convolutions' engine
  // choices and serialized cuDNN plans from earlier loads on the same GPU and libraries are taken from
  // it instead of being searched and compiled again, and new ones are written to it. Empty: memory only
  // (identical layers of one load are still chosen once). The default is PlanCache::default_directory():
  // $KILN_PLAN_CACHE ("off": memory only), else $XDG_CACHE_HOME/kiln/plans, else ~/.cache/kiln/plans.
  std::string plan_cache = default_plan_cache_directory();
  // Fp16 only: the layers that keep float32 (Note [mixed precision], engine/mixed_precision.h, has the
  // rules and select_layers the spec: "6" the first six layers, "..features.3" every layer up to that
  // one, "features.0*" a prefix, or names, comma-separated). "" keeps every layer half. A model whose
  // stem amplifies half rounding past fp16's error bound (random-weight MobileNet-V2, ShuffleNet-V2)
  // passes with its first few layers in float32 at a fraction of the fp32 engine's cost.
  std::string fp32_layers;
};

// The one place engine options are made from the strings of the command line and the bench
// configuration: precision "fp32" | "tf32" | "fp16", algorithm mode "heuristic" | "find", and the
// per-layer workspace cap in MiB (>= 0), and the plan cache: "" keeps the default, "off" is memory only,
// anything else is the directory. Throws UsageError naming the option and the choices.
// `fp32_layers`: GpuEngineOptions::fp32_layers (UsageError when given for another precision than fp16).
KILN_API GpuEngineOptions engine_options_from(const std::string& precision, const std::string& algo, std::int64_t workspace_mb,
                                              const std::string& plan_cache = "", const std::string& fp32_layers = "");

// "fp32" | "tf32" | "fp16"; "heuristic" | "find". Throw UsageError naming the choices.
KILN_API Precision parse_precision(const std::string& s);
KILN_API AlgoMode parse_algo_mode(const std::string& s);
KILN_API const char* precision_name(Precision p);
KILN_API const char* algo_mode_name(AlgoMode m);

}  // namespace kiln::gpu
