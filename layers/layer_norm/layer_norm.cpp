#include "layers/layer_norm/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_layer_norm(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  const Shape& in = ctx.input_shape(0);
  if (in.size() != 2 && in.size() != 4)
    ctx.fail("input '" + ctx.spec().inputs[0] + "' must be 2-D or 4-D, found shape " + shape_to_string(in));
  LayerNormParams p;
  p.eps = finite_attribute(ctx, "eps", 1e-5);
  if (!(p.eps > 0.0)) ctx.fail_attribute("eps", "must be > 0, found " + std::to_string(p.eps));
  const std::int64_t c = in[1];
  const std::string why = "one per channel; the input has " + std::to_string(c) + " channels";
  const TensorEntry* weight = ctx.optional_weight("weight", {c}, why);
  const TensorEntry* bias = ctx.optional_weight("bias", {c}, why);
  ctx.finish();
  return std::make_unique<LayerNormLayer>(ctx, p, weight, bias);
}

LayerNormLayer::LayerNormLayer(const LayerBuildContext& ctx, const LayerNormParams& params, const TensorEntry* weight,
                               const TensorEntry* bias)
    : Layer(ctx, ctx.input_shape(0)), params_(params), weight_(keep(weight)), bias_(keep(bias)) {}

// Two passes in double per position (mean, then the mean squared deviation), so the reference is
// accurate however far the mean lies from 0; PyTorch's float result is within ~1e-6 of it. Works
// plane by plane so the inner loops are contiguous in NCHW; for 2-D inputs a plane is one value.
void LayerNormLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const Shape& s = output_shape();
  const std::int64_t C = s[1], plane = s.size() == 4 ? s[2] * s[3] : 1;
  const float* weight = weight_ ? args.weights->get(*weight_) : nullptr;
  const float* bias = bias_ ? args.weights->get(*bias_) : nullptr;
  std::vector<double> mean(static_cast<std::size_t>(plane)), inv(static_cast<std::size_t>(plane));
  for (std::int64_t n = 0; n < args.batch; ++n) {
    const float* x = args.inputs[0] + n * C * plane;
    float* y = args.output + n * C * plane;
    std::fill(mean.begin(), mean.end(), 0.0);
    std::fill(inv.begin(), inv.end(), 0.0);
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < plane; ++i) mean[i] += x[c * plane + i];
    for (std::int64_t i = 0; i < plane; ++i) mean[i] /= static_cast<double>(C);
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < plane; ++i) {
        const double d = x[c * plane + i] - mean[i];
        inv[i] += d * d;
      }
    for (std::int64_t i = 0; i < plane; ++i) inv[i] = 1.0 / std::sqrt(inv[i] / static_cast<double>(C) + params_.eps);
    // Every channel of a position is read above, so writing y over x (in place) is safe.
    for (std::int64_t c = 0; c < C; ++c) {
      const double g = weight ? weight[c] : 1.0, b = bias ? bias[c] : 0.0;
      for (std::int64_t i = 0; i < plane; ++i)
        y[c * plane + i] = static_cast<float>((x[c * plane + i] - mean[i]) * inv[i] * g + b);
    }
  }
}

}  // namespace kiln
