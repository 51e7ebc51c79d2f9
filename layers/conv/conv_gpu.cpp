// conv2d and conv_transpose2d on the GPU: cuDNN's graph API (layers/conv/conv_gpu_graph.h), except the
// transposed convolutions whose kernel equals their stride, which run as a GEMM (layers/conv/deconv_gemm_gpu.h),
// depthwise convolutions, which run as kiln's kernel (layers/conv/depthwise_gpu.h), convolutions with few
// channels, which run as kiln's direct kernel (layers/conv/direct_conv_gpu.h), fp16 stems, which run as
// im2col + GEMM (layers/conv/im2col_gemm_gpu.h), and 1x1 convolutions of a 1x1 input, which run as a
// GEMM (layers/conv/pointwise_gemm_gpu.h).
//
// The convolution's epilogue is [bias add (if the layer has a bias), residual add (if one was folded in:
// GpuEngineOptions::fuse_residual), activation (if one was folded in)]. At load the op tries graphs that
// contain the whole epilogue, then a shorter prefix of it, down to the bare convolution; the first graph
// an allowed engine runs wins, and whatever part of the epilogue it lacks runs after it as one
// affine_activation kernel (layers/activation) or, when the residual is among it, as the bias kernel
// (if the bias is missing too) and one add+activation kernel (layers/elementwise). Contexts rebuild the
// same graph for their batch sizes (falling back to shorter prefixes only if cuDNN refuses a shape).
// The paths that are not cuDNN graphs (depthwise, direct, GEMM) apply a folded residual add the same
// way: their own result, then the add+activation kernel (ResidualAfterOp).
//
// Fp16: the same graphs with half NHWC tensors and a KRSC filter whose channels are padded (or, for
// grouped convolutions with unaligned channels, made dense): Note [fp16 layout] in engine/gpu/layout.h.
// The bias is bound as padded half in the graph and as padded float for the epilogue kernel.
#include <vector>

#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "engine/gpu/timing.h"
#include "layers/activation/activation.h"
#include "layers/activation/affine_activation.h"
#include "layers/conv/conv.h"
#include "layers/conv/conv_gpu_graph.h"
#include "layers/conv/conv_gpu_plan_cache.h"
#include "layers/conv/deconv_gemm_gpu.h"
#include "layers/conv/depthwise_gpu.h"
#include "layers/conv/direct_conv_gpu.h"
#include "layers/conv/im2col_gemm_gpu.h"
#include "layers/conv/pointwise_gemm_gpu.h"
#include "layers/elementwise/elementwise_kernels.h"

namespace kiln::gpu {

namespace {

// y = act(y + residual) in place: the part of an epilogue after a convolution that did not fuse its
// residual add (`act` null for none).
void add_residual(const TensorView& y, const void* residual, const std::optional<ActivationParams>& act,
                  cudaStream_t stream) {
  const void* inputs[2] = {y.data, residual};
  launch_add(inputs, 2, y, stream, act ? &*act : nullptr);
}

// What the epilogue kernels do after a graph that lacks part of the epilogue (Note at the top).
struct EpilogueRest {
  TensorView y;                          // the output as stored
  const float* bias = nullptr;           // bias the graph lacks, else null
  const void* residual = nullptr;        // residual the graph lacks, else null
  std::optional<ActivationParams> act;  // activation the graph lacks
};

// One convolution: the plan, then the kernels for the rest of its epilogue.
void run_conv(cudnnHandle_t cudnn, cudaStream_t stream, const BackendDescriptor& plan, const BackendDescriptor& pack,
              const EpilogueRest& rest) {
  KILN_CUDNN_CHECK(cudnnBackendExecute(cudnn, plan.get(), pack.get()));
  if (rest.residual) {
    if (rest.bias) launch_affine_activation(rest.y, rest.y, nullptr, rest.bias, nullptr, stream);
    add_residual(rest.y, rest.residual, rest.act, stream);
  } else if (rest.bias || rest.act) {
    launch_affine_activation(rest.y, rest.y, nullptr, rest.bias, rest.act ? &*rest.act : nullptr, stream);
  }
}

class PreparedConv final : public PreparedOp {
 public:
  // `rest`: the part of the epilogue the graph lacks. A graph that lacks the residual lacks the activation
  // too (the epilogue is a prefix).
  PreparedConv(ConvGraph graph, ConvPlan plan, BackendDescriptor pack, EpilogueRest rest)
      : graph_(std::move(graph)), plan_(std::move(plan)), pack_(std::move(pack)), rest_(std::move(rest)) {}

