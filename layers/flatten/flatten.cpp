#include "layers/flatten/flatten.h"

#include <algorithm>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_flatten(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  const Shape& in = ctx.input_shape(0);
  if (in.size() < 2)
    ctx.fail("input '" + ctx.spec().inputs[0] + "' must have at least 2 dimensions, found shape " +
             shape_to_string(in));
  ctx.finish();
  return std::make_unique<FlattenLayer>(ctx, Shape{in[0], elements(in) / in[0]});
}

FlattenLayer::FlattenLayer(const LayerBuildContext& ctx, Shape output_shape) : Layer(ctx, std::move(output_shape)) {}

void FlattenLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  if (args.output == args.inputs[0]) return;
  const std::int64_t n = args.batch * output_shape()[1];
  std::copy(args.inputs[0], args.inputs[0] + n, args.output);
}

}  // namespace kiln
