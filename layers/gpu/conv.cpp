// conv2d and conv_transpose2d through cuDNN's graph API (engine/gpu/conv_graph.h).
//
// The convolution's epilogue is [bias add (if the layer has a bias), activation (if one was folded
// in)]. At load the op tries graphs that contain the whole epilogue, then a shorter prefix of it, down
// to the bare convolution; the first graph an allowed engine runs wins, and whatever part of the
// epilogue it lacks runs as one channel_affine_act kernel after it. Contexts rebuild the same graph
// for their batch sizes (falling back to shorter prefixes only if cuDNN refuses a shape).
//
// Fp16: the same graphs with half NHWC tensors and a KRSC filter whose channels are padded (or, for
// grouped convolutions with unaligned channels, made dense): Note [fp16 layout] in engine/gpu/layout.h.
// The bias is bound as padded half in the graph and as padded float for the epilogue kernel.
#include "engine/gpu/conv_graph.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/weights.h"
#include "layers/conv/conv2d.h"
#include "layers/gpu/kernels.h"
#include "layers/gpu/kernels_f16.h"
#include "layers/gpu/ops.h"

namespace kiln::gpu {

namespace {

const char* activation_name(ActivationKind k) {
  switch (k) {
    case ActivationKind::Relu:
      return "relu";
    case ActivationKind::LeakyRelu:
      return "leaky_relu";
    case ActivationKind::Sigmoid:
      return "sigmoid";
    case ActivationKind::Tanh:
      return "tanh";
    case ActivationKind::Elu:
      return "elu";
  }
  return "activation";
}

class PreparedConv final : public PreparedOp {
 public:
  // `y_shape`: as stored (Fp16: channels padded; the data NHWC).
  PreparedConv(ConvGraph graph, ConvPlan plan, BackendDescriptor pack, float* y, const float* bias,
               std::optional<ActivationParams> act, Shape y_shape, bool fp16)
      : graph_(std::move(graph)), plan_(std::move(plan)), pack_(std::move(pack)), y_(y), bias_(bias),
        act_(std::move(act)), y_shape_(std::move(y_shape)), fp16_(fp16) {}

  void run(const OpRunEnv& env) const override {
    KILN_CUDNN_CHECK(cudnnBackendExecute(env.cudnn, plan_.plan.get(), pack_.get()));
    if (!bias_ && !act_) return;
    if (fp16_) {
      launch_channel_affine_act_f16(y_, y_, nullptr, bias_, static_cast<std::int64_t>(element_count(y_shape_)),
                                    y_shape_[1], act_ ? &*act_ : nullptr, env.stream);
    } else {
      launch_channel_affine_act(y_, y_, nullptr, bias_, y_shape_[0], y_shape_[1], inner_size(y_shape_),
                                act_ ? &*act_ : nullptr, env.stream);
    }
  }

