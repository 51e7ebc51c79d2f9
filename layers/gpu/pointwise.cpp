// Activations and batch_norm: one channel_affine_act kernel (layers/gpu/pointwise.cu). The graph API
// would need a pointwise-only graph per layer and batch; the kernel is exact, in-place safe and one launch.
#include "engine/gpu/weights.h"
#include "layers/activation/activation.h"
#include "layers/gpu/kernels.h"
#include "layers/gpu/ops.h"
#include "layers/norm/batch_norm.h"

namespace kiln::gpu {

std::unique_ptr<GpuOp> make_activation_op(const OpBuildEnv& env) {
  const ActivationLayer& layer = layer_as<ActivationLayer>(env);
  const ActivationParams act = layer.params();
  const Shape shape = layer.output_shape();
  const int in = env.inputs().at(0);
  const int out = env.output();
  return simple_op("cuda kernel", [=](const OpRunEnv&, std::int64_t batch) {
    const std::int64_t n = static_cast<std::int64_t>(element_count(Layer::at_batch(shape, batch)));
    return prepared([=](const OpRunEnv& e) {
      launch_channel_affine_act(e.tensor(in), e.tensor(out), nullptr, nullptr, 1, 1, n, &act, e.stream);
    });
  });
}

std::unique_ptr<GpuOp> make_batch_norm_op(const OpBuildEnv& env) {
  const BatchNormLayer& layer = layer_as<BatchNormLayer>(env);
  const float* scale = env.weights.f32(layer.scale());
  const float* shift = env.weights.f32(layer.shift());
  const Shape shape = layer.output_shape();
  const int in = env.inputs().at(0);
  const int out = env.output();
  return simple_op("cuda kernel", [=](const OpRunEnv&, std::int64_t batch) {
    return prepared([=](const OpRunEnv& e) {
      launch_channel_affine_act(e.tensor(in), e.tensor(out), scale, shift, batch, shape[1], inner_size(shape), nullptr,
                                e.stream);
    });
  });
}

}  // namespace kiln::gpu