  void run(const OpRunEnv& env) const override { run_conv(env.cudnn, env.stream, plan_.plan, pack_, rest_); }

 private:
  ConvGraph graph_;
  ConvPlan plan_;
  BackendDescriptor pack_;
  EpilogueRest rest_;
};

// The forms of a convolution's weights (Note [fp16 layout]): Fp16 binds the filter as padded KRSC half
// and the bias twice, as padded half for the graph and padded float for the epilogue kernel.
std::vector<WeightRequest> weight_forms(const ConvLayer& layer, Precision p) {
  if (p != Precision::Fp16) {
    std::vector<WeightRequest> r{{&layer.weight(), WeightForm::F32}};
    if (layer.bias()) r.push_back({layer.bias(), WeightForm::F32});
    return r;
  }
  std::vector<WeightRequest> r{{&layer.weight(), WeightForm::F16Filter, layer.params().groups}};
  if (layer.bias()) {
    r.push_back({layer.bias(), WeightForm::F16Padded});
    r.push_back({layer.bias(), WeightForm::F32Padded});
  }
  return r;
}

class ConvOp final : public GpuOp {
 public:
  // Another input size of a dynamic model in fp16 (OpBuildEnv::like): the fusion depth and engine config
  // chosen at the engine's own size, without a new search; prepare() finalizes that config for this size and
  // re-selects only if cuDNN refuses it, as for a smaller batch. A search per size would compile each
  // candidate plan again (cuDNN's runtime-fusion engines compile at finalize: seconds per size in fp16).
  ConvOp(const OpBuildEnv& env, const ConvOp& like) : ConvOp(env, Adopt{}) {
    sel_ = like.sel_;
    sel_.workspace = std::min(like.sel_.workspace, env.options.workspace_cap_bytes);
  }

  explicit ConvOp(const OpBuildEnv& env) : ConvOp(env, Adopt{}) { select(env); }

 private:
  struct Adopt {};
  // Binds the weights and checks what the GPU path supports; chooses nothing.
  ConvOp(const OpBuildEnv& env, Adopt)
      : layer_(layer_as<ConvLayer>(env.layer)),
        p_(layer_.params()),
        in_(env.inputs.at(0)),
        out_(env.output),
        residual_(env.residual),
        precision_(env.precision()),
        fp32_transforms_(env.options.fp32_transforms),
        weight_alignment_(static_cast<std::int64_t>(env.weights.alignment())) {
    if (env.epilogue) act_ = activation_params(*env.epilogue);
    const std::vector<WeightRequest> forms = weight_forms(layer_, precision_);
    w_ = env.weights.get(forms[0]);
    if (fp16()) filter_ = fp16_filter_layout(layer_.weight().shape, p_.groups);
    if (layer_.bias()) {
      b_ = env.weights.get(forms[1]);
      b_epilogue_ = static_cast<const float*>(env.weights.get(forms.back()));
    }
    if (p_.transposed && (p_.output_padding[0] >= p_.stride[0] || p_.output_padding[1] >= p_.stride[1])) {
      throw ModelError(layer_.origin().describe() +
                       ": output_padding >= stride is not supported on the GPU (cuDNN's data gradient needs "
                       "output_padding < stride)");
    }
  }

