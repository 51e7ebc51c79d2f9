#include "engine/gpu/engine.h"

#include <algorithm>
#include <chrono>

#include "engine/gpu/check.h"
#include "engine/gpu/device_scope.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/memory.h"
#include "engine/gpu/op.h"
#include "engine/gpu/plan_cache_gpu.h"
#include "engine/gpu/weights.h"
#include "engine/model_dir.h"
#include "formats/manifest.h"
#include "formats/model_spec.h"
#include "layers/registry_gpu.h"

namespace kiln::gpu {

namespace {

constexpr std::uint64_t kArenaAlignment = 256;

// A layer whose work its producer does (an activation folded in as the producer's epilogue).
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

struct GpuEngine::Declared {
  std::vector<const GpuOpKind*> kinds;
  std::vector<OpDeclaration> ops;
};

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

std::vector<std::shared_ptr<const GpuEngine>> GpuEngine::load_replicas(const std::string& model,
                                                                       const std::vector<int>& devices,
                                                                       const GpuEngineOptions& options,
                                                                       const GraphBuildOptions& graph_options) {
  if (devices.empty()) throw UsageError("GpuEngine::load_replicas: no devices given");
  auto phase = std::chrono::steady_clock::now();
  const ModelSpec spec = read_model(resolve_model_yaml(model));
  const Manifest manifest = read_manifest(spec.manifest_path);
  double parse_ms = ms_since(phase);
  std::shared_ptr<const StagedWeights> staged;
  // One cache for every replica: its keys name the GPU, so a replica on a GPU like an earlier one's finds
  // that one's choices in memory instead of choosing (and compiling) them again.
  const auto cache = std::make_shared<PlanCache>(options.plan_cache);
  std::vector<std::shared_ptr<const GpuEngine>> engines;
  for (const int device : devices) {
    phase = std::chrono::steady_clock::now();
    Graph graph = Graph::build(spec, manifest, graph_options);
    parse_ms += ms_since(phase);
    GpuEngineOptions placed = options;
    placed.device = device;
    auto engine = std::shared_ptr<GpuEngine>(new GpuEngine(std::move(graph), placed, &staged, cache));
    engine->timings_.parse_ms = parse_ms;  // the first: reading the files; the others: building their graph
    parse_ms = 0;
    engines.push_back(std::move(engine));
  }
  return engines;
}

// With its device current (Note [device discipline]): the ops and the weights are that device's.
GpuEngine::~GpuEngine() {
  const DeviceScope scope(options_.device, kNoThrow);
  release_device_resources();
}

void GpuEngine::release_device_resources() noexcept {
  ops_.clear();
  weights_.reset();
}
ShapeVariant::ShapeVariant() = default;
ShapeVariant::~ShapeVariant() = default;

std::uint64_t GpuEngine::weight_bytes() const { return weights_ ? weights_->bytes() : 0; }

GpuEngine::GpuEngine(Graph graph, const GpuEngineOptions& options, std::shared_ptr<const StagedWeights>* staged,
                     std::shared_ptr<PlanCache> shared_cache)
    : graph_(std::move(graph)), options_(options) {
  auto phase = std::chrono::steady_clock::now();
  choose_device();
  const DeviceScope on_device(options_.device);  // the caller's device again on return (Note [device discipline])
  try {
    plan_cache_ = shared_cache ? std::move(shared_cache) : std::make_shared<PlanCache>(options_.plan_cache);
    plan_ref_ = std::make_unique<PlanCacheRef>();
    plan_ref_->cache = plan_cache_.get();
    plan_ref_->scope = device_fingerprint(options_.device) + "|" + precision_name(options_.precision) +
                       (options_.precision == Precision::Fp32 && options_.fp32_transforms ? "+transforms" : "");
    timings_.device_ms = ms_since(phase);

    phase = std::chrono::steady_clock::now();
    if (!options_.fp32_layers.empty() && options_.precision != Precision::Fp16) {
      throw UsageError("fp32 layers '" + options_.fp32_layers + "': only an fp16 engine keeps layers in float32 (this one is " +
                       precision_name(options_.precision) + ")");
    }
    const std::vector<bool> selected = select_layers(graph_, options_.fp32_layers);
    declared_ = std::make_unique<Declared>();
    for (std::size_t i = 0; i < graph_.layers().size(); ++i) {
      const Layer& layer = *graph_.layers()[i];
      LayerScope scope(layer.name());
      const GpuOpKind& kind = gpu_op_kind(layer);
      declared_->kinds.push_back(&kind);
      declared_->ops.push_back(kind.declare(layer, selected[i] ? Precision::Fp32 : options_.precision));
    }
    decide_fusion();
    decide_precision_from(selected);
    if (mixed_.any_fp32()) {
      plan_ref_fp32_ = std::make_unique<PlanCacheRef>();
      plan_ref_fp32_->cache = plan_cache_.get();
      plan_ref_fp32_->scope = device_fingerprint(options_.device) + "|fp32";
      description_ += " (" + std::to_string(fp32_layer_count()) + " of " + std::to_string(graph_.layers().size()) +
                      " layers fp32)";
    }
    upload_weights(staged);
    timings_.upload_ms = ms_since(phase);

    phase = std::chrono::steady_clock::now();
    plan_arena();
    build_ops();
    timings_.select_ms = ms_since(phase);
  } catch (...) {
    release_device_resources();  // with the device still current
    throw;
  }
}

void GpuEngine::choose_device() {
  int count = 0;
  KILN_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (options_.device < 0 || options_.device >= count) {
    throw UsageError("GPU device " + std::to_string(options_.device) + " does not exist (" + std::to_string(count) +
                     " visible)");
  }
  // The primary context is made here (this phase's time), without changing the caller's current device.
  KILN_CUDA_CHECK(cudaInitDevice(options_.device, 0, 0));
  cudaDeviceProp prop{};
  KILN_CUDA_CHECK(cudaGetDeviceProperties(&prop, options_.device));
  description_ = "gpu " + std::to_string(options_.device) + ": " + prop.name + ", cuDNN " + cudnn_version_string() +
                 ", " + precision_name(options_.precision) + ", " + algo_mode_name(options_.algo);
}

void GpuEngine::upload_weights(std::shared_ptr<const StagedWeights>* staged) {
  std::vector<WeightRequest> requests;
  for (const OpDeclaration& d : declared_->ops) requests.insert(requests.end(), d.weights.begin(), d.weights.end());
  if (!staged) {
    weights_ = std::make_unique<DeviceWeights>(graph_.manifest(), requests, options_.precision);
    return;
  }
  if (!*staged || !(*staged)->serves(requests, options_.precision)) {
    *staged = std::make_shared<const StagedWeights>(graph_.manifest(), requests, options_.precision);
  }
  weights_ = std::make_unique<DeviceWeights>(**staged);
}

// Fusion from the declarations alone (engine/fusion.h has the rules). Off with options_.fuse false and
// when every layer's own output must exist.
void GpuEngine::decide_fusion() {
  std::vector<FusionTraits> traits;
  for (const OpDeclaration& d : declared_->ops) {
    FusionTraits t;
    if (options_.fuse && !options_.keep_all_layer_outputs) t = {d.accepts_epilogues, d.epilogue_kind};
    traits.push_back(t);
  }
  fusion_ = plan_fusion(graph_, traits, options_.fuse_residual);
}

void GpuEngine::decide_precision_from(const std::vector<bool>& selected) {
  std::vector<bool> is_view;
  for (const OpDeclaration& d : declared_->ops) is_view.push_back(d.output == OutputStorage::ViewOfInput);
  mixed_ = plan_mixed_precision(graph_, fusion_, selected, is_view);
  check_selection_takes_effect(graph_, fusion_, selected, mixed_);
  // A layer that runs otherwise than selected (folded into a producer of the other kind, a view of a
  // tensor of the other kind) declares again at the precision it runs at; fusion was decided on its
  // first declaration, which must still hold.
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (mixed_.layer_fp32[i] == selected[i]) continue;
    const Layer& layer = *graph_.layers()[i];
    LayerScope scope(layer.name());
    OpDeclaration d = declared_->kinds[i]->declare(layer, layer_precision(static_cast<int>(i)));
    if (fusion_.folded_into[i] >= 0 && d.epilogue_kind != declared_->ops[i].epilogue_kind) {
      throw ModelError(layer.origin().describe() + ": cannot run as the epilogue of " +
                       graph_.layers()[static_cast<std::size_t>(fusion_.folded_into[i])]->name() + " in " +
                       precision_name(layer_precision(fusion_.folded_into[i])) +
                       "; move the fp32 layers' boundary so that both are on one side");
    }
    declared_->ops[i] = std::move(d);
  }
}

Precision GpuEngine::layer_precision(int layer) const {
  return mixed_.layer_fp32.at(static_cast<std::size_t>(layer)) ? Precision::Fp32 : options_.precision;
}

Precision GpuEngine::tensor_precision(int tensor) const {
  return mixed_.tensor_fp32.at(static_cast<std::size_t>(tensor)) ? Precision::Fp32 : options_.precision;
}

int GpuEngine::fp32_layer_count() const {
  return static_cast<int>(std::count(mixed_.layer_fp32.begin(), mixed_.layer_fp32.end(), true));
}

const PlanCacheRef& GpuEngine::plan_cache_ref(int layer) const {
  return layer_precision(layer) == options_.precision || !plan_ref_fp32_ ? *plan_ref_ : *plan_ref_fp32_;
}

std::string GpuEngine::describe_tensor(int tensor) const {
  const int graph_tensors = static_cast<int>(graph_.tensors().size());
  if (tensor < graph_tensors) return graph_.describe_tensor(tensor);
  const PrecisionConversion& c = mixed_.conversions.at(static_cast<std::size_t>(tensor - graph_tensors));
  return std::string("the ") + (c.to_fp32 ? "float32" : "half") + " copy of " + graph_.describe_tensor(c.source);
}

// The one memory plan of the engine: every tensor's bytes from the precision's storage policy
// (activation_bytes), views and in-place outputs from the declarations, folded layers as views of their
// producer's output. With keep_all_layer_outputs every tensor lives to the end and nothing is reused.
void GpuEngine::plan_arena() {
  std::vector<PlanTensor> tensors = plan_tensors_with_copies(graph_, mixed_);  // the lifetimes
  const int steps = static_cast<int>(graph_.layers().size());
  const std::size_t graph_tensors = graph_.tensors().size();
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    PlanTensor& p = tensors[t];
    p.alias_of = -1;
    p.in_place_of = -1;
    if (t >= graph_tensors) {  // a converted copy
      const int source = mixed_.conversions[t - graph_tensors].source;
      p.bytes = activation_bytes(graph_.tensors()[static_cast<std::size_t>(source)].shape, tensor_precision(static_cast<int>(t)));
      continue;
    }
    const GraphTensor& gt = graph_.tensors()[t];
    p.bytes = activation_bytes(gt.shape, tensor_precision(static_cast<int>(t)));
    if (gt.producer < 0) continue;
    const auto layer = static_cast<std::size_t>(gt.producer);
    const int input0 = mixed_.inputs[layer].at(0);  // a copy when converted
    if (fusion_.folded_into[layer] >= 0) {
      p.alias_of = graph_.output_tensor_of(fusion_.folded_into[layer]);
    } else if (declared_->ops[layer].output == OutputStorage::ViewOfInput) {
      p.alias_of = input0;  // a view has its input's precision: never a copy
    } else if (declared_->ops[layer].output == OutputStorage::MayOverwriteInput &&
               static_cast<std::size_t>(input0) < graph_tensors) {
      p.in_place_of = input0;  // not over a copy: it is made in the same step
    }
  }
  if (options_.keep_all_layer_outputs) {
    for (PlanTensor& p : tensors) {
      p.last_step = steps;
      p.in_place_of = -1;
    }
  }
  try {
    plan_ = plan_memory(tensors, steps, kArenaAlignment);
  } catch (const PlanTensorError& e) {
    throw ModelError(describe_tensor(static_cast<int>(e.tensor())) + ": cannot plan its memory in " +
                     precision_name(tensor_precision(static_cast<int>(e.tensor()))) + ": " + e.problem() + " (at max batch " +
                     std::to_string(graph_.max_batch()) + ")");
  }
}

