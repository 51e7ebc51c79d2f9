#include "engine/gpu/engine.h"

#include <algorithm>
#include <chrono>

#include "engine/gpu/check.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/memory.h"
#include "engine/gpu/op.h"
#include "engine/gpu/weights.h"
#include "engine/model_dir.h"
#include "layers/activation/activation.h"
#include "layers/conv/conv2d.h"
#include "layers/tensor/flatten.h"

namespace kiln::gpu {

namespace {

constexpr std::uint64_t kArenaAlignment = 256;

// A layer whose work another layer does (an activation folded into its convolution).
class FoldedOp final : public GpuOp {
 public:
  explicit FoldedOp(std::string into) : into_(std::move(into)) {}
  std::unique_ptr<PreparedOp> prepare(const OpRunEnv&, std::int64_t) const override { return nullptr; }
  std::string describe() const override { return "fused into " + into_; }

 private:
  std::string into_;
};

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string cudnn_version_string() {
  const std::size_t v = cudnnGetVersion();  // e.g. 91400 = 9.14.0
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

}  // namespace

Precision parse_precision(const std::string& s) {
  if (s == "fp32") return Precision::Fp32;
  if (s == "tf32") return Precision::Tf32;
  if (s == "fp16") return Precision::Fp16;
  throw UsageError("precision: expected fp32, tf32 or fp16, got '" + s + "'");
}

AlgoMode parse_algo_mode(const std::string& s) {
  if (s == "heuristic") return AlgoMode::Heuristic;
  if (s == "find") return AlgoMode::Find;
  throw UsageError("algorithm mode: expected heuristic or find, got '" + s + "'");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::Fp32:
      return "fp32";
    case Precision::Tf32:
      return "tf32";
    case Precision::Fp16:
      return "fp16";
  }
  return "?";
}
const char* algo_mode_name(AlgoMode m) { return m == AlgoMode::Heuristic ? "heuristic" : "find"; }

std::shared_ptr<const GpuEngine> GpuEngine::load(const std::string& model, const GpuEngineOptions& options,
                                                 const GraphBuildOptions& graph_options) {
  const auto start = std::chrono::steady_clock::now();
  Graph graph = load_graph(model, graph_options);
  const double parse_ms = ms_since(start);
  auto engine = std::shared_ptr<GpuEngine>(new GpuEngine(std::move(graph), options));
  engine->timings_.parse_ms = parse_ms;
  return engine;
}

std::shared_ptr<const GpuEngine> GpuEngine::load(Graph graph, const GpuEngineOptions& options) {
  return std::shared_ptr<const GpuEngine>(new GpuEngine(std::move(graph), options));
}

GpuEngine::~GpuEngine() = default;

std::uint64_t GpuEngine::weight_bytes() const { return weights_ ? weights_->bytes() : 0; }

GpuEngine::GpuEngine(Graph graph, const GpuEngineOptions& options) : graph_(std::move(graph)), options_(options) {
  auto phase = std::chrono::steady_clock::now();
  int count = 0;
  KILN_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (options_.device < 0 || options_.device >= count) {
    throw UsageError("GPU device " + std::to_string(options_.device) + " does not exist (" + std::to_string(count) +
                     " visible)");
  }
  KILN_CUDA_CHECK(cudaSetDevice(options_.device));
  cudaDeviceProp prop{};
  KILN_CUDA_CHECK(cudaGetDeviceProperties(&prop, options_.device));
  description_ = "gpu " + std::to_string(options_.device) + ": " + prop.name + ", cuDNN " + cudnn_version_string() +
                 ", " + precision_name(options_.precision) + ", " + algo_mode_name(options_.algo);

  timings_.device_ms = ms_since(phase);

  phase = std::chrono::steady_clock::now();
  if (options_.precision == Precision::Fp16) {
    std::vector<WeightRequest> requests;
    for (const auto& layer : graph_.layers()) {
      LayerScope scope(layer->name());
      const std::vector<WeightRequest> r = fp16_weight_requests(*layer);
      requests.insert(requests.end(), r.begin(), r.end());
    }
    weights_ = std::make_unique<DeviceWeights>(graph_.manifest(), requests);
  } else {
    std::vector<const TensorEntry*> used;
    for (const auto& layer : graph_.layers()) used.insert(used.end(), layer->weights().begin(), layer->weights().end());
    weights_ = std::make_unique<DeviceWeights>(graph_.manifest(), used);
  }
  timings_.upload_ms = ms_since(phase);

  phase = std::chrono::steady_clock::now();
  decide_fusion();
  build_ops();
  timings_.select_ms = ms_since(phase);
}

// An activation is folded into the convolution before it when it is that convolution's only reader
// and the convolution's output is no model output: the convolution then writes the activated values,
// and the activation's output becomes a view of the convolution's in the memory plan (so the arena
// holds one tensor where the graph has two).
void GpuEngine::decide_fusion() {
  const auto& layers = graph_.layers();
  fused_into_.assign(layers.size(), -1);
  std::vector<PlanTensor> tensors = graph_.plan_tensors();
  const bool fp16 = options_.precision == Precision::Fp16;
  if (fp16) {
    // Note [fp16 layout]: 2-byte, channel-padded blocks; a flatten that reorders is no view.
    for (std::size_t t = 0; t < tensors.size(); ++t) {
      const GraphTensor& gt = graph_.tensors()[t];
      tensors[t].bytes = activation_bytes(gt.shape, options_.precision);
      if (gt.producer >= 0 && dynamic_cast<const FlattenLayer*>(layers[static_cast<std::size_t>(gt.producer)].get()) &&
          !fp16_flatten_is_view(layers[static_cast<std::size_t>(gt.producer)]->input_shapes()[0])) {
        tensors[t].alias_of = -1;
        tensors[t].in_place_of = -1;
      }
    }
  }
  bool any = false;
  if (options_.fuse && !options_.keep_all_layer_outputs) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      if (!dynamic_cast<const ConvLayer*>(layers[i].get())) continue;
      const int t = graph_.output_tensor_of(static_cast<int>(i));
      const GraphTensor& out = graph_.tensors()[static_cast<std::size_t>(t)];
      if (out.is_output || out.consumers.size() != 1) continue;
      const int j = out.consumers[0];
      if (!dynamic_cast<const ActivationLayer*>(layers[static_cast<std::size_t>(j)].get())) continue;
      if (graph_.layer_inputs(j) != std::vector<int>{t}) continue;
      fused_into_[static_cast<std::size_t>(j)] = static_cast<int>(i);
      PlanTensor& act = tensors[static_cast<std::size_t>(graph_.output_tensor_of(j))];
      act.alias_of = t;
      act.in_place_of = -1;
      any = true;
    }
  }
  const int steps = static_cast<int>(layers.size());
  if (options_.keep_all_layer_outputs && fp16) {
    for (PlanTensor& p : tensors) {
      p.last_step = steps;
      p.in_place_of = -1;
    }
    plan_ = plan_memory(tensors, steps, kArenaAlignment);
  } else if (options_.keep_all_layer_outputs) {
    plan_ = graph_.plan_keeping_all(kArenaAlignment);
  } else {
    plan_ = plan_memory(any || fp16 ? tensors : graph_.plan_tensors(), steps, kArenaAlignment);
  }
}