  // The search below, or its outcome for an identical layer from the plan cache (this load's, or an
  // earlier one's on the same GPU and libraries): a hit costs no cuDNN call at all.
  void select(const OpBuildEnv& env) {
    const int steps = epilogue_steps();
    const std::uint64_t cap = env.options.workspace_cap_bytes;
    std::string key;
    if (env.plans && env.plans->cache) {
      key = env.plans->key("conv-select", std::string(algo_mode_name(env.options.algo)) + "|cap=" + std::to_string(cap) +
                                              "|steps=" + std::to_string(steps) + "|" +
                                              conv_graph_signature(desc(layer_.input_shapes()[0], layer_.output_shape(), steps)));
      if (const std::optional<std::string> payload = env.plans->cache->get(key)) {
        if (const std::optional<ConvSelection> hit = decode_selection(*payload, steps, cap)) {
          sel_ = *hit;
          return;
        }
        env.plans->cache->reject(key, "not a convolution selection: '" + payload->substr(0, 80) + "'");
      }
    }
    const std::optional<ConvPlan> plan = search(env);
    if (key.empty()) return;
    env.plans->cache->put(key, encode_selection(sel_));
    // The first context's plans at max batch are this very graph and config: deserialized, not compiled again.
    if (plan) {
      store_conv_plan(*env.plans, conv_plan_key(*env.plans, desc(layer_.input_shapes()[0], layer_.output_shape(), sel_.fused), sel_.choice),
                      *plan);
    }
  }

  // Sets the fusion depth and engine config; returns the chosen graph's plan when the search kept it.
  std::optional<ConvPlan> search(const OpBuildEnv& env) {
    if (env.scratch) return tune(env, *env.scratch);
    const int steps = epilogue_steps();
    std::string reasons;
    // A fused graph that only cuDNN's fallback engines run loses to a shorter graph that a heuristic
    // engine runs plus the epilogue kernel (MobileNet's 1x1 conv+bias+relu6 ran on eng0 at 0.6 TFLOP/s:
    // benchmarks/NOTES.md), so such a plan is kept only until a shorter graph finds a real one.
    std::optional<ConvSelection> fallback;
    for (int k = steps; k >= 0; --k) {
      try {
        const ConvGraph g = build_conv_graph(env.cudnn, desc(layer_.input_shapes()[0], layer_.output_shape(), k));
        const PlanRequest req = request(env.options.workspace_cap_bytes, nullptr, nullptr);
        std::string why;
        std::optional<ConvPlan> plan = select_conv_plan(env.cudnn, g, req, &why);
        if (plan && plan->from_fallback && k > 0) {
          if (!fallback) fallback = ConvSelection{k, true, plan->choice, static_cast<std::uint64_t>(plan->workspace), -1.0};
          reasons += "[" + graph_name(k) + "] only on fallback engine " + plan->choice.name() + " ";
          continue;
        }
        if (plan && (!plan->from_fallback || !fallback)) {
          sel_ = {k, plan->from_fallback, plan->choice, static_cast<std::uint64_t>(plan->workspace), plan->measured_ms};
          return plan;
        }
        if (plan) break;  // the bare convolution is on a fallback engine too: keep the most fused one
        reasons += "[" + graph_name(k) + "] " + why + " ";
      } catch (const CudnnError& e) {  // this fusion pattern cannot be expressed: try a shorter one
        reasons += "[" + graph_name(k) + "] " + e.what() + " ";
      }
    }
    if (fallback) {
      sel_ = *fallback;
      return std::nullopt;
    }
    throw CudnnError("cuDNN", CUDNN_STATUS_NOT_SUPPORTED, "no engine runs this convolution",
                     std::string("select_conv_plan at ") + precision_name(precision_) + ": " + reasons,
                     source_location(__FILE__, __LINE__), layer_.name());
  }