void GpuEngine::build_ops() {
  // Find mode times candidates on a scratch arena laid out like a context's.
  DeviceBuffer scratch_arena;
  DeviceBuffer scratch_workspace;
  FindScratch scratch;
  Stream stream = make_stream();
  if (options_.algo == AlgoMode::Find) {
    scratch_arena = DeviceBuffer(plan_.arena_bytes, "find-mode scratch arena");
    KILN_CUDA_CHECK(cudaMemsetAsync(scratch_arena.data(), 0, scratch_arena.size(), stream.get()));
    scratch_workspace = DeviceBuffer(options_.workspace_cap_bytes, "find-mode scratch workspace");
    for (std::uint64_t off : plan_.offsets) scratch.tensors.push_back(scratch_arena.data() + off);
    scratch.workspace = scratch_workspace.data();
    scratch.workspace_bytes = scratch_workspace.size();
    scratch.stream = stream.get();
    KILN_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
  }
  workspace_bytes_ = build_ops_for(graph_, options_, options_.algo == AlgoMode::Find ? &scratch : nullptr, ops_,
                                   &reports_);
}

std::uint64_t GpuEngine::build_ops_for(const Graph& graph, const GpuEngineOptions& options,
                                       const FindScratch* scratch, std::vector<std::unique_ptr<GpuOp>>& ops,
                                       std::vector<LayerReport>* reports) const {
  CudnnHandle cudnn = make_cudnn_handle();
  CublasLtHandle cublaslt = make_cublaslt_handle();
  // Find mode times candidates with events on the scratch's stream: the handle must run them there.
  Stream own = scratch ? Stream() : make_stream();
  const cudaStream_t stream = scratch ? scratch->stream : own.get();
  KILN_CUDNN_CHECK(cudnnSetStream(cudnn.get(), stream));
  std::uint64_t workspace = 0;
  // The float32 layers of a mixed engine build as in an fp32 engine (exact: no transform engines).
  GpuEngineOptions fp32_options = options;
  fp32_options.precision = Precision::Fp32;
  fp32_options.fp32_transforms = false;
  const auto& layers = graph.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = *layers[i];
    LayerScope scope(layer.name());
    if (fusion_.folded_into[i] >= 0) {
      ops.push_back(std::make_unique<FoldedOp>(layers[static_cast<std::size_t>(fusion_.folded_into[i])]->name()));
    } else {
      const int index = static_cast<int>(i);
      const bool own_precision = layer_precision(index) == options.precision;
      OpBuildEnv env{layer,   mixed_.inputs[i], graph.output_tensor_of(index), graph.max_batch(),
                     own_precision ? options : fp32_options,
                     cudnn.get(),   cublaslt.get(), *weights_,
                     nullptr,       scratch,        nullptr,
                     &plan_cache_ref(index)};
      for (const int folded : fusion_.epilogues[i]) {
        const Layer* f = layers[static_cast<std::size_t>(folded)].get();
        const bool is_residual_add = fusion_.residual[i] >= 0 && env.residual_add == nullptr;  // the add comes first
        if (is_residual_add) {
          env.residual_add = f;
          // A variant's tensors have the engine's indices (check_variant), so the engine's plan applies.
          env.residual = mixed_.residual[i];  // a copy when converted
        } else {
          env.epilogue = f;
        }
      }
      if (&graph != &graph_) env.like = ops_[i].get();  // a variant: the op at the engine's own shapes
      ops.push_back(declared_->kinds[i]->build(env));
    }
    workspace = std::max(workspace, ops.back()->workspace_bytes());
    if (reports) {
      // A mixed engine says which layers run in float32 and which convert an input first.
      std::string how = ops.back()->describe();
      if (mixed_.any_fp32() && layer_precision(static_cast<int>(i)) != options_.precision) how += " [fp32]";
      int converted = 0;
      for (const PrecisionConversion& c : mixed_.conversions) converted += c.step == static_cast<int>(i);
      if (converted > 0) how += " [converts " + std::to_string(converted) + " input(s) first]";
      reports->push_back({layer.name(), layer.op(), how, ops.back()->workspace_bytes()});
    }
  }
  KILN_CUDA_CHECK(cudaStreamSynchronize(stream));
  return workspace;
}

