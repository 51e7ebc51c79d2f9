#include "layers/pool/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_pool(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  ctx.expect_rank(0, 4);
  const Shape& in = ctx.input_shape(0);
  const std::string& op = ctx.spec().op();
  PoolParams p;
  if (op == "global_avg_pool2d") {
    p.mode = PoolMode::GlobalAverage;
    p.kernel = {in[2], in[3]};
    ctx.finish();
    return std::make_unique<PoolLayer>(ctx, Shape{in[0], in[1], 1, 1}, p);
  }
  p.mode = op == "max_pool2d" ? PoolMode::Max : PoolMode::Average;
  p.kernel = pair_attribute(ctx, "kernel_size", 1, kMaxSpatial);
  p.stride = pair_attribute(ctx, "stride", p.kernel, 1, kMaxSpatial);
  p.padding = pair_attribute(ctx, "padding", {0, 0}, 0, kMaxSpatial);
  if (p.mode == PoolMode::Average) p.count_include_pad = ctx.attrs().get_bool("count_include_pad", true);
  for (int d = 0; d < 2; ++d)
    if (p.padding[d] > p.kernel[d] / 2)
      ctx.fail_attribute("padding", hw(p.padding) + " must be at most half the kernel " + hw(p.kernel));
  Shape out{in[0], in[1], 0, 0};
  for (int d = 0; d < 2; ++d) {
    const std::int64_t room = in[2 + d] + 2 * p.padding[d] - p.kernel[d];
    if (room < 0)
      ctx.fail("input " + hw(in[2], in[3]) + " is too small for kernel " + hw(p.kernel) + " with padding " +
               hw(p.padding));
    out[2 + d] = room / p.stride[d] + 1;
  }
  ctx.finish();
  return std::make_unique<PoolLayer>(ctx, std::move(out), p);
}

PoolLayer::PoolLayer(const LayerBuildContext& ctx, Shape output_shape, const PoolParams& params)
    : Layer(ctx, std::move(output_shape)), params_(params) {}

void PoolLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const PoolParams& p = params_;
  const std::int64_t C = input_shapes()[0][1], H = input_shapes()[0][2], W = input_shapes()[0][3];
  const std::int64_t Ho = output_shape()[2], Wo = output_shape()[3];
  for (std::int64_t plane = 0; plane < args.batch * C; ++plane) {
    const float* x = args.inputs[0] + plane * H * W;
    float* o = args.output + plane * Ho * Wo;
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        // Window in padded coordinates, clipped first to the padded input (for the divisor that
        // counts padding), then to the input itself.
        std::int64_t h0 = oh * p.stride[0] - p.padding[0], w0 = ow * p.stride[1] - p.padding[1];
        std::int64_t h1 = std::min(h0 + p.kernel[0], H + p.padding[0]);
        std::int64_t w1 = std::min(w0 + p.kernel[1], W + p.padding[1]);
        const std::int64_t padded_count = (h1 - h0) * (w1 - w0);
        h0 = std::max<std::int64_t>(h0, 0), w0 = std::max<std::int64_t>(w0, 0);
        h1 = std::min(h1, H), w1 = std::min(w1, W);
        if (p.mode == PoolMode::Max) {
          float m = -std::numeric_limits<float>::infinity();
          for (std::int64_t h = h0; h < h1; ++h)
            for (std::int64_t w = w0; w < w1; ++w) {
              const float v = x[h * W + w];
              if (v > m || std::isnan(v)) m = v;
            }
          o[oh * Wo + ow] = m;
        } else {
          float sum = 0.0f;
          for (std::int64_t h = h0; h < h1; ++h)
            for (std::int64_t w = w0; w < w1; ++w) sum += x[h * W + w];
          const std::int64_t count =
              p.mode == PoolMode::Average && p.count_include_pad ? padded_count : (h1 - h0) * (w1 - w0);
          o[oh * Wo + ow] = sum / static_cast<float>(count);
        }
      }
  }
}

}  // namespace kiln
