// upsample_nearest and upsample_bilinear on the GPU: one kernel over the stored elements (Fp16: pad
// channels copied or blended, zeros stay zeros); the integer `scale` form keeps its division-only kernel.
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/upsample/upsample.h"
#include "layers/upsample/upsample_kernels.h"

namespace kiln::gpu {

namespace {

OpDeclaration declare(const Layer&, Precision) { return {}; }

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const UpsampleLayer& layer = layer_as<UpsampleLayer>(env.layer);
  const Shape x_shape = layer.input_shapes()[0];
  const Shape y_shape = layer.output_shape();
  const UpsampleParams params = layer.params();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, x_shape, batch, p);
    const TensorView y = e.view(out, y_shape, batch, p);
    if (params.integer_scale()) {
      return prepared_call(
          [=](const OpRunEnv& r) { launch_upsample_nearest(x, y, params.scale[0], params.scale[1], r.stream); });
    }
    return prepared_call([=](const OpRunEnv& r) { launch_upsample_resample(x, y, params, r.stream); });
  });
}

}  // namespace

const GpuOpKind upsample_gpu{&declare, &build};

}  // namespace kiln::gpu