void GpuEngine::build_ops() {
  CudnnHandle cudnn = make_cudnn_handle();
  CublasLtHandle cublaslt = make_cublaslt_handle();
  Stream stream = make_stream();
  KILN_CUDNN_CHECK(cudnnSetStream(cudnn.get(), stream.get()));

  // Find mode times candidates on a scratch arena laid out like a context's.
  DeviceBuffer scratch_arena;
  DeviceBuffer scratch_workspace;
  FindScratch scratch;
  if (options_.algo == AlgoMode::Find) {
    scratch_arena = DeviceBuffer(plan_.arena_bytes, "find-mode scratch arena");
    KILN_CUDA_CHECK(cudaMemsetAsync(scratch_arena.data(), 0, scratch_arena.size(), stream.get()));
    scratch_workspace = DeviceBuffer(options_.workspace_cap_bytes, "find-mode scratch workspace");
    for (std::uint64_t off : plan_.offsets) scratch.tensors.push_back(reinterpret_cast<float*>(scratch_arena.data() + off));
    scratch.workspace = scratch_workspace.data();
    scratch.workspace_bytes = scratch_workspace.size();
    scratch.stream = stream.get();
  }

  const auto& layers = graph_.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = *layers[i];
    LayerScope scope(layer.name());
    if (fused_into_[i] >= 0) {
      ops_.push_back(std::make_unique<FoldedOp>(layers[static_cast<std::size_t>(fused_into_[i])]->name()));
    } else {
      OpBuildEnv env{graph_, static_cast<int>(i), options_, cudnn.get(), cublaslt.get(), *weights_, std::nullopt,
                     nullptr};
      auto next = std::find(fused_into_.begin(), fused_into_.end(), static_cast<int>(i));
      if (next != fused_into_.end()) {
        const auto& act = static_cast<const ActivationLayer&>(*layers[static_cast<std::size_t>(next - fused_into_.begin())]);
        env.fused_activation = act.params();
      }
      if (options_.algo == AlgoMode::Find) env.scratch = &scratch;
      ops_.push_back(make_gpu_op(env));
    }
    workspace_bytes_ = std::max(workspace_bytes_, ops_.back()->workspace_bytes());
    reports_.push_back({layer.name(), layer.op(), ops_.back()->describe(), ops_.back()->workspace_bytes()});
  }
  KILN_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
}

}  // namespace kiln::gpu