  // Find mode (AlgoMode::Find): every fusion depth's fastest plan (select_conv_plan times the candidates)
  // is timed again with the kernels that do the rest of its epilogue, and the fastest total wins, so an
  // unfused graph plus one epilogue kernel can beat a fused graph that only a slow engine runs.
  std::optional<ConvPlan> tune(const OpBuildEnv& env, const FindScratch& scratch) {
    const auto tensor = [&](int i) { return scratch.tensors[static_cast<std::size_t>(i)]; };
    void* const yp = tensor(out_);
    const void* const residual = residual_ >= 0 ? tensor(residual_) : nullptr;
    const TimingBuffers timing{tensor(in_), w_, yp, b_, residual, scratch.workspace, scratch.workspace_bytes, scratch.stream};
    const PlanRequest req = request(env.options.workspace_cap_bytes, nullptr, &timing);
    const Shape& y = layer_.output_shape();
    std::optional<ConvPlan> best;
    std::string reasons;
    for (int k = epilogue_steps(); k >= 0; --k) {
      try {
        const ConvGraph g = build_conv_graph(env.cudnn, desc(layer_.input_shapes()[0], y, k));
        std::string why;
        std::optional<ConvPlan> plan = select_conv_plan(env.cudnn, g, req, &why);
        if (!plan) {
          reasons += "[" + graph_name(k) + "] " + why + " ";
          continue;
        }
        const EpilogueRest rest = this->rest(yp, y, k, residual);
        if (rest.bias || rest.residual || rest.act) {  // the plan alone was timed: time it with its kernels
          const BackendDescriptor pack =
              make_variant_pack({tensor(in_), w_, yp, b_, residual}, g.has_bias, g.has_residual, scratch.workspace);
          plan->measured_ms = time_per_run(scratch.stream, [&] { run_conv(env.cudnn, scratch.stream, plan->plan, pack, rest); },
                                           kFindRuns);
        }
        if (!best || plan->measured_ms < sel_.measured_ms) {
          sel_ = {k, plan->from_fallback, plan->choice, static_cast<std::uint64_t>(plan->workspace), plan->measured_ms};
          best = std::move(plan);
        }
      } catch (const CudnnError& e) {  // this fusion pattern cannot be expressed: try a shorter one
        reasons += "[" + graph_name(k) + "] " + e.what() + " ";
      }
    }
    if (best) return best;
    throw CudnnError("cuDNN", CUDNN_STATUS_NOT_SUPPORTED, "no engine runs this convolution",
                     std::string("select_conv_plan (find) at ") + precision_name(precision_) + ": " + reasons,
                     source_location(__FILE__, __LINE__), layer_.name());
  }

 public:
  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    const Shape x = Layer::at_batch(layer_.input_shapes()[0], batch);
    const Shape y = Layer::at_batch(layer_.output_shape(), batch);
    std::string reasons;
    void* yp = env.tensor(out_);
    for (int k = sel_.fused; k >= 0; --k) {
      try {
        const ConvGraphDesc d = desc(x, y, k);
        const bool cacheable = k == sel_.fused && sel_.choice.engine_id >= 0 && env.plans && env.plans->cache;
        const std::string key = cacheable ? conv_plan_key(*env.plans, d, sel_.choice) : std::string();
        bool known = false;
        if (cacheable) {
          if (std::optional<ConvPlan> plan =
                  cached_conv_plan(*env.plans, env.cudnn, key, sel_.choice, env.workspace_bytes, &known)) {
            BackendDescriptor pack =
                make_variant_pack({env.tensor(in_), w_, yp, b_, residual(env)}, d.bias, d.residual, env.workspace);
            return prepared(ConvGraph{}, std::move(*plan), std::move(pack), yp, y, k, residual(env));
          }
        }
        ConvGraph g = build_conv_graph(env.cudnn, d);
        const PlanRequest req = request(env.workspace_bytes, k == sel_.fused ? &sel_.choice : nullptr, nullptr);
        std::string why;
        std::optional<ConvPlan> plan = select_conv_plan(env.cudnn, g, req, &why);
        if (!plan) {
          reasons += "[" + graph_name(k) + "] " + why + " ";
          continue;
        }
        if (cacheable && !known && plan->choice.name() == sel_.choice.name()) store_conv_plan(*env.plans, key, *plan);
        BackendDescriptor pack =
            make_variant_pack({env.tensor(in_), w_, yp, b_, residual(env)}, g.has_bias, g.has_residual, env.workspace);
        return prepared(std::move(g), std::move(*plan), std::move(pack), yp, y, k, residual(env));
      } catch (const CudnnError& e) {  // as at load: a shorter epilogue may still be expressible
        reasons += "[" + graph_name(k) + "] " + e.what() + " ";
      }
    }
    throw CudnnError("cuDNN", CUDNN_STATUS_NOT_SUPPORTED, "no engine runs this convolution at batch " + std::to_string(batch),
                     "select_conv_plan: " + reasons, source_location(__FILE__, __LINE__), layer_.name());
  }

