#include "layers/lrn/lrn.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_lrn(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  ctx.expect_rank(0, 4);
  LrnParams p;
  p.size = int_attribute(ctx, "size", 1, kMaxCount);
  p.alpha = finite_attribute(ctx, "alpha", 1e-4);
  p.beta = finite_attribute(ctx, "beta", 0.75);
  p.k = finite_attribute(ctx, "k", 1.0);
  ctx.finish();
  return std::make_unique<LrnLayer>(ctx, p);
}

LrnLayer::LrnLayer(const LayerBuildContext& ctx, const LrnParams& params)
    : Layer(ctx, ctx.input_shape(0)), params_(params) {}

// Evaluated in PyTorch's order: (sum / size) * alpha + k, then ^beta (it averages the zero-padded
// squares over `size` channels with avg_pool3d).
void LrnLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const std::int64_t C = output_shape()[1], plane = output_shape()[2] * output_shape()[3];
  const float size = static_cast<float>(params_.size), alpha = static_cast<float>(params_.alpha);
  const float beta = static_cast<float>(params_.beta), k = static_cast<float>(params_.k);
  std::vector<float> sum(static_cast<std::size_t>(plane));
  for (std::int64_t n = 0; n < args.batch; ++n) {
    const float* x = args.inputs[0] + n * C * plane;
    float* y = args.output + n * C * plane;
    for (std::int64_t c = 0; c < C; ++c) {
      const std::int64_t lo = std::max<std::int64_t>(0, c - params_.size / 2);
      const std::int64_t hi = std::min(C - 1, c + (params_.size - 1) / 2);
      std::fill(sum.begin(), sum.end(), 0.0f);
      for (std::int64_t cc = lo; cc <= hi; ++cc) {
        const float* xc = x + cc * plane;
        for (std::int64_t i = 0; i < plane; ++i) sum[i] += xc[i] * xc[i];
      }
      const float* xc = x + c * plane;
      float* yc = y + c * plane;
      for (std::int64_t i = 0; i < plane; ++i) yc[i] = xc[i] / std::pow(sum[i] / size * alpha + k, beta);
    }
  }
}

}  // namespace kiln
