// linear on the GPU: cuBLASLt with its bias epilogue: y[N, out] = x[N, in] · W^T + b, W row-major [out, in].
// In cuBLASLt's column-major terms: D (out × N, ld out) = op_T(A: in × out, ld in) · B (in × N, ld in).
// Fp32 computes in CUBLAS_COMPUTE_32F (no tensor cores), Tf32 in CUBLAS_COMPUTE_32F_FAST_TF32, Fp16 with
// half A, B, D and bias (CUDA_R_16F) in CUBLAS_COMPUTE_32F with float scales (tensor cores, float
// accumulation). The input is [N, in] packed in PyTorch's order in every precision (an fp16 flatten
// reorders NHWC first), so W needs no permutation.
#include <algorithm>

#include "engine/gpu/op.h"
#include "engine/gpu/resource.h"
#include "layers/linear/linear.h"

namespace kiln::gpu {

namespace {

constexpr std::uint64_t kLinearWorkspace = std::uint64_t{32} << 20;  // cuBLASLt's suggestion for Hopper

struct Problem {
  MatmulDesc op;
  MatrixLayout a, b, d;
};

Problem make_problem(const LinearParams& p, std::int64_t batch, Precision precision, const void* bias) {
  Problem pr;
  const cublasComputeType_t compute =
      precision == Precision::Tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const cudaDataType_t io = precision == Precision::Fp16 ? CUDA_R_16F : CUDA_R_32F;
  pr.op = make_resource<MatmulDesc>(&cublasLtMatmulDescCreate, "cublasLtMatmulDescCreate", compute, CUDA_R_32F);
  const cublasOperation_t trans_a = CUBLAS_OP_T;
  const cublasOperation_t trans_b = CUBLAS_OP_N;
  KILN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof(trans_a)));
  KILN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof(trans_b)));
  if (bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    KILN_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
    KILN_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  }
  const auto in = static_cast<std::uint64_t>(p.in_features);
  const auto out = static_cast<std::uint64_t>(p.out_features);
  const auto n = static_cast<std::uint64_t>(batch);
  pr.a = make_resource<MatrixLayout>(&cublasLtMatrixLayoutCreate, "cublasLtMatrixLayoutCreate", io, in, out,
                                     p.in_features);
  pr.b = make_resource<MatrixLayout>(&cublasLtMatrixLayoutCreate, "cublasLtMatrixLayoutCreate", io, in, n,
                                     p.in_features);
  pr.d = make_resource<MatrixLayout>(&cublasLtMatrixLayoutCreate, "cublasLtMatrixLayoutCreate", io, out, n,
                                     p.out_features);
  return pr;
}

// cuBLASLt's first heuristic choice within `workspace` bytes. Deterministic for a given problem, so
// every context picks the same algorithm.
cublasLtMatmulHeuristicResult_t pick_algorithm(cublasLtHandle_t handle, const Problem& pr, std::uint64_t workspace) {
  MatmulPreference pref = make_resource<MatmulPreference>(&cublasLtMatmulPreferenceCreate, "cublasLtMatmulPreferenceCreate");
  KILN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                         &workspace, sizeof(workspace)));
  cublasLtMatmulHeuristicResult_t result{};
  int count = 0;
  KILN_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(handle, pr.op.get(), pr.a.get(), pr.b.get(), pr.d.get(), pr.d.get(),
                                                   pref.get(), 1, &result, &count));
  if (count < 1) {
    check_status(CUBLAS_STATUS_NOT_SUPPORTED, "cublasLtMatmulAlgoGetHeuristic returned no algorithm", __FILE__, __LINE__);
  }
  return result;
}

struct PreparedLinear final : PreparedOp {
  Problem pr;
  cublasLtMatmulHeuristicResult_t algo{};
  const void* w = nullptr;
  const void* x = nullptr;
  void* y = nullptr;

  void run(const OpRunEnv& env) const override {
    const float one = 1.0f;
    const float zero = 0.0f;
    KILN_CUBLAS_CHECK(cublasLtMatmul(env.cublaslt, pr.op.get(), &one, w, pr.a.get(), x, pr.b.get(), &zero, y,
                                     pr.d.get(), y, pr.d.get(), &algo.algo, env.workspace, algo.workspaceSize,
                                     env.stream));
  }
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
    const Problem pr = make_problem(p_, env.max_batch, precision_, b_);
    workspace_ = pick_algorithm(env.cublaslt, pr, std::min(env.options.workspace_cap_bytes, kLinearWorkspace))
                     .workspaceSize;
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    auto op = std::make_unique<PreparedLinear>();
    op->pr = make_problem(p_, batch, precision_, b_);
    op->algo = pick_algorithm(env.cublaslt, op->pr, std::min<std::uint64_t>(env.workspace_bytes, workspace_));
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
