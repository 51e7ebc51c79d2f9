// max_pool2d, avg_pool2d, global_avg_pool2d through cuDNN's (legacy) pooling call.
//
// Why not the graph API: its resample operation is offered by cuDNN's runtime-fusion engines for
// NHWC layouts, not for kiln's packed NCHW float32 tensors; the legacy call covers all three modes with
// PyTorch's semantics (padding never wins a max; average with or without the padding in the count).
// Fp16 (NHWC half) runs the kernel in channel_f16.cu, which follows the CPU reference's window rules.
#include "engine/gpu/layout.h"
#include "layers/gpu/kernels_f16.h"
#include "layers/gpu/ops.h"
#include "layers/pool/pool.h"

namespace kiln::gpu {

namespace {

struct PreparedPool final : PreparedOp {
  TensorDesc x_desc, y_desc;
  PoolingDesc pool;
  const float* x = nullptr;
  float* y = nullptr;

  void run(const OpRunEnv& env) const override {
    const float one = 1.0f;
    const float zero = 0.0f;
    KILN_CUDNN_CHECK(cudnnPoolingForward(env.cudnn, pool.get(), &one, x_desc.get(), x, &zero, y_desc.get(), y));
  }
};

cudnnPoolingMode_t pooling_mode(const PoolParams& p) {
  if (p.mode == PoolMode::Max) return CUDNN_POOLING_MAX;
  if (p.mode == PoolMode::Average && !p.count_include_pad) return CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  return CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
}

}  // namespace

std::unique_ptr<GpuOp> make_pool_op(const OpBuildEnv& env) {
  const PoolLayer& layer = layer_as<PoolLayer>(env);
  PoolParams p = layer.params();
  if (p.mode == PoolMode::GlobalAverage) {
    p.stride = p.kernel;
    p.padding = {0, 0};
  }
  const Shape x = layer.input_shapes()[0];
  const Shape y = layer.output_shape();
  const int in = env.inputs().at(0);
  const int out = env.output();
  if (env.options.precision == Precision::Fp16) {
    const std::int64_t cs = stored_channels(x, Precision::Fp16);
    return simple_op("cuda kernel (fp16 nhwc)", [=](const OpRunEnv&, std::int64_t batch) {
      const PoolShapeF16 s{batch, x[2], x[3], cs, y[2], y[3]};
      return prepared([=](const OpRunEnv& e) { launch_pool_f16(e.tensor(in), e.tensor(out), s, p, e.stream); });
    });
  }
  return simple_op("cudnn legacy pooling", [=](const OpRunEnv& e, std::int64_t batch) {
    auto op = std::make_unique<PreparedPool>();
    op->x_desc = make_nchw_desc(batch, x[1], x[2], x[3]);
    op->y_desc = make_nchw_desc(batch, y[1], y[2], y[3]);
    op->pool = make_resource<PoolingDesc>(&cudnnCreatePoolingDescriptor, "cudnnCreatePoolingDescriptor");
    KILN_CUDNN_CHECK(cudnnSetPooling2dDescriptor(op->pool.get(), pooling_mode(p), CUDNN_PROPAGATE_NAN,
                                                 static_cast<int>(p.kernel[0]), static_cast<int>(p.kernel[1]),
                                                 static_cast<int>(p.padding[0]), static_cast<int>(p.padding[1]),
                                                 static_cast<int>(p.stride[0]), static_cast<int>(p.stride[1])));
    op->x = e.tensor(in);
    op->y = e.tensor(out);
    return std::unique_ptr<PreparedOp>(std::move(op));
  });
}

}  // namespace kiln::gpu