// A variant runs in the arena and with the fusion decisions of the engine's own shapes, so each of its
// layers must store its output as at those shapes, fold the same epilogues, bind weights that were
// uploaded, and fit every tensor in its block.
void GpuEngine::check_variant(const Graph& variant) const {
  const std::string at = " at input shapes " + [&] {
    std::string s;
    for (const Shape& shape : variant.input_shapes()) s += (s.empty() ? "" : ", ") + shape_to_string(shape);
    return s;
  }();
  for (std::size_t t = 0; t < mixed_.tensor_fp32.size(); ++t) {
    // A converted copy is as large as its source, in the copy's precision.
    const std::size_t shaped = t < variant.tensors().size() ? t : static_cast<std::size_t>(mixed_.conversions[t - variant.tensors().size()].source);
    const Precision p = tensor_precision(static_cast<int>(t));
    const std::uint64_t need = activation_bytes(variant.tensors()[shaped].shape, p);
    const std::uint64_t have = activation_bytes(graph_.tensors()[shaped].shape, p);
    if (need > have) {
      throw ModelError((t < variant.tensors().size() ? variant.describe_tensor(static_cast<int>(t)) : describe_tensor(static_cast<int>(t))) + at + " needs " + std::to_string(need) +
                       " bytes, more than the " + std::to_string(have) +
                       " planned for the engine's own input shapes (an output that shrinks as its input grows)");
    }
  }
  const auto& layers = variant.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const OpDeclaration d = declared_->kinds[i]->declare(*layers[i], layer_precision(static_cast<int>(i)));
    const OpDeclaration& own = declared_->ops[i];
    bool same = d.output == own.output && d.accepts_epilogues == own.accepts_epilogues &&
                d.epilogue_kind == own.epilogue_kind;
    for (const WeightRequest& r : d.weights) same = same && weights_->has(r);
    if (!same) {
      throw ModelError(layers[i]->origin().describe() + at + ": the GPU op would store its output or bind its " +
                       "weights differently than at the engine's own input shapes, which its memory plan is " +
                       "made for; narrow the export's --dynamic-hw range");
    }
  }
}

