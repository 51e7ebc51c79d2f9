#include "layers/conv/conv.h"

#include <algorithm>

#include "layers/common.h"

namespace kiln {

namespace {

std::string weight_why(const ConvParams& p) {
  std::string why = "the input has " + std::to_string(p.in_channels) + " channels";
  if (p.groups > 1) why += ", groups " + std::to_string(p.groups);
  return why + (p.transposed ? "; layout [in_channels, out_channels/groups, kh, kw]"
                             : "; layout [out_channels, in_channels/groups, kh, kw]");
}

// Output spatial size of one dimension; the caller checks that it is >= 1.
std::int64_t out_size(const ConvParams& p, std::int64_t in, int d) {
  const std::int64_t span = p.dilation[d] * (p.kernel[d] - 1);
  if (p.transposed) return (in - 1) * p.stride[d] - 2 * p.padding[d] + span + p.output_padding[d] + 1;
  const std::int64_t room = in + 2 * p.padding[d] - span - 1;
  return room < 0 ? 0 : room / p.stride[d] + 1;
}

}  // namespace

std::unique_ptr<Layer> make_conv(const LayerBuildContext& ctx) {
  ConvParams p;
  p.transposed = ctx.spec().op() == "conv_transpose2d";
  ctx.expect_input_count(1);
  ctx.expect_rank(0, 4);
  const Shape& in = ctx.input_shape(0);
  p.in_channels = in[1];
  p.out_channels = int_attribute(ctx, "out_channels", 1, kMaxCount);
  p.kernel = pair_attribute(ctx, "kernel_size", 1, kMaxSpatial);
  p.stride = pair_attribute(ctx, "stride", {1, 1}, 1, kMaxSpatial);
  p.padding = pair_attribute(ctx, "padding", {0, 0}, 0, kMaxSpatial);
  p.dilation = pair_attribute(ctx, "dilation", {1, 1}, 1, kMaxSpatial);
  if (p.transposed) p.output_padding = pair_attribute(ctx, "output_padding", {0, 0}, 0, kMaxSpatial);
  p.groups = int_attribute(ctx, "groups", 1, 1, kMaxCount);

  if (p.in_channels % p.groups != 0)
    ctx.fail_attribute("groups", std::to_string(p.groups) + " does not divide the input's " +
                                     std::to_string(p.in_channels) + " channels");
  if (p.out_channels % p.groups != 0)
    ctx.fail_attribute("groups", std::to_string(p.groups) + " does not divide out_channels " +
                                     std::to_string(p.out_channels));
  for (int d = 0; d < 2; ++d)
    if (p.output_padding[d] >= std::max(p.stride[d], p.dilation[d]))
      ctx.fail_attribute("output_padding", hw(p.output_padding) + " must be smaller than the stride " + hw(p.stride) +
                                               " or the dilation " + hw(p.dilation));

  const Shape wshape = p.transposed ? Shape{p.in_channels, p.out_channels / p.groups, p.kernel[0], p.kernel[1]}
                                    : Shape{p.out_channels, p.in_channels / p.groups, p.kernel[0], p.kernel[1]};
  const TensorEntry& weight = ctx.weight("weight", wshape, weight_why(p));
  const TensorEntry* bias = ctx.optional_weight("bias", {p.out_channels}, "one per output channel");
  p.has_bias = bias != nullptr;

  const std::int64_t ho = out_size(p, in[2], 0), wo = out_size(p, in[3], 1);
  if (ho < 1 || wo < 1) {
    if (!p.transposed)
      ctx.fail("input " + hw(in[2], in[3]) + " is too small for kernel " + hw(p.kernel) + " with padding " +
               hw(p.padding) + (p.dilation == Pair{1, 1} ? "" : " and dilation " + hw(p.dilation)));
    ctx.fail("padding " + hw(p.padding) + " is too large for input " + hw(in[2], in[3]) + " with kernel " +
             hw(p.kernel) + " and stride " + hw(p.stride) + ": the output would be " + hw(ho, wo));
  }
  ctx.finish();
  return std::make_unique<ConvLayer>(ctx, Shape{in[0], p.out_channels, ho, wo}, p, weight, bias);
}

ConvLayer::ConvLayer(const LayerBuildContext& ctx, Shape output_shape, const ConvParams& params,
                     const TensorEntry& weight, const TensorEntry* bias)
    : Layer(ctx, std::move(output_shape)), params_(params), weight_(keep(&weight)), bias_(keep(bias)) {}

double ConvLayer::flops_per_sample() const {
  const ConvParams& p = params_;
  // Every MAC pairs one output (direct) or one input (transposed) pixel with one weight of its group.
  const Shape& pixels = p.transposed ? input_shapes().at(0) : output_shape();
  const double channels = p.transposed ? static_cast<double>(p.in_channels) : static_cast<double>(p.out_channels);
  const double per_channel = static_cast<double>((p.transposed ? p.out_channels : p.in_channels) / p.groups);
  return 2.0 * channels * per_channel * static_cast<double>(p.kernel[0] * p.kernel[1]) *
         static_cast<double>(pixels[2] * pixels[3]);
}

void ConvLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const std::int64_t plane = output_shape()[2] * output_shape()[3];
  const float* b = bias_ ? args.weights->get(*bias_) : nullptr;
  for (std::int64_t n = 0; n < args.batch; ++n)
    for (std::int64_t oc = 0; oc < params_.out_channels; ++oc) {
      float* o = args.output + (n * params_.out_channels + oc) * plane;
      std::fill(o, o + plane, b ? b[oc] : 0.0f);
    }
  const float* w = args.weights->get(*weight_);
  if (params_.transposed)
    forward_transposed(args.inputs[0], w, args.output, args.batch);
  else
    forward_direct(args.inputs[0], w, args.output, args.batch);
}

