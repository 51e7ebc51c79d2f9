// relu, leaky_relu, sigmoid, tanh, elu on the GPU: the affine_activation kernel with no scale or
// shift, over every stored element. Folded into a producer that accepts an activation epilogue
// (a convolution) when it is that producer's only reader (the engine decides, from the declarations).
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/activation/affine_activation.h"

namespace kiln::gpu {

namespace {

OpDeclaration declare(const Layer&, Precision) {
  OpDeclaration d;
  d.output = OutputStorage::MayOverwriteInput;
  d.epilogue_kind = kActivationEpilogue;
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const ActivationParams act = activation_params(env.layer);
  const Shape shape = env.layer.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, shape, batch, p);
    const TensorView y = e.view(out, shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) { launch_affine_activation(x, y, nullptr, nullptr, &act, r.stream); });
  });
}

}  // namespace

const GpuOpKind activation_gpu{&declare, &build};

}  // namespace kiln::gpu
