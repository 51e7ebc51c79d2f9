// Activations and batch_norm: one channel_affine_act kernel (layers/gpu/pointwise.cu; Fp16:
// elementwise_f16.cu over the stored NHWC elements, channel = index % stored channels). The graph API
// would need a pointwise-only graph per layer and batch; the kernel is exact, in-place safe and one launch.
#include "engine/gpu/layout.h"
#include "engine/gpu/weights.h"
#include "layers/activation/activation.h"
#include "layers/gpu/kernels.h"
#include "layers/gpu/kernels_f16.h"
#include "layers/gpu/ops.h"
#include "layers/norm/batch_norm.h"

namespace kiln::gpu {

namespace {

// Elements of a `shape` activation at `batch` as stored (Fp16: with the pad channels).
std::int64_t stored_elements(const Shape& shape, std::int64_t batch, Precision p) {
  return static_cast<std::int64_t>(activation_bytes(Layer::at_batch(shape, batch), p) / element_bytes(p));
}

}  // namespace

std::unique_ptr<GpuOp> make_activation_op(const OpBuildEnv& env) {
  const ActivationLayer& layer = layer_as<ActivationLayer>(env);
  const ActivationParams act = layer.params();
  const Shape shape = layer.output_shape();
  const int in = env.inputs().at(0);
  const int out = env.output();
  const Precision precision = env.options.precision;
  if (precision == Precision::Fp16) {
    const std::int64_t cs = stored_channels(shape, precision);
    return simple_op("cuda kernel (fp16)", [=](const OpRunEnv&, std::int64_t batch) {
      const std::int64_t n = stored_elements(shape, batch, precision);
      return prepared([=](const OpRunEnv& e) {
        launch_channel_affine_act_f16(e.tensor(in), e.tensor(out), nullptr, nullptr, n, cs, &act, e.stream);
      });
    });
  }
  return simple_op("cuda kernel", [=](const OpRunEnv&, std::int64_t batch) {
    const std::int64_t n = static_cast<std::int64_t>(element_count(Layer::at_batch(shape, batch)));
    return prepared([=](const OpRunEnv& e) {
      launch_channel_affine_act(e.tensor(in), e.tensor(out), nullptr, nullptr, 1, 1, n, &act, e.stream);
    });
  });
}

std::unique_ptr<GpuOp> make_batch_norm_op(const OpBuildEnv& env) {
  const BatchNormLayer& layer = layer_as<BatchNormLayer>(env);
  const Shape shape = layer.output_shape();
  const int in = env.inputs().at(0);
  const int out = env.output();
  const Precision precision = env.options.precision;
  if (precision == Precision::Fp16) {
    const auto* scale = static_cast<const float*>(env.weights.form({&layer.scale(), WeightForm::F32Padded, 1}));
    const auto* shift = static_cast<const float*>(env.weights.form({&layer.shift(), WeightForm::F32Padded, 1}));
    const std::int64_t cs = stored_channels(shape, precision);
    return simple_op("cuda kernel (fp16)", [=](const OpRunEnv&, std::int64_t batch) {
      const std::int64_t n = stored_elements(shape, batch, precision);
      return prepared([=](const OpRunEnv& e) {
        launch_channel_affine_act_f16(e.tensor(in), e.tensor(out), scale, shift, n, cs, nullptr, e.stream);
      });
    });
  }
  const float* scale = env.weights.f32(layer.scale());
  const float* shift = env.weights.f32(layer.shift());
  return simple_op("cuda kernel", [=](const OpRunEnv&, std::int64_t batch) {
    return prepared([=](const OpRunEnv& e) {
      launch_channel_affine_act(e.tensor(in), e.tensor(out), scale, shift, batch, shape[1], inner_size(shape), nullptr,
                                e.stream);
    });
  });
}

}  // namespace kiln::gpu