 private:
  ConvGraph graph_;
  ConvPlan plan_;
  BackendDescriptor pack_;
  float* y_;
  const float* bias_;                     // bias the graph lacks, else null
  std::optional<ActivationParams> act_;  // activation the graph lacks
  Shape y_shape_;
  bool fp16_;
};

class ConvOp final : public GpuOp {
 public:
  explicit ConvOp(const OpBuildEnv& env)
      : layer_(layer_as<ConvLayer>(env)),
        p_(layer_.params()),
        in_(env.inputs().at(0)),
        out_(env.output()),
        act_(env.fused_activation),
        precision_(env.options.precision),
        weight_alignment_(static_cast<std::int64_t>(env.weights.alignment())) {
    if (fp16()) {
      w_ = env.weights.form({&layer_.weight(), WeightForm::F16Filter, p_.groups});
      filter_ = fp16_filter_layout(layer_.weight().shape, p_.groups);
      if (layer_.bias()) {
        b_ = env.weights.form({layer_.bias(), WeightForm::F16Padded});
        b_epilogue_ = static_cast<const float*>(env.weights.form({layer_.bias(), WeightForm::F32Padded}));
      }
    } else {
      w_ = env.weights.f32(layer_.weight());
      b_epilogue_ = layer_.bias() ? env.weights.f32(*layer_.bias()) : nullptr;
      b_ = b_epilogue_;
    }
    if (p_.transposed && (p_.output_padding[0] >= p_.stride[0] || p_.output_padding[1] >= p_.stride[1])) {
      throw ModelError(layer_.origin().describe() +
                       ": output_padding >= stride is not supported on the GPU (cuDNN's data gradient needs "
                       "output_padding < stride)");
    }
    const int steps = epilogue_steps();
    std::string reasons;
    for (int k = steps; k >= 0; --k) {
      try {
        const ConvGraph g = build_conv_graph(env.cudnn, desc(layer_.input_shapes()[0], layer_.output_shape(), k));
        TimingBuffers timing;
        PlanRequest req{precision_, env.options.workspace_cap_bytes, nullptr, nullptr};
        if (env.scratch) {
          timing = {env.scratch->tensors[static_cast<std::size_t>(in_)], w_,
                    env.scratch->tensors[static_cast<std::size_t>(out_)], b_, env.scratch->workspace,
                    env.scratch->workspace_bytes, env.scratch->stream};
          req.timing = &timing;
        }
        std::string why;
        std::optional<ConvPlan> plan = select_conv_plan(env.cudnn, g, req, &why);
        if (plan) {
          fused_ = k;
          choice_ = plan->choice;
          workspace_ = static_cast<std::uint64_t>(plan->workspace);
          measured_ms_ = plan->measured_ms;
          return;
        }
        reasons += "[" + graph_name(k) + "] " + why + " ";
      } catch (const CudnnError& e) {  // this fusion pattern cannot be expressed: try a shorter one
        reasons += "[" + graph_name(k) + "] " + e.what() + " ";
      }
    }
    throw CudnnError("cuDNN", CUDNN_STATUS_NOT_SUPPORTED, "no engine runs this convolution",
                     std::string("select_conv_plan at ") + precision_name(precision_) + ": " + reasons,
                     source_location(__FILE__, __LINE__), layer_.name());
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    const Shape x = Layer::at_batch(layer_.input_shapes()[0], batch);
    const Shape y = Layer::at_batch(layer_.output_shape(), batch);
    std::string reasons;
    for (int k = fused_; k >= 0; --k) {
      try {
        ConvGraph g = build_conv_graph(env.cudnn, desc(x, y, k));
        const PlanRequest req{precision_, env.workspace_bytes, k == fused_ ? &choice_ : nullptr, nullptr};
        std::string why;
        std::optional<ConvPlan> plan = select_conv_plan(env.cudnn, g, req, &why);
        if (!plan) {
          reasons += "[" + graph_name(k) + "] " + why + " ";
          continue;
        }
        float* yp = env.tensor(out_);
        BackendDescriptor pack = make_variant_pack({env.tensor(in_), w_, yp, b_}, g.has_bias, env.workspace);
        const bool bias_in_graph = g.has_bias;
        const bool act_in_graph = act_ && k == epilogue_steps();
        return std::make_unique<PreparedConv>(std::move(g), std::move(*plan), std::move(pack), yp,
                                              bias_in_graph ? nullptr : b_epilogue_,
                                              act_in_graph ? std::nullopt : act_, stored(y), fp16());
      } catch (const CudnnError& e) {  // as at load: a shorter epilogue may still be expressible
        reasons += "[" + graph_name(k) + "] " + e.what() + " ";
      }
    }
    throw CudnnError("cuDNN", CUDNN_STATUS_NOT_SUPPORTED, "no engine runs this convolution at batch " + std::to_string(batch),
                     "select_conv_plan: " + reasons, source_location(__FILE__, __LINE__), layer_.name());
  }

  std::string describe() const override {
    std::string s = "cudnn graph " + choice_.name() + " (" + graph_name(fused_);
    const int steps = epilogue_steps();
    if (fused_ < steps) s += "; " + epilogue_name(fused_, steps) + " by epilogue kernel";
    if (measured_ms_ >= 0) s += "; " + std::to_string(measured_ms_) + " ms at max batch";
    return s + ")";
  }
  std::uint64_t workspace_bytes() const override { return workspace_; }

 private:
  int epilogue_steps() const { return (b_ ? 1 : 0) + (act_ ? 1 : 0); }

  // The epilogue steps [from, to) by name: "bias+relu".
  std::string epilogue_name(int from, int to) const {
    std::vector<std::string> names;
    if (b_) names.push_back("bias");
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
    if (act_ && k == epilogue_steps()) d.activation = act_;
    d.weight_alignment = weight_alignment_;
    d.data_alignment = 256;  // arena offsets (engine.cpp kArenaAlignment) on a cudaMalloc'd base
    return d;
  }

  const ConvLayer& layer_;
  ConvParams p_;
  int in_;
  int out_;
  const void* w_ = nullptr;                // filter (Fp16: KRSC half)
  const void* b_ = nullptr;                // bias as the graph reads it (Fp16: padded half)
  const float* b_epilogue_ = nullptr;      // bias as the epilogue kernel reads it (float; Fp16: padded)
  std::optional<ActivationParams> act_;
  Precision precision_;
  std::int64_t weight_alignment_;
  FilterLayout filter_;                    // Fp16 only
  int fused_ = 0;
  EngineChoice choice_;
  std::uint64_t workspace_ = 0;
  double measured_ms_ = -1.0;
};

}  // namespace

std::unique_ptr<GpuOp> make_conv_op(const OpBuildEnv& env) { return std::make_unique<ConvOp>(env); }

}  // namespace kiln::gpu
