#include "layers/batch_norm/batch_norm.h"

namespace kiln {

std::unique_ptr<Layer> make_batch_norm(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  ctx.expect_rank(0, 4);
  const std::int64_t c = ctx.input_shape(0)[1];
  const std::string why = "one per channel; the input has " + std::to_string(c) + " channels";
  const TensorEntry& scale = ctx.weight("scale", {c}, why);
  const TensorEntry& shift = ctx.weight("shift", {c}, why);
  ctx.finish();
  return std::make_unique<BatchNormLayer>(ctx, scale, shift);
}

BatchNormLayer::BatchNormLayer(const LayerBuildContext& ctx, const TensorEntry& scale, const TensorEntry& shift)
    : Layer(ctx, ctx.input_shape(0)), scale_(keep(&scale)), shift_(keep(&shift)) {}

void BatchNormLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const std::int64_t C = output_shape()[1], plane = output_shape()[2] * output_shape()[3];
  const float* scale = args.weights->get(*scale_);
  const float* shift = args.weights->get(*shift_);
  for (std::int64_t n = 0; n < args.batch; ++n)
    for (std::int64_t c = 0; c < C; ++c) {
      const float* x = args.inputs[0] + (n * C + c) * plane;
      float* y = args.output + (n * C + c) * plane;
      const float s = scale[c], t = shift[c];
      for (std::int64_t i = 0; i < plane; ++i) y[i] = x[i] * s + t;
    }
}

}  // namespace kiln
