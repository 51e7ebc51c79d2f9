#include "layers/linear/linear.h"

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_linear(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  const Shape& in = ctx.input_shape(0);
  if (in.size() != 2)
    ctx.fail("input '" + ctx.spec().inputs[0] + "' must be 2-D [N, in_features], found shape " +
             shape_to_string(in) + " (add a flatten layer before linear)");
  LinearParams p;
  p.in_features = in[1];
  p.out_features = int_attribute(ctx, "out_features", 1, kMaxCount);
  const TensorEntry& weight =
      ctx.weight("weight", {p.out_features, p.in_features},
                 "the input has " + std::to_string(p.in_features) + " features; layout [out_features, in_features]");
  const TensorEntry* bias = ctx.optional_weight("bias", {p.out_features}, "one per output feature");
  p.has_bias = bias != nullptr;
  ctx.finish();
  return std::make_unique<LinearLayer>(ctx, p, weight, bias);
}

LinearLayer::LinearLayer(const LayerBuildContext& ctx, const LinearParams& params, const TensorEntry& weight,
                         const TensorEntry* bias)
    : Layer(ctx, Shape{ctx.input_shape(0)[0], params.out_features}),
      params_(params),
      weight_(keep(&weight)),
      bias_(keep(bias)) {}

double LinearLayer::flops_per_sample() const {
  return 2.0 * static_cast<double>(params_.in_features) * static_cast<double>(params_.out_features);
}

void LinearLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const std::int64_t in = params_.in_features, out = params_.out_features;
  const float* w = args.weights->get(*weight_);
  const float* b = bias_ ? args.weights->get(*bias_) : nullptr;
  for (std::int64_t n = 0; n < args.batch; ++n) {
    const float* x = args.inputs[0] + n * in;
    float* y = args.output + n * out;
    for (std::int64_t o = 0; o < out; ++o) {
      const float* wr = w + o * in;
      float acc = 0.0f;
      for (std::int64_t i = 0; i < in; ++i) acc += wr[i] * x[i];
      y[o] = acc + (b ? b[o] : 0.0f);
    }
  }
}

}  // namespace kiln