  // The prepared op for a graph of the first `k` epilogue steps: kernels do what the graph lacks.
  std::unique_ptr<PreparedOp> prepared(ConvGraph g, ConvPlan plan, BackendDescriptor pack, void* yp, const Shape& y,
                                       int k, const void* residual) const {
    return std::make_unique<PreparedConv>(std::move(g), std::move(plan), std::move(pack), rest(yp, y, k, residual));
  }

  // What the kernels do after a graph of the first `k` epilogue steps, on output `yp` of shape `y`.
  EpilogueRest rest(void* yp, const Shape& y, int k, const void* residual) const {
    const ConvGraphDesc d = desc(y, y, k);  // which steps the graph has (the shapes do not matter here)
    return {activation_view(yp, y, precision_), d.bias ? nullptr : b_epilogue_, d.residual ? nullptr : residual,
            d.activation ? std::nullopt : act_};
  }

  // The residual's device pointer in a context's arena, or null when none was folded in.
  const void* residual(const OpRunEnv& env) const { return residual_ >= 0 ? env.tensor(residual_) : nullptr; }

  std::string describe() const override {
    std::string s = "cudnn graph " + sel_.choice.name() + " (" + graph_name(sel_.fused);
    const int steps = epilogue_steps();
    if (sel_.fused < steps) s += "; " + epilogue_name(sel_.fused, steps) + " by epilogue kernel";
    if (sel_.measured_ms >= 0) s += "; " + std::to_string(sel_.measured_ms) + " ms at max batch";
    return s + ")";
  }
  std::uint64_t workspace_bytes() const override { return sel_.workspace; }
  // True when the chosen plan came from cuDNN's fallback list or runs on engine 0, its generic one
  // (which the heuristics also offer for depthwise graphs in NHWC half).
  bool on_generic_engine() const { return sel_.from_fallback || sel_.choice.engine_id == 0; }

 private:
  int epilogue_steps() const { return (b_ ? 1 : 0) + (residual_ >= 0 ? 1 : 0) + (act_ ? 1 : 0); }

  // The epilogue steps [from, to) by name: "bias+add+relu".
  std::string epilogue_name(int from, int to) const {
    std::vector<std::string> names;
    if (b_) names.push_back("bias");
    if (residual_ >= 0) names.push_back("add");
    if (act_) names.push_back(activation_name(act_->kind));
    std::string s;
    for (int i = from; i < to; ++i) s += (s.empty() ? "" : "+") + names[static_cast<std::size_t>(i)];
    return s;
  }
  std::string graph_name(int k) const {
    const std::string base = p_.transposed ? "dgrad" : "conv";
    return k == 0 ? base : base + "+" + epilogue_name(0, k) + " fused";
  }

  bool fp16() const { return precision_ == Precision::Fp16; }

  PlanRequest request(std::uint64_t workspace_cap, const EngineChoice* preferred, const TimingBuffers* timing) const {
    PlanRequest r;
    r.precision = precision_;
    r.fp32_transforms = fp32_transforms_;
    r.workspace_cap = workspace_cap;
    r.preferred = preferred;
    r.timing = timing;
    return r;
  }

  // NCHW dims with the channels as stored.
  Shape stored(const Shape& s) const {
    Shape out = s;
    out[1] = stored_channels(s, precision_);
    return out;
  }

  ConvGraphDesc desc(const Shape& x, const Shape& y, int k) const {
    ConvGraphDesc d;
    d.conv = p_;
    d.x = stored(x);
    d.y = stored(y);
    if (fp16()) {
      d.channels_last = true;
      d.w = Shape{filter_.k, filter_.c, filter_.r, filter_.s};
      d.io_type = CUDNN_DATA_HALF;
    }
    d.bias = b_ && k >= 1;
    d.residual = residual_ >= 0 && k >= (b_ ? 2 : 1);
    if (act_ && k == epilogue_steps()) d.activation = act_;
    d.weight_alignment = weight_alignment_;
    d.data_alignment = 256;  // arena offsets (engine.cpp kArenaAlignment) on a cudaMalloc'd base
    return d;
  }

