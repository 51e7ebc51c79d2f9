// The activations on the GPU: the affine_activation kernel with no scale or shift, over every stored
// element. Folded into a producer that accepts an activation epilogue (a convolution) when it is that
// producer's only reader (the engine decides, from the declarations) -- except prelu: the epilogue a
// producer applies carries an activation's parameters but not its weights, so prelu runs as its own
// kernel.
#include "base/shape.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/activation/affine_activation.h"

namespace kiln::gpu {

std::vector<WeightRequest> activation_weight_forms(const Layer& layer, Precision precision) {
  const ActivationParams& act = activation_params(layer);
  if (!act.slope) return {};
  // Fp16 stores a 4-D activation's channels padded (Note [fp16 layout]); the kernel reads one slope per
  // stored channel, so per-channel slopes are padded with zeros to match.
  const bool per_channel = element_count(act.slope->shape) > 1;
  return {{act.slope, precision == Precision::Fp16 && per_channel ? WeightForm::F32Padded : WeightForm::F32}};
}

DeviceActivation device_activation(const Layer& layer, const DeviceWeights& weights, Precision precision) {
  DeviceActivation d;
  d.params = activation_params(layer);
  for (const WeightRequest& r : activation_weight_forms(layer, precision)) {
    d.slope = static_cast<const float*>(weights.get(r));
    d.per_channel = element_count(r.tensor->shape) > 1;
  }
  return d;
}

namespace {

OpDeclaration declare(const Layer& layer, Precision precision) {
  OpDeclaration d;
  d.weights = activation_weight_forms(layer, precision);
  d.output = OutputStorage::MayOverwriteInput;
  d.epilogue_kind = activation_params(layer).slope ? kNoEpilogue : kActivationEpilogue;
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const DeviceActivation act = device_activation(env.layer, env.weights, env.precision());
  const Shape shape = env.layer.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, shape, batch, p);
    const TensorView y = e.view(out, shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) { launch_affine_activation(x, y, nullptr, nullptr, act, r.stream); });
  });
}

}  // namespace

const GpuOpKind activation_gpu{&declare, &build};

}  // namespace kiln::gpu
