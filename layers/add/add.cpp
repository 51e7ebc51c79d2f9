#include "layers/add/add.h"

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_add(const LayerBuildContext& ctx) {
  ctx.expect_min_input_count(2);
  const Shape& first = ctx.input_shape(0);
  for (std::size_t i = 1; i < ctx.input_shapes().size(); ++i)
    if (ctx.input_shape(i) != first)
      ctx.fail("input " + std::to_string(i) + " '" + ctx.spec().inputs[i] + "' has shape " +
               shape_to_string(ctx.input_shape(i)) + ", input 0 '" + ctx.spec().inputs[0] + "' has " +
               shape_to_string(first) + "; add needs equal shapes");
  ctx.finish();
  return std::make_unique<AddLayer>(ctx);
}

AddLayer::AddLayer(const LayerBuildContext& ctx) : Layer(ctx, ctx.input_shape(0)) {}

void AddLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const std::int64_t n = elements(at_batch(output_shape(), args.batch));
  float* y = args.output;
  const float* a = args.inputs[0];
  const float* b = args.inputs[1];
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
  for (std::size_t k = 2; k < args.inputs.size(); ++k) {
    const float* x = args.inputs[k];
    for (std::int64_t i = 0; i < n; ++i) y[i] += x[i];
  }
}

}  // namespace kiln
