// Stem conv2d in fp16 as im2col + cuBLASLt GEMM: Note [stem convolution as im2col GEMM] in
// layers/conv/im2col_gemm_gpu.h.
#include "layers/conv/im2col_gemm_gpu.h"

#include <algorithm>
#include <optional>

#include "engine/gpu/layout.h"
#include "engine/gpu/matmul.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/activation/affine_activation.h"
#include "layers/conv/im2col_kernels.h"

namespace kiln::gpu {

namespace {

// Rows per chunk are a multiple of this, so every chunk's output pointer keeps 256-byte alignment
// (128 rows of at least 8 half channels).
constexpr std::int64_t kRowQuantum = 128;

// A chunk's GEMM; its count is output positions (im2col rows).
using ChunkProblem = MatmulChunk;

class PreparedIm2colGemm final : public PreparedOp {
 public:
  void run(const OpRunEnv& env) const override {
    for (std::int64_t first = 0; first < rows; first += full.count) {
      const ChunkProblem& c = rows - first >= full.count ? full : rest;
      launch_im2col(x, params, out_h, out_w, first, c.count, row_length, cols, env.stream);
      run_matmul(env.cublaslt, c.pr, c.algo, w, cols, static_cast<char*>(y.data) + first * out_row_bytes,
                 env.workspace, env.stream);
    }
    if (act) launch_affine_activation(y, y, nullptr, nullptr, &*act, env.stream);
  }

  TensorView x, y;
  ConvParams params;
  std::int64_t out_h = 0, out_w = 0, rows = 0, row_length = 0, out_row_bytes = 0;
  ChunkProblem full, rest;
  const void* w = nullptr;
  void* cols = nullptr;
  std::optional<ActivationParams> act;  // an activation the GEMM's epilogue does not apply
};

class Im2colGemmOp final : public GpuOp {
 public:
  Im2colGemmOp(const OpBuildEnv& env, const Im2colGemmPlan& plan)
      : layer_(layer_as<ConvLayer>(env.layer)), p_(layer_.params()), plan_(plan), in_(env.inputs.at(0)),
        out_(env.output) {
    const std::vector<WeightRequest> forms = im2col_gemm_weight_forms(layer_);
    w_ = env.weights.get(forms[0]);
    if (layer_.bias()) bias_ = env.weights.get(forms[1]);
    if (env.epilogue) act_ = activation_params(*env.epilogue);
    relu_in_gemm_ = act_ && act_->kind == ActivationKind::Relu;
    out_channels_ = stored_channels(layer_.output_shape(), Precision::Fp16);
    // Chosen once at max batch so a GEMM cuBLASLt cannot run fails at load, not in a context; the
    // workspace reserved for cuBLASLt is then what that algorithm needs (its first choice within that
    // smaller limit is the same one), not the generous limit it was asked with.
    const ChunkProblem c = problem(env.cublaslt, plan_.chunk_rows, plan_.matmul_workspace);
    plan_.matmul_workspace = align_workspace(c.algo.workspaceSize);
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    auto op = std::make_unique<PreparedIm2colGemm>();
    const Shape ys = Layer::at_batch(layer_.output_shape(), batch);
    op->x = env.view(in_, layer_.input_shapes()[0], batch, Precision::Fp16);
    op->y = activation_view(env.tensor(out_), ys, Precision::Fp16);
    op->params = p_;
    op->out_h = ys[2];
    op->out_w = ys[3];
    op->rows = batch * ys[2] * ys[3];
    op->row_length = plan_.row_length;
    op->out_row_bytes = out_channels_ * 2;
    const std::uint64_t reserve = align_workspace(std::min(plan_.matmul_workspace, env.workspace_bytes));
    op->cols = static_cast<char*>(env.workspace) + reserve;
    op->full = problem(env.cublaslt, std::min(op->rows, plan_.chunk_rows), reserve);
    if (op->rows > plan_.chunk_rows && op->rows % plan_.chunk_rows != 0) {
      op->rest = problem(env.cublaslt, op->rows % plan_.chunk_rows, reserve);
    }
    op->w = w_;
    if (act_ && !relu_in_gemm_) op->act = act_;
    return op;
  }

  std::string describe() const override {
    std::string s = "im2col + cublasLt GEMM (" + std::to_string(plan_.row_length) + "-element rows, " +
                    std::to_string(plan_.chunk_rows) + " positions per GEMM";
    if (bias_ || relu_in_gemm_) s += std::string("; ") + (bias_ ? "bias" : "") + (bias_ && relu_in_gemm_ ? "+" : "") +
                                     (relu_in_gemm_ ? "relu" : "") + " in the GEMM epilogue";
    if (act_ && !relu_in_gemm_) s += std::string("; ") + activation_name(act_->kind) + " by epilogue kernel";
    return s + ")";
  }
  std::uint64_t workspace_bytes() const override { return plan_.workspace_bytes(); }