std::unique_ptr<ShapeVariant> GpuEngine::build_variant(const std::vector<Shape>& input_shapes,
                                                      const FindScratch* scratch) const {
  const auto start = std::chrono::steady_clock::now();
  if (options_.algo == AlgoMode::Find && !scratch) {
    throw UsageError("GpuEngine::build_variant: find mode needs a scratch arena to time candidates on");
  }
  auto v = std::make_unique<ShapeVariant>();
  v->graph = graph_.at_input_shapes(input_shapes);
  check_variant(v->graph);
  const DeviceScope scope(options_.device);
  // Plans within the workspace every context already has: a context never grows.
  GpuEngineOptions options = options_;
  options.workspace_cap_bytes = std::min(options_.workspace_cap_bytes, workspace_bytes_);
  v->workspace_bytes = build_ops_for(v->graph, options, scratch, v->ops, nullptr);
  for (std::size_t i = 0; i < v->ops.size(); ++i) {
    if (v->ops[i]->workspace_bytes() > workspace_bytes_) {
      throw ModelError(v->graph.layers()[i]->origin().describe() + ": needs " +
                       std::to_string(v->ops[i]->workspace_bytes()) + " bytes of workspace at these input shapes, " +
                       "more than the " + std::to_string(workspace_bytes_) + " every context of this engine has");
    }
  }
  v->build_ms = ms_since(start);
  return v;
}

}  // namespace kiln::gpu
