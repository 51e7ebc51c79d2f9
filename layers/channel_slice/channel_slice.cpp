#include "layers/channel_slice/channel_slice.h"

#include <algorithm>
#include <string>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_channel_slice(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  const Shape& in = ctx.input_shape(0);
  if (in.size() < 2)
    ctx.fail("input '" + ctx.spec().inputs[0] + "' must have at least 2 dimensions (channels are dimension 1), " +
             "found shape " + shape_to_string(in));
  const std::int64_t channels = in[1];
  ChannelSliceParams p;
  p.start = int_attribute(ctx, "start", 0, channels - 1);
  p.end = ctx.attrs().get_int("end");
  if (p.end <= p.start || p.end > channels)
    ctx.fail_attribute("end", std::to_string(p.end) + " is outside [" + std::to_string(p.start + 1) + ", " +
                                  std::to_string(channels) + "]: it must follow start (" + std::to_string(p.start) +
                                  ") and be at most the input's " + std::to_string(channels) + " channels");
  ctx.finish();
  Shape out = in;
  out[1] = p.count();
  return std::make_unique<ChannelSliceLayer>(ctx, p, std::move(out));
}

ChannelSliceLayer::ChannelSliceLayer(const LayerBuildContext& ctx, const ChannelSliceParams& params, Shape output_shape)
    : Layer(ctx, std::move(output_shape)), params_(params) {}

void ChannelSliceLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const Shape& in = input_shapes()[0];
  const std::int64_t inner = elements(in) / (in[0] * in[1]);  // elements per channel of one sample
  const std::int64_t block = params_.count() * inner;
  for (std::int64_t n = 0; n < args.batch; ++n) {
    const float* x = args.inputs[0] + (n * in[1] + params_.start) * inner;
    std::copy(x, x + block, args.output + n * block);
  }
}

}  // namespace kiln