 private:
  // y (stored channels x rows, column-major: NHWC) = F^T (F row-major [channels][row_length]) * cols
  // (row_length x rows, column-major: the im2col rows). Every pointer is 256-byte aligned: weights
  // and workspace by construction, the output by the arena and the chunk size (kRowQuantum).
  ChunkProblem problem(cublasLtHandle_t handle, std::int64_t rows, std::uint64_t workspace) const {
    ChunkProblem c;
    c.count = rows;
    const auto k = static_cast<std::uint64_t>(plan_.row_length);
    const auto out = static_cast<std::uint64_t>(out_channels_);
    c.pr = make_matmul(CUBLAS_COMPUTE_32F, /*transpose_a=*/true, /*transpose_b=*/false, {CUDA_R_16F, k, out, plan_.row_length},
                       {CUDA_R_16F, k, static_cast<std::uint64_t>(rows), plan_.row_length},
                       {CUDA_R_16F, out, static_cast<std::uint64_t>(rows), out_channels_}, bias_, relu_in_gemm_);
    c.algo = pick_matmul_algorithm(handle, c.pr, workspace, 256);
    return c;
  }

  const ConvLayer& layer_;
  ConvParams p_;
  Im2colGemmPlan plan_;
  int in_;
  int out_;
  const void* w_ = nullptr;
  const void* bias_ = nullptr;  // padded half
  std::optional<ActivationParams> act_;
  bool relu_in_gemm_ = false;
  std::int64_t out_channels_ = 0;  // stored
};

}  // namespace

Im2colGemmPlan plan_im2col_gemm(const ConvParams& p, const Shape& output, Precision precision, std::int64_t max_batch,
                                std::uint64_t workspace_cap) {
  Im2colGemmPlan plan;
  auto no = [&](const std::string& why) {
    plan.why_not = why;
    return plan;
  };
  if (precision != Precision::Fp16) return no("not fp16");
  if (p.transposed) return no("a transposed convolution");
  if (p.groups != 1) return no("grouped");
  if (output.size() != 4 || max_batch < 1) return no("not a 4-D output");
  plan.row_length = pad_channels(p.kernel[0] * p.kernel[1] * p.in_channels);
  if (plan.row_length > kIm2colMaxRowLength) {
    return no("im2col rows of " + std::to_string(plan.row_length) + " elements (at most " +
              std::to_string(kIm2colMaxRowLength) + ")");
  }
  const auto row_bytes = static_cast<std::uint64_t>(plan.row_length) * 2;
  plan.matmul_workspace = matmul_reserve(workspace_cap);
  if (workspace_cap < plan.matmul_workspace + kRowQuantum * row_bytes) {
    return no("the workspace cap leaves no room for " + std::to_string(kRowQuantum) + " im2col rows");
  }
  const std::int64_t rows = max_batch * output[2] * output[3];
  if (rows >= (std::int64_t{1} << 31)) return no("2^31 or more output positions");  // the kernel's 32-bit indices
  const std::uint64_t room = std::min(workspace_cap - plan.matmul_workspace, kIm2colChunkTarget);
  const std::int64_t fit = static_cast<std::int64_t>(room / row_bytes) / kRowQuantum * kRowQuantum;
  plan.chunk_rows = std::min(rows, std::max(fit, kRowQuantum));
  plan.eligible = true;
  return plan;
}

bool im2col_gemm_candidate(const ConvParams& p, Precision precision) {
  return precision == Precision::Fp16 && !p.transposed && p.groups == 1 && p.in_channels <= kIm2colMaxInChannels;
}

bool im2col_gemm_preferred(const ConvParams& p, Precision precision) {
  // 3x3 stems stay with cuDNN, which is faster there (MobileNet-V2's 0.057 ms against the GEMM's 0.088
  // at batch 32, the autoencoder's 0.53 against 1.15: benchmarks/NOTES.md, 2026-12-04).
  return im2col_gemm_candidate(p, precision) && p.in_channels <= 4 && p.out_channels > 8 &&
         p.kernel[0] * p.kernel[1] >= 25;
}

std::vector<WeightRequest> im2col_gemm_weight_forms(const ConvLayer& layer) {
  std::vector<WeightRequest> r{{&layer.weight(), WeightForm::F16Im2colRows}};
  if (layer.bias()) r.push_back({layer.bias(), WeightForm::F16Padded});
  return r;
}

std::unique_ptr<GpuOp> make_im2col_gemm_op(const OpBuildEnv& env, const Im2colGemmPlan& plan) {
  return std::make_unique<Im2colGemmOp>(env, plan);
}

bool is_im2col_gemm_op(const GpuOp* op) { return dynamic_cast<const Im2colGemmOp*>(op) != nullptr; }

}  // namespace kiln::gpu