// Loop order n, group, output channel, input channel, kernel tap, output row, output column: each
// tap adds a shifted, strided copy of one input plane into the output plane, so the inner loop is a
// bounds-free axpy that vectorizes (valid_range clips the rows and columns that would read padding).
void ConvLayer::forward_direct(const float* in, const float* w, float* out, std::int64_t batch) const {
  const ConvParams& p = params_;
  const std::int64_t H = input_shapes()[0][2], W = input_shapes()[0][3];
  const std::int64_t Ho = output_shape()[2], Wo = output_shape()[3];
  const std::int64_t cg = p.in_channels / p.groups, kg = p.out_channels / p.groups;
  const std::int64_t kh = p.kernel[0], kw = p.kernel[1], sh = p.stride[0], sw = p.stride[1];
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t oc = 0; oc < p.out_channels; ++oc) {
      const std::int64_t g = oc / kg;
      float* o = out + (n * p.out_channels + oc) * Ho * Wo;
      for (std::int64_t icl = 0; icl < cg; ++icl) {
        const float* x = in + (n * p.in_channels + g * cg + icl) * H * W;
        const float* wk = w + (oc * cg + icl) * kh * kw;
        for (std::int64_t i = 0; i < kh; ++i) {
          const std::int64_t off_h = i * p.dilation[0] - p.padding[0];
          const IndexRange rows = valid_range(off_h, sh, H, Ho);
          for (std::int64_t j = 0; j < kw; ++j) {
            const float wv = wk[i * kw + j];
            const std::int64_t off_w = j * p.dilation[1] - p.padding[1];
            const IndexRange cols = valid_range(off_w, sw, W, Wo);
            for (std::int64_t oh = rows.lo; oh < rows.hi; ++oh) {
              const float* xr = x + (oh * sh + off_h) * W;
              float* orow = o + oh * Wo;
              if (sw == 1)
                for (std::int64_t ow = cols.lo; ow < cols.hi; ++ow) orow[ow] += wv * xr[ow + off_w];
              else
                for (std::int64_t ow = cols.lo; ow < cols.hi; ++ow) orow[ow] += wv * xr[ow * sw + off_w];
            }
          }
        }
      }
    }
}

// The scatter form: input pixel (ih, iw) of channel ic adds w[ic][oc][i][j] * x into output pixel
// (ih*sh - ph + i*dh, iw*sw - pw + j*dw). Same loop shape as forward_direct with in and out swapped.
void ConvLayer::forward_transposed(const float* in, const float* w, float* out, std::int64_t batch) const {
  const ConvParams& p = params_;
  const std::int64_t H = input_shapes()[0][2], W = input_shapes()[0][3];
  const std::int64_t Ho = output_shape()[2], Wo = output_shape()[3];
  const std::int64_t cg = p.in_channels / p.groups, kg = p.out_channels / p.groups;
  const std::int64_t kh = p.kernel[0], kw = p.kernel[1], sh = p.stride[0], sw = p.stride[1];
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t oc = 0; oc < p.out_channels; ++oc) {
      const std::int64_t g = oc / kg, ocl = oc % kg;
      float* o = out + (n * p.out_channels + oc) * Ho * Wo;
      for (std::int64_t icl = 0; icl < cg; ++icl) {
        const std::int64_t ic = g * cg + icl;
        const float* x = in + (n * p.in_channels + ic) * H * W;
        const float* wk = w + (ic * kg + ocl) * kh * kw;
        for (std::int64_t i = 0; i < kh; ++i) {
          const std::int64_t off_h = i * p.dilation[0] - p.padding[0];
          const IndexRange rows = valid_range(off_h, sh, Ho, H);
          for (std::int64_t j = 0; j < kw; ++j) {
            const float wv = wk[i * kw + j];
            const std::int64_t off_w = j * p.dilation[1] - p.padding[1];
            const IndexRange cols = valid_range(off_w, sw, Wo, W);
            for (std::int64_t ih = rows.lo; ih < rows.hi; ++ih) {
              float* orow = o + (ih * sh + off_h) * Wo;
              const float* xr = x + ih * W;
              for (std::int64_t iw = cols.lo; iw < cols.hi; ++iw) orow[iw * sw + off_w] += wv * xr[iw];
            }
          }
        }
      }
    }
}

}  // namespace kiln
