#include "layers/upsample/upsample.h"

#include <algorithm>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_upsample(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  ctx.expect_rank(0, 4);
  UpsampleParams p;
  p.scale = pair_attribute(ctx, "scale", {2, 2}, 1, kMaxSpatial);
  ctx.finish();
  return std::make_unique<UpsampleLayer>(ctx, p);
}

namespace {
Shape scaled(const Shape& in, const Pair& scale) { return {in[0], in[1], in[2] * scale[0], in[3] * scale[1]}; }
}  // namespace

UpsampleLayer::UpsampleLayer(const LayerBuildContext& ctx, const UpsampleParams& params)
    : Layer(ctx, scaled(ctx.input_shape(0), params.scale)), params_(params) {}

void UpsampleLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const std::int64_t C = output_shape()[1], H = input_shapes()[0][2], W = input_shapes()[0][3];
  const std::int64_t sh = params_.scale[0], sw = params_.scale[1], Wo = W * sw;
  for (std::int64_t plane = 0; plane < args.batch * C; ++plane) {
    const float* x = args.inputs[0] + plane * H * W;
    float* y = args.output + plane * H * sh * Wo;
    for (std::int64_t h = 0; h < H; ++h) {
      float* row = y + h * sh * Wo;
      for (std::int64_t w = 0; w < Wo; ++w) row[w] = x[h * W + w / sw];
      for (std::int64_t r = 1; r < sh; ++r) std::copy(row, row + Wo, row + r * Wo);
    }
  }
}

}  // namespace kiln
