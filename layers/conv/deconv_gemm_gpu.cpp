// conv_transpose2d with kernel = stride as cuBLASLt GEMM + scatter: Note [deconvolution as GEMM] in
// layers/conv/deconv_gemm_gpu.h.
#include "layers/conv/deconv_gemm_gpu.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/gpu/layout.h"
#include "engine/gpu/matmul.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/conv/deconv_scatter_kernels.h"

namespace kiln::gpu {

namespace {

// A chunk's GEMM; its count is images.
using ChunkProblem = MatmulChunk;

class PreparedDeconvGemm final : public PreparedOp {
 public:
  void run(const OpRunEnv& env) const override {
    for (std::int64_t first = 0; first < batch; first += full.count) {
      const ChunkProblem& c = batch - first >= full.count ? full : rest;
      const void* x_chunk = static_cast<const char*>(x) + first * x_image_bytes;
      TensorView y_chunk = y;
      y_chunk.data = static_cast<char*>(y.data) + first * y_image_bytes;
      y_chunk.n = c.count;
      if (fp16) {
        run_matmul(env.cublaslt, c.pr, c.algo, w, x_chunk, product, env.workspace, env.stream);
      } else {
        run_matmul(env.cublaslt, c.pr, c.algo, x_chunk, w, product, env.workspace, env.stream);
      }
      launch_deconv_scatter(product, y_chunk, h, wd, kh, kw, bias, act ? &*act : nullptr, env.stream);
    }
  }

  bool fp16 = false;
  std::int64_t batch = 0, h = 0, wd = 0, kh = 0, kw = 0;
  ChunkProblem full, rest;
  const void* x = nullptr;
  const void* w = nullptr;
  void* product = nullptr;
  TensorView y;
  std::uint64_t x_image_bytes = 0, y_image_bytes = 0;
  const float* bias = nullptr;
  std::optional<ActivationParams> act;
};

class DeconvGemmOp final : public GpuOp {
 public:
  DeconvGemmOp(const OpBuildEnv& env, const DeconvGemmPlan& plan)
      : layer_(layer_as<ConvLayer>(env.layer)), p_(layer_.params()), plan_(plan), in_(env.inputs.at(0)),
        out_(env.output), precision_(env.precision()) {
    if (env.epilogue) act_ = activation_params(*env.epilogue);
    const bool half = precision_ == Precision::Fp16;
    w_ = env.weights.get({&layer_.weight(), half ? WeightForm::F16Filter : WeightForm::F32, p_.groups});
    if (layer_.bias()) bias_ = static_cast<const float*>(env.weights.get({layer_.bias(), half ? WeightForm::F32Padded : WeightForm::F32}));
    // Choose once at max batch so an engine that cannot run the GEMM fails at load, not in a context
    // (with the weakest alignment a context can give it; prepare() asks again with the real one).
    (void)problem(env.cublaslt, plan_.chunk, plan_.matmul_workspace, 4);
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    auto op = std::make_unique<PreparedDeconvGemm>();
    const Shape& xs = layer_.input_shapes()[0];
    op->fp16 = precision_ == Precision::Fp16;
    op->batch = batch;
    op->h = xs[2];
    op->wd = xs[3];
    op->kh = p_.kernel[0];
    op->kw = p_.kernel[1];
    const std::uint64_t reserve = align_workspace(std::min(plan_.matmul_workspace, env.workspace_bytes));
    op->x = env.tensor(in_);
    op->w = w_;
    op->product = static_cast<char*>(env.workspace) + reserve;
    op->y = activation_view(env.tensor(out_), Layer::at_batch(layer_.output_shape(), batch), precision_);
    op->x_image_bytes = activation_bytes(Layer::at_batch(xs, 1), precision_);
    op->y_image_bytes = activation_bytes(Layer::at_batch(layer_.output_shape(), 1), precision_);
    // Every pointer a GEMM runs on: the input of each chunk (chunk * image bytes apart), the weights, the
    // product; and in fp32 the per-image batch strides of the input and the product.
    const std::uint32_t align = common_alignment(
        {reinterpret_cast<std::uintptr_t>(op->x), reinterpret_cast<std::uintptr_t>(w_),
         reinterpret_cast<std::uintptr_t>(op->product), static_cast<std::uint64_t>(plan_.chunk) * op->x_image_bytes,
         op->fp16 ? 256 : op->x_image_bytes, op->fp16 ? 256 : plan_.product_bytes});
    op->full = problem(env.cublaslt, std::min(batch, plan_.chunk), reserve, align);
    if (batch > plan_.chunk && batch % plan_.chunk != 0) {
      op->rest = problem(env.cublaslt, batch % plan_.chunk, reserve, align);
    }
    op->bias = bias_;
    op->act = act_;
    return op;
  }

