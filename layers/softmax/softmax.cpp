#include "layers/softmax/softmax.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_softmax(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  const Shape& in = ctx.input_shape(0);
  if (in.size() != 2 && in.size() != 4)
    ctx.fail("input '" + ctx.spec().inputs[0] + "' must be 2-D or 4-D, found shape " + shape_to_string(in));
  const std::int64_t axis = ctx.attrs().get_int("axis", 1);
  if (axis != 1) ctx.fail_attribute("axis", "is " + std::to_string(axis) + "; only 1 (channels) is supported");
  ctx.finish();
  return std::make_unique<SoftmaxLayer>(ctx);
}

SoftmaxLayer::SoftmaxLayer(const LayerBuildContext& ctx) : Layer(ctx, ctx.input_shape(0)) {}

// Works plane by plane (all spatial positions of one channel at a time) so the inner loops are
// contiguous for NCHW; for 2-D inputs a "plane" is one value.
void SoftmaxLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const Shape& s = output_shape();
  const std::int64_t C = s[1], plane = s.size() == 4 ? s[2] * s[3] : 1;
  std::vector<float> top(static_cast<std::size_t>(plane)), sum(static_cast<std::size_t>(plane));
  for (std::int64_t n = 0; n < args.batch; ++n) {
    const float* x = args.inputs[0] + n * C * plane;
    float* y = args.output + n * C * plane;
    std::copy(x, x + plane, top.begin());
    for (std::int64_t c = 1; c < C; ++c)
      for (std::int64_t i = 0; i < plane; ++i) top[i] = std::max(top[i], x[c * plane + i]);
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < plane; ++i) {
        const float e = std::exp(x[c * plane + i] - top[i]);
        y[c * plane + i] = e;
        sum[i] += e;
      }
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < plane; ++i) y[c * plane + i] /= sum[i];
  }
}

}  // namespace kiln