  const ConvLayer& layer_;
  ConvParams p_;
  int in_;
  int out_;
  int residual_;                           // arena tensor of a folded residual add, or -1
  const void* w_ = nullptr;                // filter (Fp16: KRSC half)
  const void* b_ = nullptr;                // bias as the graph reads it (Fp16: padded half)
  const float* b_epilogue_ = nullptr;      // bias as the epilogue kernel reads it (float; Fp16: padded)
  std::optional<ActivationParams> act_;
  Precision precision_;
  bool fp32_transforms_;
  std::int64_t weight_alignment_;
  FilterLayout filter_;                    // Fp16 only
  ConvSelection sel_;  // what select() chose (or adopted), as the plan cache stores it
};

// A path other than cuDNN's graph (depthwise, direct, GEMM) with a folded residual add: the path runs
// without the activation, then one kernel adds the residual and applies it.
class ResidualAfterOp final : public GpuOp {
 public:
  ResidualAfterOp(std::unique_ptr<GpuOp> inner, const OpBuildEnv& env)
      : inner_(std::move(inner)),
        residual_(env.residual),
        out_(env.output),
        out_shape_(env.layer.output_shape()),
        precision_(env.precision()) {
    if (env.epilogue) act_ = activation_params(*env.epilogue);
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    std::shared_ptr<PreparedOp> inner = inner_->prepare(env, batch);
    const TensorView y = env.view(out_, out_shape_, batch, precision_);
    const void* residual = env.tensor(residual_);
    const std::optional<ActivationParams> act = act_;
    return prepared_call([inner, y, residual, act](const OpRunEnv& r) {
      if (inner) inner->run(r);
      add_residual(y, residual, act, r.stream);
    });
  }
  std::string describe() const override {
    return inner_->describe() + "; add" + (act_ ? std::string("+") + activation_name(act_->kind) : "") +
           " by the sum kernel";
  }
  std::uint64_t workspace_bytes() const override { return inner_->workspace_bytes(); }
  const GpuOp& inner() const { return *inner_; }