  std::string describe() const override {
    std::string s = std::string("cublasLt GEMM + scatter (kernel = stride; ") +
                    (precision_ == Precision::Fp16 ? "half I/O" : precision_ == Precision::Tf32 ? "TF32" : "FP32") +
                    ", " + std::to_string(plan_.chunk) + " image(s) per GEMM";
    if (bias_) s += "; bias";
    if (act_) s += std::string("+") + activation_name(act_->kind);
    if (bias_ || act_) s += " in the scatter";
    return s + ")";
  }
  std::uint64_t workspace_bytes() const override { return align_workspace(plan_.matmul_workspace) + plan_.chunk * plan_.product_bytes; }

 private:
  ChunkProblem problem(cublasLtHandle_t handle, std::int64_t images, std::uint64_t workspace,
                       std::uint32_t alignment) const {
    ChunkProblem c;
    c.count = images;
    const Shape& xs = layer_.input_shapes()[0];
    const std::int64_t hw = xs[2] * xs[3];
    const std::int64_t taps = p_.kernel[0] * p_.kernel[1];
    if (precision_ == Precision::Fp16) {
      const std::int64_t cin_s = pad_channels(p_.in_channels);
      const std::int64_t q = taps * pad_channels(p_.out_channels);
      const auto m = static_cast<std::uint64_t>(images * hw);
      c.pr = make_matmul(CUBLAS_COMPUTE_32F, false, false,
                         {CUDA_R_16F, static_cast<std::uint64_t>(q), static_cast<std::uint64_t>(cin_s), q},
                         {CUDA_R_16F, static_cast<std::uint64_t>(cin_s), m, cin_s},
                         {CUDA_R_16F, static_cast<std::uint64_t>(q), m, q});
    } else {
      const std::int64_t cin = p_.in_channels;
      const std::int64_t q = taps * p_.out_channels;
      const int n = static_cast<int>(images);
      c.pr = make_matmul(matmul_compute(precision_), false, true,
                         {CUDA_R_32F, static_cast<std::uint64_t>(hw), static_cast<std::uint64_t>(cin), hw, n, cin * hw},
                         {CUDA_R_32F, static_cast<std::uint64_t>(q), static_cast<std::uint64_t>(cin), q, n, 0},
                         {CUDA_R_32F, static_cast<std::uint64_t>(hw), static_cast<std::uint64_t>(q), hw, n, q * hw});
    }
    c.algo = pick_matmul_algorithm(handle, c.pr, workspace, alignment);
    return c;
  }

  const ConvLayer& layer_;
  ConvParams p_;
  DeconvGemmPlan plan_;
  int in_;
  int out_;
  Precision precision_;
  const void* w_ = nullptr;
  const float* bias_ = nullptr;
  std::optional<ActivationParams> act_;
};

}  // namespace

DeconvGemmPlan plan_deconv_gemm(const ConvParams& p, const Shape& output, Precision precision, std::int64_t max_batch,
                                std::uint64_t workspace_cap) {
  DeconvGemmPlan plan;
  auto no = [&](const std::string& why) {
    plan.why_not = why;
    return plan;
  };
  if (!p.transposed) return no("not a transposed convolution");
  if (p.groups != 1) return no("grouped");
  if (p.kernel != p.stride) return no("kernel differs from stride");
  if (p.padding != Pair{0, 0} || p.output_padding != Pair{0, 0} || p.dilation != Pair{1, 1}) {
    return no("padding, output padding or dilation");
  }
  if (output.size() != 4 || max_batch < 1) return no("not a 4-D output");
  plan.product_bytes = activation_bytes(Layer::at_batch(output, 1), precision);
  plan.matmul_workspace = matmul_reserve(workspace_cap);
  if (workspace_cap < plan.matmul_workspace + plan.product_bytes) {
    return no("one image's product (" + std::to_string(plan.product_bytes >> 20) + " MiB) exceeds the workspace cap");
  }
  const std::uint64_t room = std::min(workspace_cap - plan.matmul_workspace,
                                      std::max(kDeconvProductTarget, plan.product_bytes));
  plan.chunk = std::min<std::int64_t>(max_batch, static_cast<std::int64_t>(room / plan.product_bytes));
  if (plan.chunk > (std::int64_t{1} << 30)) plan.chunk = std::int64_t{1} << 30;  // cuBLASLt's batch count is an int
  plan.eligible = true;
  return plan;
}

std::unique_ptr<GpuOp> make_deconv_gemm_op(const OpBuildEnv& env, const DeconvGemmPlan& plan) {
  return std::make_unique<DeconvGemmOp>(env, plan);
}

}  // namespace kiln::gpu
