#include "layers/activation/activation.h"

#include <sstream>

#include "base/errors.h"
#include "layers/activation/activation_math.h"
#include "layers/common.h"

namespace kiln {

namespace {

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void read_hardtanh(const LayerBuildContext& ctx, ActivationParams& p) {
  p.alpha = finite_attribute(ctx, "min_val", -1.0);
  p.beta = finite_attribute(ctx, "max_val", 1.0);
  if (p.alpha > p.beta) {
    ctx.fail_attribute("min_val", number(p.alpha) + " is greater than max_val " + number(p.beta));
  }
}

void read_softplus(const LayerBuildContext& ctx, ActivationParams& p) {
  p.alpha = finite_attribute(ctx, "beta", 1.0);
  if (!(p.alpha > 0.0)) {
    ctx.fail_attribute("beta", "must be positive, found " + number(p.alpha) + " (softplus divides by beta)");
  }
  p.beta = finite_attribute(ctx, "threshold", 20.0);
}

// PyTorch's channel is dimension 1; a 1-D input has one channel.
void read_prelu(const LayerBuildContext& ctx, ActivationParams& p) {
  const Shape& in = ctx.input_shape(0);
  const std::int64_t channels = in.size() >= 2 ? in[1] : 1;
  const std::int64_t n = int_attribute(ctx, "num_parameters", 1, 1, kMaxCount);
  if (n != 1 && n != channels) {
    ctx.fail_attribute("num_parameters", std::to_string(n) + " must be 1 (one slope for all channels) or the input's " +
                                             std::to_string(channels) + " channels (one slope each)");
  }
  p.slope = &ctx.weight("weight", {n},
                        n == 1 ? "num_parameters 1: one slope for all channels"
                               : "num_parameters " + std::to_string(n) + ": one slope per channel");
}

}  // namespace

std::unique_ptr<Layer> make_activation(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  const std::string& op = ctx.spec().op();
  ActivationParams p;
  if (op == "relu") {
    p.kind = ActivationKind::Relu;
  } else if (op == "leaky_relu") {
    p.kind = ActivationKind::LeakyRelu;
    p.alpha = finite_attribute(ctx, "negative_slope", 0.01);
  } else if (op == "sigmoid") {
    p.kind = ActivationKind::Sigmoid;
  } else if (op == "tanh") {
    p.kind = ActivationKind::Tanh;
  } else if (op == "elu") {
    p.kind = ActivationKind::Elu;
    p.alpha = finite_attribute(ctx, "alpha", 1.0);
  } else if (op == "relu6") {
    p.kind = ActivationKind::Relu6;
    p.alpha = 0.0;
    p.beta = 6.0;
  } else if (op == "hardtanh") {
    p.kind = ActivationKind::Hardtanh;
    read_hardtanh(ctx, p);
  } else if (op == "hardswish") {
    p.kind = ActivationKind::Hardswish;
  } else if (op == "hardsigmoid") {
    p.kind = ActivationKind::Hardsigmoid;
  } else if (op == "silu") {
    p.kind = ActivationKind::Silu;
  } else if (op == "gelu") {
    p.kind = ctx.attrs().get_choice("approximate", {"none", "tanh"}, "none") == "tanh" ? ActivationKind::GeluTanh
                                                                                      : ActivationKind::Gelu;
  } else if (op == "softplus") {
    p.kind = ActivationKind::Softplus;
    read_softplus(ctx, p);
  } else if (op == "mish") {
    p.kind = ActivationKind::Mish;
  } else if (op == "prelu") {
    p.kind = ActivationKind::Prelu;
    read_prelu(ctx, p);
  } else {
    ctx.fail("is not an activation op");
  }
  ctx.finish();
  return std::make_unique<ActivationLayer>(ctx, p);
}

const ActivationParams& activation_params(const Layer& layer) {
  const auto* a = dynamic_cast<const ActivationLayer*>(&layer);
  if (!a) throw ModelError(layer.origin().describe() + ": is not an activation layer");
  return a->params();
}

const char* activation_name(ActivationKind kind) {
  switch (kind) {
#define KILN_ACTIVATION_NAME(k, name) \
  case ActivationKind::k:             \
    return name;
    KILN_ACTIVATION_KINDS(KILN_ACTIVATION_NAME)
#undef KILN_ACTIVATION_NAME
  }
  return "activation";
}

ActivationLayer::ActivationLayer(const LayerBuildContext& ctx, const ActivationParams& params)
    : Layer(ctx, ctx.input_shape(0)), params_(params) {
  keep(params_.slope);
}

namespace {

// Prelu's weight as the CPU loop reads it: `channels` slopes (1: shared by all) for [N, C, inner...].
struct Slopes {
  const float* values = nullptr;
  std::int64_t channels = 1;
  std::int64_t inner = 1;
  float of(std::int64_t i) const { return values[channels == 1 ? 0 : (i / inner) % channels]; }
};

// The kind is a template argument, so each case is a plain loop over one formula.
template <ActivationKind K>
void apply(const float* x, float* y, std::int64_t n, float a, float b, const Slopes& slopes) {
  if constexpr (K == ActivationKind::Prelu) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = activate_as<K>(x[i], a, b, slopes.of(i));
  } else {
    for (std::int64_t i = 0; i < n; ++i) y[i] = activate_as<K>(x[i], a, b, 0.0f);
  }
}

}  // namespace

void ActivationLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const Shape shape = at_batch(output_shape(), args.batch);
  const std::int64_t n = elements(shape);
  const auto a = static_cast<float>(params_.alpha);
  const auto b = static_cast<float>(params_.beta);
  Slopes slopes;
  if (params_.slope) {
    slopes.values = args.weights->get(*params_.slope);
    slopes.channels = elements(params_.slope->shape);
    for (std::size_t d = 2; d < shape.size(); ++d) slopes.inner *= shape[d];
  }
  switch (params_.kind) {
#define KILN_ACTIVATION_APPLY(k, name)                                     \
  case ActivationKind::k:                                                  \
    apply<ActivationKind::k>(args.inputs[0], args.output, n, a, b, slopes); \
    break;
    KILN_ACTIVATION_KINDS(KILN_ACTIVATION_APPLY)
#undef KILN_ACTIVATION_APPLY
  }
}

}  // namespace kiln
