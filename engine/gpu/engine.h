// kiln's GPU backend: cuDNN 9 (graph API for convolutions), cuBLASLt and kiln's own CUDA kernels.
//
//   auto engine = kiln::gpu::GpuEngine::load("models/unet", {}, {/*max_batch=*/8});
//   kiln::gpu::ExecutionContext ctx(engine);                  // engine/gpu/context.h
//   kiln::RunResult r = ctx.run(inputs, /*batch=*/3);         // host in -> host out, synchronous
//
// GpuEngine is immutable after load and shareable across threads (std::shared_ptr<const GpuEngine>):
// the graph, the weights on the device (one allocation, one copy), the memory plan, and each layer's
// op with its chosen algorithm. It holds no per-inference state; an ExecutionContext does.
//
// Load, in order (engine/gpu/op.h describes an op's side): every layer's GPU op kind is looked up in
// the registry and declares its weight forms, output storage and epilogues; the weights are uploaded
// in the declared forms; fusion is decided from the declarations (an activation that is the only
// reader of a producer accepting it is folded into that producer); the memory plan is made once, from
// the precision's storage policy (Note [fp16 layout] in engine/gpu/layout.h) and the declarations;
// then every op is built (algorithms chosen at max batch).
//
// Precision::Fp16 stores activations as half, rank-4 ones NHWC with channels padded to multiples of 8.
// The caller's side does not change: contexts take and give float32 in the model's logical (NCHW)
// order, converted at the boundary. An fp16 engine may keep chosen layers in float32
// (GpuEngineOptions::fp32_layers, Note [mixed precision] in engine/mixed_precision.h): each layer's op
// is declared and built at its own precision, and tensors read by a layer of the other kind are
// converted into copies the memory plan holds too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/api.h"
#include "engine/gpu/engine_options.h"
#include "engine/fusion.h"
#include "engine/graph.h"
#include "engine/mixed_precision.h"
#include "formats/plan_cache.h"

namespace kiln::gpu {

class GpuOp;
class DeviceWeights;
class StagedWeights;
struct FindScratch;
struct PlanCacheRef;

// The engine's graph and ops rebuilt for other input shapes of a model with a dynamic height × width
// (Note [input sizes] in engine/graph.cpp): what a context runs for a size other than the engine's
// own. Made by GpuEngine::build_variant; owned by the context that asked for it.
struct ShapeVariant {
  ShapeVariant();
  ~ShapeVariant();
  Graph graph;
  std::vector<std::unique_ptr<GpuOp>> ops;  // per layer
  std::uint64_t workspace_bytes = 0;        // the largest op need (≤ the engine's workspace_bytes())
  double build_ms = 0;                      // host wall time build_variant took
};

// How one layer runs on the GPU, for `kiln inspect --device gpu`.
struct LayerReport {
  std::string name;
  std::string op;
  // "cudnn graph eng0_k3=1 (conv+bias+relu fused)", "cudnn softmax", "cuda kernel",
  // "cublasLt (bias epilogue)", "view", "fused into enc.0".
  std::string implementation;
  std::uint64_t workspace_bytes = 0;  // at max batch
};

// Where GpuEngine::load spent its time: host wall milliseconds, each phase finished (synchronized)
// before the next starts. For `kiln bench`'s start-up split.
struct LoadTimings {
  double parse_ms = 0;   // model.yaml + manifest read and checked, graph built (0 when loaded from a Graph)
  double device_ms = 0;  // device selection and properties (CUDA context creation, if this is the first call)
  double upload_ms = 0;  // ops' declarations, the weight blob read into pinned memory (size, CRC-32 checked), copied over
  double select_ms = 0;  // fusion, memory plan, every layer's algorithm choice (cuDNN heuristics or timing)
};

class KILN_API GpuEngine {
 public:
  // Loads `model` (folder or model.yaml): the graph and manifest through kiln::load_graph, then the
  // blob straight into pinned memory and onto the device. Throws FormatError / ModelError for bad
  // files or a layer the GPU path does not support, CudaError / CudnnError / CublasError (naming the
  // layer) for library failures, UsageError for bad options.
  static std::shared_ptr<const GpuEngine> load(const std::string& model, const GpuEngineOptions& options = {},
                                               const GraphBuildOptions& graph_options = {});
  // Same, from a built graph (the engine takes it over; its manifest's blob is read from disk).
  static std::shared_ptr<const GpuEngine> load(Graph graph, const GpuEngineOptions& options = {});
  // Load once, place many: one engine per entry of `devices` (options.device is ignored; a device may
  // repeat), in that order. model.yaml and the manifest are read and checked once (each engine builds
  // its graph from them), the blob is read, checked and (in fp16) converted once into pinned host memory
  // (StagedWeights, engine/gpu/weights.h) and copied to every device; each engine chooses its own plans
  // on its device (the plan cache is keyed by the GPU). The engines share one PlanCache object, so a
  // replica on a GPU of the same kind as an earlier one reuses its choices and compiled plans from
  // memory, even with the cache's directory off. The pinned copy is freed before returning. Throws
  // what load() throws, naming the device for device errors, and UsageError for an empty `devices`.
  static std::vector<std::shared_ptr<const GpuEngine>> load_replicas(const std::string& model, const std::vector<int>& devices,
                                                                     const GpuEngineOptions& options = {},
                                                                     const GraphBuildOptions& graph_options = {});