 private:
  std::unique_ptr<GpuOp> inner_;
  int residual_;
  int out_;
  Shape out_shape_;
  Precision precision_;
  std::optional<ActivationParams> act_;
};

OpDeclaration declare(const Layer& layer, Precision p) {
  OpDeclaration d;
  const ConvLayer& conv = layer_as<ConvLayer>(layer);
  d.weights = weight_forms(conv, p);
  // Both forms of a depthwise filter (a few KiB): which path runs is an engine option build() reads.
  if (is_depthwise(conv.params())) {
    for (const WeightRequest& r : depthwise_weight_forms(conv, p)) d.weights.push_back(r);
  }
  // Likewise the float filter of a layer kiln's direct kernel is offered for (at most 48 KiB).
  if (direct_conv_candidate(conv.params())) {
    for (const WeightRequest& r : direct_conv_weight_forms(conv, p)) d.weights.push_back(r);
  }
  // And the im2col rows of a stem the im2col GEMM is offered for.
  if (im2col_gemm_candidate(conv.params(), p)) {
    for (const WeightRequest& r : im2col_gemm_weight_forms(conv)) d.weights.push_back(r);
  }
  d.accepts_epilogues = kActivationEpilogue | kResidualAddEpilogue;
  return d;
}

// Chooses the path. ConvOp is built from `env`, every other path from `bare`: `env` without a residual
// add (and then without the activation, which comes after the add); build() wraps those.
std::unique_ptr<GpuOp> build_path(const OpBuildEnv& env, const OpBuildEnv& bare) {
  const ConvLayer& layer = layer_as<ConvLayer>(env.layer);
  // Another input size in fp16: cuDNN's graph where the engine's own size has it, with its choices (a
  // search would compile every candidate again). In fp32 and tf32 a search costs tens of milliseconds
  // and finds this size's best plan, so each size searches (benchmarks/NOTES.md, 2026-12-02).
  if (const auto* like = dynamic_cast<const ConvOp*>(env.like); like && env.precision() == Precision::Fp16) {
    return std::make_unique<ConvOp>(env, *like);
  }
  if (env.like && !dynamic_cast<const ConvOp*>(env.like) && is_depthwise(layer.params())) {
    return make_depthwise_op(bare);  // kiln's kernel at the engine's own size: the same here, no cuDNN trial
  }
  if (is_depthwise(layer.params())) {
    const DepthwiseAlgo how = env.options.depthwise;
    if (how == DepthwiseAlgo::Kiln) return make_depthwise_op(bare);
    if (how == DepthwiseAlgo::Auto && env.precision() == Precision::Fp16) {
      // cuDNN's graph where a specialised engine runs it, kiln's kernel where only the generic engine 0
      // (or nothing) does: Note [depthwise convolution].
      try {
        auto conv = std::make_unique<ConvOp>(env);
        if (!conv->on_generic_engine()) return conv;
      } catch (const CudnnError&) {
      }
      return make_depthwise_op(bare);
    }
  }
  if (is_pointwise_of_vector(layer.params(), layer.input_shapes()[0])) return make_pointwise_gemm_op(bare);
  if (is_direct_conv_op(env.like)) return make_direct_conv_op(bare);  // the engine's own size chose it
  // A forced direct kernel, then the im2col GEMM, then the direct kernel's Auto rule: under Auto a
  // stem takes the GEMM (Note [stem convolution as im2col GEMM]), a head the direct kernel.
  const DirectConvAlgo direct = env.options.direct_conv;
  if (direct == DirectConvAlgo::Kiln && direct_conv_candidate(layer.params())) return make_direct_conv_op(bare);
  const Im2colAlgo im2col = env.options.im2col;
  if (is_im2col_gemm_op(env.like) ||
      (im2col_gemm_candidate(layer.params(), env.precision()) &&
       (im2col == Im2colAlgo::Gemm || (im2col == Im2colAlgo::Auto && im2col_gemm_preferred(layer.params(), env.precision()))))) {
    const Im2colGemmPlan plan = plan_im2col_gemm(layer.params(), layer.output_shape(), env.precision(), env.max_batch,
                                                 env.options.workspace_cap_bytes);
    if (plan.eligible) return make_im2col_gemm_op(bare, plan);
  }
  if (direct == DirectConvAlgo::Auto && direct_conv_preferred(layer.params(), env.precision())) {
    return make_direct_conv_op(bare);
  }
  const DeconvAlgo mode = env.options.deconv;
  if (mode == DeconvAlgo::Gemm || (mode == DeconvAlgo::Auto && env.precision() != Precision::Fp16)) {
    const DeconvGemmPlan plan = plan_deconv_gemm(layer.params(), layer.output_shape(), env.precision(), env.max_batch,
                                                 env.options.workspace_cap_bytes);
    if (plan.eligible) return make_deconv_gemm_op(bare, plan);
  }
  return std::make_unique<ConvOp>(env);
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  OpBuildEnv own = env;
  // A variant's `like` is the engine's op, which for a wrapped path is the wrapper.
  if (const auto* wrapped = dynamic_cast<const ResidualAfterOp*>(env.like)) own.like = &wrapped->inner();
  if (own.residual < 0) return build_path(own, own);
  OpBuildEnv bare = own;
  bare.residual = -1;
  bare.residual_add = nullptr;
  bare.epilogue = nullptr;
  std::unique_ptr<GpuOp> op = build_path(own, bare);
  if (dynamic_cast<const ConvOp*>(op.get())) return op;  // cuDNN's graph applies the add itself
  return std::make_unique<ResidualAfterOp>(std::move(op), own);
}

}  // namespace

const GpuOpKind conv_gpu{&declare, &build};

}  // namespace kiln::gpu
