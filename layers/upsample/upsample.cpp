#include "layers/upsample/upsample.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/common.h"

namespace kiln {

ResampleAxis upsample_axis(const UpsampleParams& p, std::int64_t in, std::int64_t out) {
  ResampleAxis a;
  a.in = in;
  a.out = out;
  a.scale = p.mode == UpsampleMode::Bilinear ? linear_scale(in, out, p.align_corners, p.scale_factor)
                                             : resample_scale(in, out, p.scale_factor);
  return a;
}

namespace {

// `size` and the optional `scale_factor` (upsample.h); every key is read, present or not, so that
// messages list all the op takes. With a second input, the output takes that tensor's height and width
// (PyTorch's interpolate(x, size=y.shape[-2:])), which follows the input size of a dynamic model.
void read_size(const LayerBuildContext& ctx, UpsampleParams& p) {
  const Shape& in = ctx.input_shape(0);
  if (ctx.input_shapes().size() == 2) {
    const Shape& like = ctx.input_shape(1);
    for (const char* key : {"size", "scale_factor"})
      if (ctx.attrs().has(key)) ctx.fail_attribute(key, "is not taken with a second input, whose height and width give the size");
    (void)ctx.attrs().get_pair("size", {0, 0});
    (void)ctx.attrs().get_float("scale_factor", 0.0);
    if (like[2] > kMaxSpatial || like[3] > kMaxSpatial)
      ctx.fail("input 1's size " + hw(like[2], like[3]) + " is beyond the 2^20 an upsample output may have");
    p.size = {like[2], like[3]};
    return;
  }
  p.size = pair_attribute(ctx, "size", 1, kMaxSpatial);
  p.scale_factor = finite_attribute(ctx, "scale_factor", 0.0);
  if (!ctx.attrs().has("scale_factor")) return;
  if (!(p.scale_factor > 0.0)) ctx.fail_attribute("scale_factor", "must be greater than 0");
  for (int d = 0; d < 2; ++d) {
    // PyTorch's output size for a scale factor, in double as torch.nn.functional.interpolate computes it.
    const double want = std::floor(static_cast<double>(in[2 + d]) * p.scale_factor);
    if (want != static_cast<double>(p.size[d]))
      ctx.fail_attribute("scale_factor", "is inconsistent with size " + hw(p.size) + ": input " + hw(in[2], in[3]) +
                                             " times " + std::to_string(p.scale_factor) + " floors to another size");
  }
}

std::unique_ptr<Layer> make_nearest(const LayerBuildContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  UpsampleParams p;
  const bool sized = ctx.attrs().has("size") || ctx.input_shapes().size() == 2;
  if (ctx.input_shapes().size() == 2 && ctx.attrs().has("scale"))
    ctx.fail_attribute("scale", "is not taken with a second input, whose height and width give the size");
  if (sized && ctx.attrs().has("scale"))
    ctx.fail_attribute("scale", "and 'size' are alternatives: give one of them");
  const std::string mode = ctx.attrs().get_choice("mode", {"nearest", "nearest-exact"}, "nearest");
  p.mode = mode == "nearest" ? UpsampleMode::Nearest : UpsampleMode::NearestExact;
  if (sized) {
    p.scale = {0, 0};
    (void)ctx.attrs().get_pair("scale", {0, 0});  // listed in messages
    read_size(ctx, p);
  } else {
    p.scale = pair_attribute(ctx, "scale", {2, 2}, 1, kMaxSpatial);
    (void)ctx.attrs().get_pair("size", {0, 0});
    (void)ctx.attrs().get_float("scale_factor", 0.0);
    for (const char* key : {"mode", "scale_factor"})
      if (ctx.attrs().has(key)) ctx.fail_attribute(key, "is only taken with 'size' (the 'scale' form maps h to h / scale)");
    p.size = {in[2] * p.scale[0], in[3] * p.scale[1]};
  }
  ctx.finish();
  return std::make_unique<UpsampleLayer>(ctx, p);
}

std::unique_ptr<Layer> make_bilinear(const LayerBuildContext& ctx) {
  UpsampleParams p;
  p.mode = UpsampleMode::Bilinear;
  p.scale = {0, 0};
  p.align_corners = ctx.attrs().get_bool("align_corners", false);
  if (ctx.attrs().has("scale")) {
    // An integer factor per axis: the output is H·sh × W·sw, mapped as the `size` form of that size
    // (which is PyTorch's mapping for an integer scale_factor), whatever the input size.
    for (const char* key : {"size", "scale_factor"})
      if (ctx.attrs().has(key)) ctx.fail_attribute(key, "is not taken with 'scale' (give one of them)");
    if (ctx.input_shapes().size() == 2) ctx.fail_attribute("scale", "is not taken with a second input, whose height and width give the size");
    const Pair scale = pair_attribute(ctx, "scale", {2, 2}, 1, kMaxSpatial);
    const Shape& in = ctx.input_shape(0);
    p.size = {in[2] * scale[0], in[3] * scale[1]};
    if (p.size[0] > kMaxSpatial || p.size[1] > kMaxSpatial)
      ctx.fail_attribute("scale", "gives an output of " + hw(p.size) + ", beyond 2^20");
    (void)ctx.attrs().get_pair("size", {0, 0});
    (void)ctx.attrs().get_float("scale_factor", 0.0);
    ctx.finish();
    return std::make_unique<UpsampleLayer>(ctx, p);
  }
  (void)ctx.attrs().get_pair("scale", {0, 0});  // listed in messages
  read_size(ctx, p);
  if (p.align_corners && p.scale_factor > 0.0)
    ctx.fail_attribute("scale_factor", "has no effect with align_corners: true (the mapping is (in-1)/(out-1)); omit it");
  ctx.finish();
  return std::make_unique<UpsampleLayer>(ctx, p);
}

}  // namespace

std::unique_ptr<Layer> make_upsample(const LayerBuildContext& ctx) {
  // One input, or two: the second gives only its height and width (its values are never read).
  if (ctx.input_shapes().size() != 2) ctx.expect_input_count(1);
  ctx.expect_rank(0, 4);
  if (ctx.input_shapes().size() == 2) {
    ctx.expect_rank(1, 4);
    if (ctx.input_shape(1)[0] != ctx.input_shape(0)[0])
      ctx.fail("input 1 has batch " + std::to_string(ctx.input_shape(1)[0]) + ", input 0 " +
               std::to_string(ctx.input_shape(0)[0]) + " (its height and width give the output size)");
  }
  return ctx.spec().op() == "upsample_bilinear" ? make_bilinear(ctx) : make_nearest(ctx);
}

UpsampleLayer::UpsampleLayer(const LayerBuildContext& ctx, const UpsampleParams& params)
    : Layer(ctx, Shape{ctx.input_shape(0)[0], ctx.input_shape(0)[1], params.size[0], params.size[1]}),
      params_(params) {}

void UpsampleLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  if (params_.integer_scale()) {
    forward_scaled(args);
  } else if (params_.mode == UpsampleMode::Bilinear) {
    forward_bilinear(args);
  } else {
    forward_nearest(args);
  }
}

