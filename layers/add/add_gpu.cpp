// add on the GPU: one kernel over the stored elements (Fp16: pad channels add to 0 + 0), in place over
// input 0 when the planner allows.
#include <vector>

#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/add/add.h"
#include "layers/add/add_kernels.h"

namespace kiln::gpu {

namespace {

OpDeclaration declare(const Layer&, Precision) {
  OpDeclaration d;
  d.output = OutputStorage::MayOverwriteInput;
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const Shape shape = env.layer.output_shape();
  const std::vector<int> ins = env.inputs;
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    std::vector<const void*> ptrs;
    for (int t : ins) ptrs.push_back(e.tensor(t));
    const TensorView y = e.view(out, shape, batch, p);
    return prepared_call([ptrs, y](const OpRunEnv& r) {
      launch_add(ptrs.data(), static_cast<int>(ptrs.size()), y, r.stream);
    });
  });
}

}  // namespace

const GpuOpKind add_gpu{&declare, &build};

}  // namespace kiln::gpu
