// channel_slice on the GPU: the runtime's copy kernel (engine/gpu/copy.h) from the input's channel
// range (a view moved `start` channels on) into the output. The destination spans the output's
// stored channels, so Fp16's pad channels (a slice of 5 channels is stored as 8) become zeros in the
// same launch; the input's channels outside the range, pads included, are never read. The copy moves
// 16 bytes per thread where the range and positions allow it (float32 NCHW planes of multiples of 4
// starting on a 16-byte boundary; half NHWC ranges of multiples of 8 channels starting at one).
#include "engine/gpu/copy.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/channel_slice/channel_slice.h"

namespace kiln::gpu {

namespace {

OpDeclaration declare(const Layer&, Precision) { return {}; }

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const ChannelSliceLayer& layer = layer_as<ChannelSliceLayer>(env.layer);
  const Shape x_shape = layer.input_shapes()[0];
  const Shape y_shape = layer.output_shape();
  const ChannelSliceParams params = layer.params();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel (copy of a channel range)", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, x_shape, batch, p).channel_slice(params.start, params.count());
    const TensorView y = e.view(out, y_shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) { launch_copy(x, y, r.stream); });
  });
}

}  // namespace

const GpuOpKind channel_slice_gpu{&declare, &build};

}  // namespace kiln::gpu
