// lrn: cuDNN's cross-channel LRN where its window equals PyTorch's (odd sizes up to 16, and k, beta in
// cuDNN's ranges), else the kernel in lrn.cu. cuDNN centres an even window one channel later
// (lookBehind = (n-1)/2) than PyTorch (size/2), so even sizes always take the kernel.
//
// Fp16: always the NHWC kernel in channel_f16.cu (cuDNN's LRN takes NCHW only).
#include "engine/gpu/layout.h"
#include "layers/gpu/kernels.h"
#include "layers/gpu/kernels_f16.h"
#include "layers/gpu/ops.h"
#include "layers/norm/lrn.h"

namespace kiln::gpu {

namespace {

struct PreparedLrn final : PreparedOp {
  TensorDesc desc;
  LrnDesc lrn;
  const float* x = nullptr;
  float* y = nullptr;

  void run(const OpRunEnv& env) const override {
    const float one = 1.0f;
    const float zero = 0.0f;
    KILN_CUDNN_CHECK(cudnnLRNCrossChannelForward(env.cudnn, lrn.get(), CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, desc.get(),
                                                 x, &zero, desc.get(), y));
  }
};

bool cudnn_takes(const LrnParams& p) {
  return p.size % 2 == 1 && p.size >= CUDNN_LRN_MIN_N && p.size <= CUDNN_LRN_MAX_N && p.k >= CUDNN_LRN_MIN_K &&
         p.beta >= CUDNN_LRN_MIN_BETA;
}

}  // namespace

std::unique_ptr<GpuOp> make_lrn_op(const OpBuildEnv& env) {
  const LrnLayer& layer = layer_as<LrnLayer>(env);
  const LrnParams p = layer.params();
  const Shape shape = layer.output_shape();
  const int in = env.inputs().at(0);
  const int out = env.output();
  if (env.options.precision == Precision::Fp16) {
    const std::int64_t cs = stored_channels(shape, Precision::Fp16);
    return simple_op("cuda kernel (fp16 nhwc)", [=](const OpRunEnv&, std::int64_t batch) {
      const std::int64_t positions = batch * inner_size(shape);
      return prepared([=](const OpRunEnv& e) {
        launch_lrn_f16(e.tensor(in), e.tensor(out), positions, shape[1], cs, p, e.stream);
      });
    });
  }
  if (!cudnn_takes(p)) {
    return simple_op("cuda kernel", [=](const OpRunEnv&, std::int64_t batch) {
      return prepared([=](const OpRunEnv& e) {
        launch_lrn(e.tensor(in), e.tensor(out), batch, shape[1], inner_size(shape), p, e.stream);
      });
    });
  }
  return simple_op("cudnn legacy lrn", [=](const OpRunEnv& e, std::int64_t batch) {
    auto op = std::make_unique<PreparedLrn>();
    op->desc = make_nchw_desc(batch, shape[1], shape[2], shape[3]);
    op->lrn = make_resource<LrnDesc>(&cudnnCreateLRNDescriptor, "cudnnCreateLRNDescriptor");
    KILN_CUDNN_CHECK(cudnnSetLRNDescriptor(op->lrn.get(), static_cast<unsigned>(p.size), p.alpha, p.beta, p.k));
    op->x = e.tensor(in);
    op->y = e.tensor(out);
    return std::unique_ptr<PreparedOp>(std::move(op));
  });
}

}  // namespace kiln::gpu
