#include "layers/channel_shuffle/channel_shuffle.h"

#include <algorithm>
#include <string>

#include "layers/common.h"

namespace kiln {

std::unique_ptr<Layer> make_channel_shuffle(const LayerBuildContext& ctx) {
  ctx.expect_input_count(1);
  const Shape& in = ctx.input_shape(0);
  if (in.size() < 2)
    ctx.fail("input '" + ctx.spec().inputs[0] + "' must have at least 2 dimensions (channels are dimension 1), " +
             "found shape " + shape_to_string(in));
  ChannelShuffleParams p;
  p.groups = int_attribute(ctx, "groups", 1, kMaxCount);
  if (in[1] % p.groups != 0)
    ctx.fail_attribute("groups", std::to_string(p.groups) + " does not divide the input's " + std::to_string(in[1]) +
                                     " channels");
  ctx.finish();
  return std::make_unique<ChannelShuffleLayer>(ctx, p);
}

ChannelShuffleLayer::ChannelShuffleLayer(const LayerBuildContext& ctx, const ChannelShuffleParams& params)
    : Layer(ctx, ctx.input_shape(0)), params_(params) {}

void ChannelShuffleLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const Shape& s = output_shape();
  const std::int64_t channels = s[1];
  const std::int64_t inner = elements(s) / (s[0] * channels);
  for (std::int64_t n = 0; n < args.batch; ++n) {
    const float* x = args.inputs[0] + n * channels * inner;
    float* y = args.output + n * channels * inner;
    for (std::int64_t o = 0; o < channels; ++o) {
      const float* src = x + shuffle_source(o, channels, params_.groups) * inner;
      std::copy(src, src + inner, y + o * inner);
    }
  }
}

}  // namespace kiln
