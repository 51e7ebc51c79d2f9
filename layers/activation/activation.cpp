#include "layers/activation/activation.h"

#include <cmath>

#include "base/errors.h"
#include "layers/common.h"

namespace kiln {

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

ActivationLayer::ActivationLayer(const LayerBuildContext& ctx, const ActivationParams& params)
    : Layer(ctx, ctx.input_shape(0)), params_(params) {}

namespace {
template <typename F>
void apply(const float* x, float* y, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}
}  // namespace

void ActivationLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const std::int64_t n = elements(at_batch(output_shape(), args.batch));
  const float* x = args.inputs[0];
  float* y = args.output;
  const float a = static_cast<float>(params_.alpha);
  switch (params_.kind) {
    case ActivationKind::Relu:
      apply(x, y, n, [](float v) { return v < 0.0f ? 0.0f : v; });  // keeps NaN, like PyTorch
      break;
    case ActivationKind::LeakyRelu:
      apply(x, y, n, [a](float v) { return v > 0.0f ? v : v * a; });
      break;
    case ActivationKind::Sigmoid:
      apply(x, y, n, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
      break;
    case ActivationKind::Tanh:
      apply(x, y, n, [](float v) { return std::tanh(v); });
      break;
    case ActivationKind::Elu:
      apply(x, y, n, [a](float v) { return v > 0.0f ? v : a * std::expm1(v); });
      break;
  }
}

}  // namespace kiln