  ~GpuEngine();
  GpuEngine(const GpuEngine&) = delete;
  GpuEngine& operator=(const GpuEngine&) = delete;

  const Graph& graph() const { return graph_; }
  const GpuEngineOptions& options() const { return options_; }
  std::int64_t max_batch() const { return graph_.max_batch(); }
  // The arena layout every context allocates (a folded activation's output is a view of its
  // producer's; with keep_all_layer_outputs nothing is reused).
  const MemoryPlan& memory_plan() const { return plan_; }
  std::uint64_t workspace_bytes() const { return workspace_bytes_; }
  std::uint64_t weight_bytes() const;
  const std::vector<LayerReport>& layer_reports() const { return reports_; }
  // "gpu 0: NVIDIA H100 80GB HBM3, cuDNN 9.14.0, fp32, heuristic"
  const std::string& device_description() const { return description_; }
  const LoadTimings& load_timings() const { return timings_; }
  // How layer `layer` runs: the engine's precision, or Fp32 for a layer an fp16 engine keeps in float32.
  Precision layer_precision(int layer) const;
  // How tensor `tensor` is stored: a graph tensor, or a converted copy (index ≥ the graph's tensor count).
  Precision tensor_precision(int tensor) const;
  // The layers kept in float32 by an fp16 engine (0 otherwise), and the tensors converted before a layer
  // of the other kind reads them, in step order (Note [mixed precision]).
  int fp32_layer_count() const;
  const std::vector<PrecisionConversion>& conversions() const { return mixed_.conversions; }
  // For messages: Graph::describe_tensor, or "the float32 copy of <that>" for a converted copy.
  std::string describe_tensor(int tensor) const;
  // The plan cache this engine and its contexts read and fill (Note [plan cache]): its directory ("" when
  // memory only), hits, misses, rejections and writes so far, and the first problem it met; shared by
  // the engines of one load_replicas call. Thread-safe.
  const PlanCache& plan_cache() const { return *plan_cache_; }

  // Internal to the GPU backend (used by ExecutionContext).
  const GpuOp* op(int layer) const { return ops_[static_cast<std::size_t>(layer)].get(); }
  const PlanCacheRef& plan_cache_ref() const { return *plan_ref_; }
  // The plan cache reference layer `layer`'s op uses (its keys name the layer's precision).
  const PlanCacheRef& plan_cache_ref(int layer) const;

  // The graph and ops for `input_shapes` (at max batch, checked as Graph::run_shapes does), for a
  // dynamic model. It runs in the arena and the workspace every context allocates for the engine's own
  // (largest) shapes: every tensor uses a prefix of its block (ModelError naming the layer for a
  // tensor that would not fit), every op chooses its algorithm within the engine's workspace, and
  // each layer must make the same memory and weight choices as at the largest size (ModelError naming
  // it otherwise). In AlgoMode::Find, `scratch` (the asking context's arena, laid out by
  // memory_plan()) is where candidates are timed; required then. Thread-safe. Allocates no activation
  // memory or workspace (it creates its own library handles and stream for the build).
  std::unique_ptr<ShapeVariant> build_variant(const std::vector<Shape>& input_shapes,
                                              const FindScratch* scratch) const;

 private:
  // `staged`: null, or where the weights staged for an identical engine are taken from (when they serve
  // this one's requests) or, when it holds none, where this engine's staging is left for the next.
  // `shared_cache`: the plan cache to use (load_replicas), or null for one of its own over
  // options.plan_cache.
  GpuEngine(Graph graph, const GpuEngineOptions& options, std::shared_ptr<const StagedWeights>* staged = nullptr,
            std::shared_ptr<PlanCache> shared_cache = nullptr);
  void choose_device();
  void release_device_resources() noexcept;  // the ops and weights, freed with the device current
  void upload_weights(std::shared_ptr<const StagedWeights>* staged);
  void decide_fusion();
  // After decide_fusion: every layer's and tensor's precision and the copies (Note [mixed precision]);
  // `selected`: the layers options.fp32_layers names.
  void decide_precision_from(const std::vector<bool>& selected);
  void plan_arena();
  void build_ops();
  // Builds one op per layer of `graph` (the engine's or a variant's) with `options`; returns the
  // largest workspace they need and, with `reports`, fills the inspect lines.
  std::uint64_t build_ops_for(const Graph& graph, const GpuEngineOptions& options, const FindScratch* scratch,
                              std::vector<std::unique_ptr<GpuOp>>& ops, std::vector<LayerReport>* reports) const;
  void check_variant(const Graph& variant) const;

  struct Declared;  // every layer's op kind and declaration at the engine's own shapes

  Graph graph_;
  GpuEngineOptions options_;
  std::unique_ptr<Declared> declared_;
  FusionPlan fusion_;  // which layers are folded into which (engine/fusion.h)
  MixedPrecisionPlan mixed_;  // each layer's and tensor's precision, the converted copies
  MemoryPlan plan_;
  std::unique_ptr<DeviceWeights> weights_;
  std::shared_ptr<PlanCache> plan_cache_;
  std::unique_ptr<PlanCacheRef> plan_ref_;
  std::unique_ptr<PlanCacheRef> plan_ref_fp32_;  // the float32 layers of a mixed fp16 engine
  std::vector<std::unique_ptr<GpuOp>> ops_;  // per layer
  std::uint64_t workspace_bytes_ = 0;
  std::vector<LayerReport> reports_;
  std::string description_;
  LoadTimings timings_;
};

}  // namespace kiln::gpu
