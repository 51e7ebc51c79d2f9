// Every pooling op on the GPU: kiln's pooling kernel in every precision, so the window arithmetic is
// the CPU reference's (cuDNN's pooling is the deprecated legacy API, its graph-API resample op takes
// only NHWC layouts, and neither has PyTorch's ceil-mode or adaptive windows).
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/pool/pool.h"
#include "layers/pool/pool_kernels.h"

namespace kiln::gpu {

namespace {

OpDeclaration declare(const Layer&, Precision) { return {}; }

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const PoolLayer& layer = layer_as<PoolLayer>(env.layer);
  const PoolParams params = layer.params();
  const Shape x_shape = layer.input_shapes()[0];
  const Shape y_shape = layer.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, x_shape, batch, p);
    const TensorView y = e.view(out, y_shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) { launch_pool(x, y, params, r.stream); });
  });
}

}  // namespace

const GpuOpKind pool_gpu{&declare, &build};

}  // namespace kiln::gpu
