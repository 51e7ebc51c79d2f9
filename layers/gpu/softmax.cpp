// softmax over channels: cuDNN's (non-deprecated) legacy softmax, accurate mode (max-subtracted).
// Fp16: a kernel (channel_f16.cu), since the stored channels are innermost and padded.
#include "engine/gpu/layout.h"
#include "layers/gpu/kernels_f16.h"
#include "layers/gpu/ops.h"
#include "layers/softmax/softmax.h"

namespace kiln::gpu {

namespace {

struct PreparedSoftmax final : PreparedOp {
  TensorDesc desc;  // x and y share the shape (and may share memory: cuDNN allows in place)
  const float* x = nullptr;
  float* y = nullptr;

  void run(const OpRunEnv& env) const override {
    const float one = 1.0f;
    const float zero = 0.0f;
    KILN_CUDNN_CHECK(cudnnSoftmaxForward(env.cudnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_CHANNEL, &one,
                                         desc.get(), x, &zero, desc.get(), y));
  }
};

}  // namespace

std::unique_ptr<GpuOp> make_softmax_op(const OpBuildEnv& env) {
  const SoftmaxLayer& layer = layer_as<SoftmaxLayer>(env);
  const Shape shape = layer.output_shape();
  const int in = env.inputs().at(0);
  const int out = env.output();
  if (env.options.precision == Precision::Fp16) {
    const std::int64_t cs = stored_channels(shape, Precision::Fp16);
    return simple_op("cuda kernel (fp16)", [=](const OpRunEnv&, std::int64_t batch) {
      const std::int64_t positions = batch * inner_size(shape);
      return prepared([=](const OpRunEnv& e) {
        launch_softmax_f16(e.tensor(in), e.tensor(out), positions, shape[1], cs, e.stream);
      });
    });
  }
  return simple_op("cudnn softmax", [=](const OpRunEnv& e, std::int64_t batch) {
    auto op = std::make_unique<PreparedSoftmax>();
    // [N, C] and [N, C, H, W] alike: channel mode normalises over C at every (n, spatial position).
    const std::int64_t h = shape.size() > 2 ? shape[2] : 1;
    op->desc = make_nchw_desc(batch, shape[1], h, inner_size(shape) / h);
    op->x = e.tensor(in);
    op->y = e.tensor(out);
    return std::unique_ptr<PreparedOp>(std::move(op));
  });
}

}  // namespace kiln::gpu
