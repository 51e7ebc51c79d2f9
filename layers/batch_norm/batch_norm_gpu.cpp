// batch_norm on the GPU: the affine_activation kernel (layers/activation) with the folded scale and
// shift, as float32 vectors (Fp16: padded to the stored channels, so the pads stay 0).
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/activation/affine_activation.h"
#include "layers/batch_norm/batch_norm.h"

namespace kiln::gpu {

namespace {

WeightForm vector_form(Precision p) { return p == Precision::Fp16 ? WeightForm::F32Padded : WeightForm::F32; }

OpDeclaration declare(const Layer& layer, Precision p) {
  const BatchNormLayer& bn = layer_as<BatchNormLayer>(layer);
  OpDeclaration d;
  d.weights = {{&bn.scale(), vector_form(p)}, {&bn.shift(), vector_form(p)}};
  d.output = OutputStorage::MayOverwriteInput;
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const BatchNormLayer& bn = layer_as<BatchNormLayer>(env.layer);
  const Precision p = env.precision();
  const auto* scale = static_cast<const float*>(env.weights.get({&bn.scale(), vector_form(p)}));
  const auto* shift = static_cast<const float*>(env.weights.get({&bn.shift(), vector_form(p)}));
  const Shape shape = bn.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, shape, batch, p);
    const TensorView y = e.view(out, shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) { launch_affine_activation(x, y, scale, shift, nullptr, r.stream); });
  });
}

}  // namespace

const GpuOpKind batch_norm_gpu{&declare, &build};

}  // namespace kiln::gpu
