// Convolutions through cuDNN's graph API: building the operation graph (forward convolution, or the
// data gradient for a transposed convolution, optionally followed by a bias add, a residual add and an
// activation on virtual intermediates), choosing an engine config for it, and executing the plan.
//
// Engine choice is summarised in an EngineChoice (engine global index + knob values): chosen once at
// load (at max batch), it is re-applied to the graphs the contexts build for other batch sizes.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/gpu/backend.h"
#include "engine/gpu/engine_options.h"
#include "formats/manifest.h"
#include "layers/activation/activation.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

// Variant-pack UIDs of the graph's real tensors.
enum ConvUid : std::int64_t { kUidX = 1, kUidW = 2, kUidY = 3, kUidBias = 4, kUidResidual = 8 };

struct ConvGraphDesc {
  ConvParams conv;
  Shape x;  // the layer's input, NCHW dims, at the batch the graph is for (Fp16: channels as stored)
  Shape y;  // the layer's output (Fp16: channels as stored)
  // Fp16 (Note [fp16 layout], engine/gpu/layout.h): x, y (and the virtual intermediates) have NHWC
  // strides, the filter KRSC strides with dims `w` ([K, C/groups, R, S] as stored); io_type half.
  bool channels_last = false;
  Shape w;  // channels_last only
  bool bias = false;                            // add the [K] bias in the graph
  bool residual = false;                        // then add a tensor of y's shape and layout (kUidResidual)
  std::optional<ActivationParams> activation;  // then apply this activation in the graph
  cudnnDataType_t io_type = CUDNN_DATA_FLOAT;
  cudnnDataType_t compute_type = CUDNN_DATA_FLOAT;
  std::int64_t data_alignment = 256;    // bytes: activations (arena offsets)
  std::int64_t weight_alignment = 16;   // bytes: weight and bias pointers
};

// A finalized operation graph with every descriptor it references (a deque: parts refer to each
// other while the graph is built, so they must not move).
struct ConvGraph {
  std::deque<BackendDescriptor> parts;
  BackendDescriptor graph;
  bool has_bias = false;      // the variant pack must bind kUidBias
  bool has_residual = false;  // and kUidResidual
};

// Throws CudnnError when cuDNN refuses a descriptor (e.g. a fusion pattern it cannot express), and,
// before creating any, when `desc.activation` is one no cuDNN pointwise mode computes as kiln does
// (hardswish, hardsigmoid, mish, prelu, softplus with a threshold below 20): the caller then builds
// the graph without it and applies it with kiln's epilogue kernel.
ConvGraph build_conv_graph(cudnnHandle_t handle, const ConvGraphDesc& desc);

struct EngineChoice {
  std::int64_t engine_id = -1;
  std::vector<std::pair<cudnnBackendKnobType_t, std::int64_t>> knobs;
  // "eng12_k2=3_k14=1" (cudnn-frontend's tag format, so logs can be compared).
  std::string name() const;
  // The reverse of name(); nullopt for anything that is not exactly that form (a plan cache entry
  // names its choice so).
  static std::optional<EngineChoice> parse(const std::string& name);
};

// Everything about the graph `desc` describes, as text: two descs with the same signature build the
// same cuDNN graph (the plan cache's key for it, Note [plan cache] in formats/plan_cache.h).
std::string conv_graph_signature(const ConvGraphDesc& desc);

struct ConvPlan {
  std::vector<BackendDescriptor> parts;  // engine, knob choices and config the plan was made from
  BackendDescriptor plan;
  EngineChoice choice;
  std::int64_t workspace = 0;
  double measured_ms = -1.0;  // set by find mode
  // True when neither heuristics mode offered a usable config and the plan comes from cuDNN's fallback
  // list (generic engines, e.g. eng0: 0.3-0.8 TFLOP/s for MobileNet's fused 1x1 conv+bias+relu6 on an H200).
  bool from_fallback = false;
};

// Device buffers to time candidates on (find mode).
struct TimingBuffers {
  void* x = nullptr;
  const void* w = nullptr;
  void* y = nullptr;
  const void* bias = nullptr;
  const void* residual = nullptr;
  void* workspace = nullptr;
  std::uint64_t workspace_bytes = 0;
  cudaStream_t stream = nullptr;
};

struct PlanRequest {
  Precision precision = Precision::Fp32;
  // Fp32 only: also admit FFT and Winograd engines (GpuEngineOptions::fp32_transforms).
  bool fp32_transforms = false;
  std::uint64_t workspace_cap = 0;
  // Try this engine first (chosen earlier): the heuristics' config of that name, else one rebuilt from the recipe.
  const EngineChoice* preferred = nullptr;
  // Non-null: find mode, which times the candidates of mode A, mode B and the fallback list together and
  // keeps the fastest; null: the first usable config of mode A, then B (the fallback list only when neither
  // offers one).
  const TimingBuffers* timing = nullptr;
};

// Find mode's candidates: at most this many configs each from heuristics mode A, mode B and the
// fallback list (kMaxFindCandidates in all), each timed as kFindRuns executions in one CUDA graph.
constexpr int kFindQuota[3] = {8, 6, 4};
constexpr int kMaxFindCandidates = kFindQuota[0] + kFindQuota[1] + kFindQuota[2];
constexpr int kFindRuns = 20;
// Of them, at most this many whose finalize compiles a kernel (cuDNN's runtime-fusion engines, 0.1-1 s
// each): a fused fp16 graph otherwise costs tens of seconds per distinct layer.
constexpr int kFindCompiledQuota = 3;

// Chooses a plan (see AlgoMode in engine_options.h). Returns nullopt when no engine allowed by the
// precision can run the graph, with the reasons in `why_not`.
std::optional<ConvPlan> select_conv_plan(cudnnHandle_t handle, const ConvGraph& graph, const PlanRequest& request,
                                         std::string* why_not);

struct ConvPointers {
  const void* x = nullptr;
  const void* w = nullptr;
  void* y = nullptr;
  const void* bias = nullptr;      // used when the graph has a bias
  const void* residual = nullptr;  // used when it has a residual add
};

BackendDescriptor make_variant_pack(const ConvPointers& p, bool with_bias, bool with_residual, void* workspace);

}  // namespace kiln::gpu
