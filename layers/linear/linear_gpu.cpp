// linear on the GPU: cuBLASLt with its bias epilogue: y[N, out] = x[N, in] · W^T + b, W row-major [out, in].
// In cuBLASLt's column-major terms: D (out × N, ld out) = op_T(A: in × out, ld in) · B (in × N, ld in).
// Fp32 computes in CUBLAS_COMPUTE_32F (no tensor cores), Tf32 in CUBLAS_COMPUTE_32F_FAST_TF32, Fp16 with
// half A, B, D and bias (CUDA_R_16F) in CUBLAS_COMPUTE_32F with float scales (tensor cores, float
// accumulation). The input is [N, in] packed in PyTorch's order in every precision (an fp16 flatten
// reorders NHWC first), so W needs no permutation.
#include <algorithm>

#include "engine/gpu/matmul.h"
#include "engine/gpu/op.h"
#include "layers/linear/linear.h"

namespace kiln::gpu {

namespace {

constexpr std::uint64_t kLinearWorkspace = std::uint64_t{32} << 20;  // cuBLASLt's suggestion for Hopper

MatmulProblem make_problem(const LinearParams& p, std::int64_t batch, Precision precision, const void* bias) {
  const cudaDataType_t io = matmul_io_type(precision);
  const auto in = static_cast<std::uint64_t>(p.in_features);
  const auto out = static_cast<std::uint64_t>(p.out_features);
  const auto n = static_cast<std::uint64_t>(batch);
  return make_matmul(matmul_compute(precision), /*transpose_a=*/true, /*transpose_b=*/false,
                     {io, in, out, p.in_features}, {io, in, n, p.in_features}, {io, out, n, p.out_features}, bias);
}

struct PreparedLinear final : PreparedOp {
  MatmulProblem pr;
  cublasLtMatmulHeuristicResult_t algo{};
  const void* w = nullptr;
  const void* x = nullptr;
  void* y = nullptr;

  void run(const OpRunEnv& env) const override { run_matmul(env.cublaslt, pr, algo, w, x, y, env.workspace, env.stream); }
};

WeightForm weight_form(Precision p) { return p == Precision::Fp16 ? WeightForm::F16 : WeightForm::F32; }

class LinearOp final : public GpuOp {
 public:
  explicit LinearOp(const OpBuildEnv& env)
      : p_(layer_as<LinearLayer>(env.layer).params()),
        in_(env.inputs.at(0)),
        out_(env.output),
        precision_(env.precision()) {
    const LinearLayer& layer = layer_as<LinearLayer>(env.layer);
    w_ = env.weights.get({&layer.weight(), weight_form(precision_)});
    b_ = layer.bias() ? env.weights.get({layer.bias(), weight_form(precision_)}) : nullptr;
    const MatmulProblem pr = make_problem(p_, env.max_batch, precision_, b_);
    workspace_ = pick_matmul_algorithm(env.cublaslt, pr, std::min(env.options.workspace_cap_bytes, kLinearWorkspace))
                     .workspaceSize;
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    auto op = std::make_unique<PreparedLinear>();
    op->pr = make_problem(p_, batch, precision_, b_);
    op->algo = pick_matmul_algorithm(env.cublaslt, op->pr, std::min<std::uint64_t>(env.workspace_bytes, workspace_));
    op->w = w_;
    op->x = env.tensor(in_);
    op->y = env.tensor(out_);
    return op;
  }

  std::string describe() const override {
    const char* mode = precision_ == Precision::Tf32   ? "COMPUTE_32F_FAST_TF32"
                       : precision_ == Precision::Fp16 ? "COMPUTE_32F, half I/O"
                                                       : "COMPUTE_32F";
    return std::string("cublasLt ") + mode + (b_ ? " (bias epilogue)" : "");
  }
  std::uint64_t workspace_bytes() const override { return workspace_; }

 private:
  LinearParams p_;
  const void* w_ = nullptr;
  const void* b_ = nullptr;
  int in_;
  int out_;
  Precision precision_;
  std::uint64_t workspace_ = 0;
};

OpDeclaration declare(const Layer& layer, Precision p) {
  const LinearLayer& linear = layer_as<LinearLayer>(layer);
  OpDeclaration d;
  d.weights = {{&linear.weight(), weight_form(p)}};
  if (linear.bias()) d.weights.push_back({linear.bias(), weight_form(p)});
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) { return std::make_unique<LinearOp>(env); }

}  // namespace

const GpuOpKind linear_gpu{&declare, &build};

}  // namespace kiln::gpu
