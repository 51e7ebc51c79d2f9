// A 1x1 convolution of a 1x1 input as a cuBLASLt GEMM: layers/conv/pointwise_gemm_gpu.h.
#include "layers/conv/pointwise_gemm_gpu.h"

#include <algorithm>
#include <optional>
#include <string>

#include "engine/gpu/layout.h"
#include "engine/gpu/matmul.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/activation/affine_activation.h"

namespace kiln::gpu {

namespace {

constexpr std::uint64_t kArenaAlignment = 256;                       // activations (engine.cpp)

struct PreparedPointwise final : PreparedOp {
  MatmulProblem pr;
  cublasLtMatmulHeuristicResult_t algo{};
  const void* w = nullptr;
  const void* x = nullptr;
  TensorView y;
  std::optional<ActivationParams> act;

  void run(const OpRunEnv& env) const override {
    run_matmul(env.cublaslt, pr, algo, w, x, y.data, env.workspace, env.stream);
    if (act) launch_affine_activation(y, y, nullptr, nullptr, &*act, env.stream);
  }
};

class PointwiseGemmOp final : public GpuOp {
 public:
  explicit PointwiseGemmOp(const OpBuildEnv& env)
      : layer_(layer_as<ConvLayer>(env.layer)), in_(env.inputs.at(0)), out_(env.output), precision_(env.precision()) {
    const bool half = precision_ == Precision::Fp16;
    const ConvParams& p = layer_.params();
    w_ = env.weights.get({&layer_.weight(), half ? WeightForm::F16Filter : WeightForm::F32, p.groups});
    if (layer_.bias()) b_ = env.weights.get({layer_.bias(), half ? WeightForm::F16Padded : WeightForm::F32});
    if (env.epilogue) act_ = activation_params(*env.epilogue);
    in_features_ = stored_channels(layer_.input_shapes()[0], precision_);
    out_features_ = stored_channels(layer_.output_shape(), precision_);
    alignment_ = common_alignment({env.weights.alignment(), kArenaAlignment});
    workspace_ = pick_matmul_algorithm(env.cublaslt, problem(env.max_batch),
                                       std::min(env.options.workspace_cap_bytes, kMatmulWorkspaceHint), alignment_)
                     .workspaceSize;
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    auto op = std::make_unique<PreparedPointwise>();
    op->pr = problem(batch);
    op->algo = pick_matmul_algorithm(env.cublaslt, op->pr, std::min<std::uint64_t>(env.workspace_bytes, workspace_),
                                     alignment_);
    op->w = w_;
    op->x = env.tensor(in_);
    op->y = env.view(out_, layer_.output_shape(), batch, precision_);
    op->act = act_;
    return op;
  }

  std::string describe() const override {
    std::string s = "cublasLt GEMM (1x1 conv of a 1x1 input";
    if (b_) s += "; bias epilogue";
    if (act_) s += std::string("; ") + activation_name(act_->kind) + " by epilogue kernel";
    return s + ")";
  }
  std::uint64_t workspace_bytes() const override { return workspace_; }

 private:
  // y (out x N, column-major) = W^T (W row-major [out, in]) * x (in x N).
  MatmulProblem problem(std::int64_t batch) const {
    const cudaDataType_t io = matmul_io_type(precision_);
    const auto in = static_cast<std::uint64_t>(in_features_);
    const auto out = static_cast<std::uint64_t>(out_features_);
    const auto n = static_cast<std::uint64_t>(batch);
    return make_matmul(matmul_compute(precision_), /*transpose_a=*/true, /*transpose_b=*/false,
                       {io, in, out, in_features_}, {io, in, n, in_features_}, {io, out, n, out_features_}, b_);
  }

  const ConvLayer& layer_;
  int in_;
  int out_;
  Precision precision_;
  const void* w_ = nullptr;
  const void* b_ = nullptr;
  std::optional<ActivationParams> act_;
  std::int64_t in_features_ = 0, out_features_ = 0;
  std::uint32_t alignment_ = 256;
  std::uint64_t workspace_ = 0;
};

}  // namespace

bool is_pointwise_of_vector(const ConvParams& p, const Shape& input) {
  return !p.transposed && p.groups == 1 && p.kernel[0] == 1 && p.kernel[1] == 1 && p.padding[0] == 0 &&
         p.padding[1] == 0 && input.size() == 4 && input[2] == 1 && input[3] == 1;
}

std::unique_ptr<GpuOp> make_pointwise_gemm_op(const OpBuildEnv& env) { return std::make_unique<PointwiseGemmOp>(env); }

}  // namespace kiln::gpu
