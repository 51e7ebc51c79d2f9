#include "layers/concat/concat.h"

#include <algorithm>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_concat(const LayerBuildContext& ctx) {
  ctx.expect_min_input_count(2);
  const std::int64_t axis = ctx.attrs().get_int("axis", 1);
  if (axis != 1) ctx.fail_attribute("axis", "is " + std::to_string(axis) + "; only 1 (channels) is supported");
  const Shape& first = ctx.input_shape(0);
  if (first.size() != 2 && first.size() != 4)
    ctx.fail("input 0 '" + ctx.spec().inputs[0] + "' must be 2-D or 4-D, found shape " + shape_to_string(first));
  Shape out = first;
  for (std::size_t i = 1; i < ctx.input_shapes().size(); ++i) {
    const Shape& s = ctx.input_shape(i);
    Shape a = s, b = first;
    if (s.size() == first.size()) a[1] = b[1] = 0;
    if (a != b)
      ctx.fail("input " + std::to_string(i) + " '" + ctx.spec().inputs[i] + "' has shape " + shape_to_string(s) +
               ", input 0 '" + ctx.spec().inputs[0] + "' has " + shape_to_string(first) +
               "; all dimensions but the channels (1) must match");
    out[1] += s[1];  // each term <= 2^40 (checked input shapes), so no overflow before Layer checks the sum
  }
  ctx.finish();
  return std::make_unique<ConcatLayer>(ctx, std::move(out));
}

ConcatLayer::ConcatLayer(const LayerBuildContext& ctx, Shape output_shape) : Layer(ctx, std::move(output_shape)) {}

void ConcatLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const Shape& s = output_shape();
  const std::int64_t inner = s.size() == 4 ? s[2] * s[3] : 1;
  for (std::int64_t n = 0; n < args.batch; ++n) {
    float* y = args.output + n * s[1] * inner;
    for (std::size_t k = 0; k < args.inputs.size(); ++k) {
      const std::int64_t block = input_shapes()[k][1] * inner;
      const float* x = args.inputs[k] + n * block;
      y = std::copy(x, x + block, y);
    }
  }
}

}  // namespace kiln