void UpsampleLayer::forward_scaled(const CpuForwardArgs& args) const {
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

void UpsampleLayer::forward_nearest(const CpuForwardArgs& args) const {
  const std::int64_t C = output_shape()[1], H = input_shapes()[0][2], W = input_shapes()[0][3];
  const std::int64_t Ho = output_shape()[2], Wo = output_shape()[3];
  const ResampleAxis ah = upsample_axis(params_, H, Ho), aw = upsample_axis(params_, W, Wo);
  const bool exact = params_.mode == UpsampleMode::NearestExact;
  // Source indices per output row and column (sizes bounded by the factory: at most 2^20 each).
  std::vector<std::int64_t> src_h(static_cast<std::size_t>(Ho)), src_w(static_cast<std::size_t>(Wo));
  for (std::int64_t i = 0; i < Ho; ++i) src_h[i] = exact ? nearest_exact_source(ah, i) : nearest_source(ah, i);
  for (std::int64_t i = 0; i < Wo; ++i) src_w[i] = exact ? nearest_exact_source(aw, i) : nearest_source(aw, i);
  for (std::int64_t plane = 0; plane < args.batch * C; ++plane) {
    const float* x = args.inputs[0] + plane * H * W;
    float* y = args.output + plane * Ho * Wo;
    for (std::int64_t h = 0; h < Ho; ++h)
      for (std::int64_t w = 0; w < Wo; ++w) y[h * Wo + w] = x[src_h[h] * W + src_w[w]];
  }
}

void UpsampleLayer::forward_bilinear(const CpuForwardArgs& args) const {
  const std::int64_t C = output_shape()[1], H = input_shapes()[0][2], W = input_shapes()[0][3];
  const std::int64_t Ho = output_shape()[2], Wo = output_shape()[3];
  const ResampleAxis ah = upsample_axis(params_, H, Ho), aw = upsample_axis(params_, W, Wo);
  std::vector<LinearTap> th(static_cast<std::size_t>(Ho)), tw(static_cast<std::size_t>(Wo));
  for (std::int64_t i = 0; i < Ho; ++i) th[i] = linear_tap(ah, params_.align_corners, i);
  for (std::int64_t i = 0; i < Wo; ++i) tw[i] = linear_tap(aw, params_.align_corners, i);
  for (std::int64_t plane = 0; plane < args.batch * C; ++plane) {
    const float* x = args.inputs[0] + plane * H * W;
    float* y = args.output + plane * Ho * Wo;
    for (std::int64_t h = 0; h < Ho; ++h) {
      const LinearTap& a = th[h];
      const float* r0 = x + a.i0 * W;
      const float* r1 = x + a.i1 * W;
      for (std::int64_t w = 0; w < Wo; ++w) {
        const LinearTap& b = tw[w];
        y[h * Wo + w] = a.w0 * (b.w0 * r0[b.i0] + b.w1 * r0[b.i1]) + a.w1 * (b.w0 * r1[b.i0] + b.w1 * r1[b.i1]);
      }
    }
  }
}

}  // namespace kiln
