// softmax over channels on the GPU: cuDNN's (non-deprecated) legacy softmax, accurate mode
// (max-subtracted), for float32 NCHW; kiln's kernel (softmax.cu) for Fp16, whose stored channels are
// innermost and padded.
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "engine/gpu/resource.h"
#include "layers/softmax/softmax.h"
#include "layers/softmax/softmax_kernels.h"

namespace kiln::gpu {

namespace {

struct PreparedCudnnSoftmax final : PreparedOp {
  TensorDesc desc;  // x and y share the shape (and may share memory: cuDNN allows in place)
  const void* x = nullptr;
  void* y = nullptr;

  void run(const OpRunEnv& env) const override {
    const float one = 1.0f;
    const float zero = 0.0f;
    KILN_CUDNN_CHECK(cudnnSoftmaxForward(env.cudnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_CHANNEL, &one,
                                         desc.get(), x, &zero, desc.get(), y));
  }
};

OpDeclaration declare(const Layer&, Precision) {
  OpDeclaration d;
  d.output = OutputStorage::MayOverwriteInput;
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const Shape shape = env.layer.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  if (p == Precision::Fp16) {
    return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
      const TensorView x = e.view(in, shape, batch, p);
      const TensorView y = e.view(out, shape, batch, p);
      return prepared_call([=](const OpRunEnv& r) { launch_softmax(x, y, r.stream); });
    });
  }
  return op_preparing_by("cudnn softmax", [=](const OpRunEnv& e, std::int64_t batch) {
    auto op = std::make_unique<PreparedCudnnSoftmax>();
    // [N, C] and [N, C, H, W] alike: channel mode normalises over C at every (n, spatial position).
    const std::int64_t h = shape.size() > 2 ? shape[2] : 1;
    op->desc = make_nchw_desc(batch, shape[1], h, inner_size(shape) / h);
    op->x = e.tensor(in);
    op->y = e.tensor(out);
    return std::unique_ptr<PreparedOp>(std::move(op));
  });
}

}  // namespace

const GpuOpKind softmax_gpu{&declare, &build};

}  // namespace kiln::gpu
