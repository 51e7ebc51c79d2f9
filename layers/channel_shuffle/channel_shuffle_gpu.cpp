// channel_shuffle on the GPU: one gather kernel over the output's stored elements (Fp16: the pad
// channels written as zeros, the input's never read).
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/channel_shuffle/channel_shuffle.h"
#include "layers/channel_shuffle/channel_shuffle_kernels.h"

namespace kiln::gpu {

namespace {

OpDeclaration declare(const Layer&, Precision) { return {}; }

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const ChannelShuffleLayer& layer = layer_as<ChannelShuffleLayer>(env.layer);
  const Shape shape = layer.output_shape();
  const std::int64_t groups = layer.params().groups;
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, shape, batch, p);
    const TensorView y = e.view(out, shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) { launch_channel_shuffle(x, y, groups, r.stream); });
  });
}

}  // namespace

const GpuOpKind channel_shuffle_gpu{&declare, &build};

}  // namespace kiln::gpu
