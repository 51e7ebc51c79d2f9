#include "layers/pool/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "layers/common.h"

namespace kiln {

bool pool_takes_max(PoolMode mode) {
  return mode == PoolMode::Max || mode == PoolMode::GlobalMax || mode == PoolMode::AdaptiveMax;
}

bool pool_is_adaptive(PoolMode mode) { return mode != PoolMode::Max && mode != PoolMode::Average; }

PoolAxis pool_axis(const PoolParams& p, int d, std::int64_t in, std::int64_t out) {
  PoolAxis a;
  a.kernel = p.kernel[d];
  a.stride = p.stride[d];
  a.padding = p.padding[d];
  a.dilation = p.dilation[d];
  a.in = in;
  a.out = out;
  a.adaptive = pool_is_adaptive(p.mode) ? 1 : 0;
  return a;
}

namespace {

// Adaptive windows span at most ceil(in/out) + 1 positions (and never more than the input).
Pair adaptive_extent(const Shape& in, const Pair& out) {
  Pair k{};
  for (int d = 0; d < 2; ++d) k[d] = std::min(in[2 + d], (in[2 + d] + out[d] - 1) / out[d] + 1);
  return k;
}

std::unique_ptr<Layer> make_adaptive(const LayerBuildContext& ctx, PoolParams p, Pair out) {
  const Shape& in = ctx.input_shape(0);
  p.kernel = adaptive_extent(in, out);
  ctx.finish();
  return std::make_unique<PoolLayer>(ctx, Shape{in[0], in[1], out[0], out[1]}, p);
}

}  // namespace

std::unique_ptr<Layer> make_pool(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  ctx.expect_rank(0, 4);
  const Shape& in = ctx.input_shape(0);
  const std::string& op = ctx.spec().op();
  PoolParams p;
  if (op == "global_avg_pool2d" || op == "global_max_pool2d") {
    p.mode = op == "global_max_pool2d" ? PoolMode::GlobalMax : PoolMode::GlobalAverage;
    return make_adaptive(ctx, p, {1, 1});
  }
  if (op == "adaptive_avg_pool2d" || op == "adaptive_max_pool2d") {
    p.mode = op == "adaptive_max_pool2d" ? PoolMode::AdaptiveMax : PoolMode::AdaptiveAverage;
    return make_adaptive(ctx, p, pair_attribute(ctx, "output_size", 1, kMaxSpatial));
  }
  p.mode = op == "max_pool2d" ? PoolMode::Max : PoolMode::Average;
  p.kernel = pair_attribute(ctx, "kernel_size", 1, kMaxSpatial);
  p.stride = pair_attribute(ctx, "stride", p.kernel, 1, kMaxSpatial);
  p.padding = pair_attribute(ctx, "padding", {0, 0}, 0, kMaxSpatial);
  p.ceil_mode = ctx.attrs().get_bool("ceil_mode", false);
  if (p.mode == PoolMode::Max) {
    p.dilation = pair_attribute(ctx, "dilation", {1, 1}, 1, kMaxSpatial);
  } else {
    p.count_include_pad = ctx.attrs().get_bool("count_include_pad", true);
    // Read even when absent, so that the op's list of attributes in messages names it.
    p.divisor_override = ctx.attrs().get_int("divisor_override", 0);
    if (ctx.attrs().has("divisor_override")) p.divisor_override = int_attribute(ctx, "divisor_override", 1, kMaxCount);
  }
  for (int d = 0; d < 2; ++d)
    if (p.padding[d] > p.kernel[d] / 2)
      ctx.fail_attribute("padding", hw(p.padding) + " must be at most half the kernel " + hw(p.kernel));
  Shape out{in[0], in[1], 0, 0};
  for (int d = 0; d < 2; ++d) {
    out[2 + d] = pooled_size(in[2 + d], p.kernel[d], p.stride[d], p.padding[d], p.dilation[d], p.ceil_mode);
    if (out[2 + d] < 1) {
      const bool dilated = p.dilation != Pair{1, 1};
      ctx.fail("input " + hw(in[2], in[3]) + " is too small for kernel " + hw(p.kernel) + " with padding " +
               hw(p.padding) + (dilated ? " and dilation " + hw(p.dilation) : std::string()));
    }
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
  const PoolAxis ah = pool_axis(p, 0, H, Ho), aw = pool_axis(p, 1, W, Wo);
  const bool is_max = pool_takes_max(p.mode);
  for (std::int64_t plane = 0; plane < args.batch * C; ++plane) {
    const float* x = args.inputs[0] + plane * H * W;
    float* o = args.output + plane * Ho * Wo;
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      const PoolSpan sh = pool_span(ah, oh);
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const PoolSpan sw = pool_span(aw, ow);
        if (is_max) {
          float m = -std::numeric_limits<float>::infinity();
          for (std::int64_t h = sh.lo; h < sh.hi; h += sh.step)
            for (std::int64_t w = sw.lo; w < sw.hi; w += sw.step) {
              const float v = x[h * W + w];
              if (v > m || std::isnan(v)) m = v;
            }
          o[oh * Wo + ow] = m;
          continue;
        }
        float sum = 0.0f;
        for (std::int64_t h = sh.lo; h < sh.hi; h += sh.step)
          for (std::int64_t w = sw.lo; w < sw.hi; w += sw.step) sum += x[h * W + w];
        const std::int64_t valid = span_count(sh) * span_count(sw);
        const std::int64_t count =
            p.divisor_override > 0 ? p.divisor_override : p.count_include_pad ? sh.padded * sw.padded : valid;
        // An empty window (never with PyTorch's padding rule, kept for safety) gives 0, as in PyTorch.
        o[oh * Wo + ow] = valid == 0 ? 0.0f : sum / static_cast<float>(count);
      }
    }
  }
}

}  // namespace kiln
