// lrn on the GPU: cuDNN's cross-channel LRN where its window equals PyTorch's (float32, odd sizes up to
// 16, and k, beta in cuDNN's ranges), else kiln's kernel (lrn.cu). cuDNN centres an even window one
// channel later (lookBehind = (n-1)/2) than PyTorch (size/2), so even sizes always take the kernel;
// cuDNN's LRN takes NCHW only, so Fp16 (NHWC) does too.
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "engine/gpu/resource.h"
#include "layers/lrn/lrn.h"
#include "layers/lrn/lrn_kernels.h"

namespace kiln::gpu {

namespace {

struct PreparedCudnnLrn final : PreparedOp {
  TensorDesc desc;
  LrnDesc lrn;
  const void* x = nullptr;
  void* y = nullptr;

  void run(const OpRunEnv& env) const override {
    const float one = 1.0f;
    const float zero = 0.0f;
    KILN_CUDNN_CHECK(cudnnLRNCrossChannelForward(env.cudnn, lrn.get(), CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, desc.get(),
                                                 x, &zero, desc.get(), y));
  }
};

bool cudnn_takes(const LrnParams& p, Precision precision) {
  return precision != Precision::Fp16 && p.size % 2 == 1 && p.size >= CUDNN_LRN_MIN_N && p.size <= CUDNN_LRN_MAX_N &&
         p.k >= CUDNN_LRN_MIN_K && p.beta >= CUDNN_LRN_MIN_BETA;
}

OpDeclaration declare(const Layer&, Precision) { return {}; }

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const LrnLayer& layer = layer_as<LrnLayer>(env.layer);
  const LrnParams params = layer.params();
  const Shape shape = layer.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  if (!cudnn_takes(params, p)) {
    return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
      const TensorView x = e.view(in, shape, batch, p);
      const TensorView y = e.view(out, shape, batch, p);
      return prepared_call([=](const OpRunEnv& r) { launch_lrn(x, y, params, r.stream); });
    });
  }
  return op_preparing_by("cudnn legacy lrn", [=](const OpRunEnv& e, std::int64_t batch) {
    auto op = std::make_unique<PreparedCudnnLrn>();
    op->desc = make_nchw_desc(batch, shape[1], shape[2], shape[3]);
    op->lrn = make_resource<LrnDesc>(&cudnnCreateLRNDescriptor, "cudnnCreateLRNDescriptor");
    KILN_CUDNN_CHECK(
        cudnnSetLRNDescriptor(op->lrn.get(), static_cast<unsigned>(params.size), params.alpha, params.beta, params.k));
    op->x = e.tensor(in);
    op->y = e.tensor(out);
    return std::unique_ptr<PreparedOp>(std::move(op));
  });
}

}  // namespace

const GpuOpKind lrn_gpu{&declare, &build};

}  // namespace kiln::gpu
