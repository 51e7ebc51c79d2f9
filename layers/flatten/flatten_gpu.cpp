// flatten on the GPU: a view (the memory plan gives the output its input's block, nothing runs), except
// in Fp16 when the input is NHWC and not already in logical order (fp16_flatten_is_view): then the
// runtime's copy kernel reorders it into PyTorch's NCHW order in a block of its own.
#include "engine/gpu/copy.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/flatten/flatten.h"

namespace kiln::gpu {

namespace {

bool reorders(const Layer& layer, Precision p) {
  return p == Precision::Fp16 && !fp16_flatten_is_view(layer.input_shapes()[0]);
}

OpDeclaration declare(const Layer& layer, Precision p) {
  OpDeclaration d;
  d.output = reorders(layer, p) ? OutputStorage::Own : OutputStorage::ViewOfInput;
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const Precision p = env.precision();
  if (!reorders(env.layer, p)) {
    return op_preparing_by("view", [](const OpRunEnv&, std::int64_t) { return std::unique_ptr<PreparedOp>(); });
  }
  const Shape in_shape = env.layer.input_shapes()[0];
  const int in = env.inputs.at(0);
  const int out = env.output;
  return op_preparing_by("cuda kernel (nhwc -> nchw order)", [=](const OpRunEnv& e, std::int64_t batch) {
    const Shape s = Layer::at_batch(in_shape, batch);
    const TensorView x = activation_view(e.tensor(in), s, p);
    const TensorView y = logical_view(e.tensor(out), s, ElementType::F16);
    return prepared_call([=](const OpRunEnv& r) { launch_copy(x, y, r.stream); });
  });
}

}  // namespace

const GpuOpKind flatten_gpu{&declare, &build};

}  // namespace kiln::gpu
