// Typed errors: the check macros (naming the layer and the call), misuse of the run API, and layers the
// GPU cannot run. Each asserts the message text.
#include <gmock/gmock.h>

#include <cublasLt.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "engine/gpu/backend.h"
#include "engine/gpu/check.h"
#include "engine/gpu/resource.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "<no exception>";
}

TEST(GpuCheck, CudnnFailureThrowsCudnnErrorNamingLayerAndCall) {
  const std::string layer = "enc.3";
  try {
    LayerScope scope(layer);
    KILN_CUDNN_CHECK(cudnnSetStream(nullptr, nullptr));
    FAIL() << "cudnnSetStream on a null handle succeeded";
  } catch (const CudnnError& e) {
    EXPECT_EQ(e.layer(), "enc.3");
    EXPECT_NE(e.status(), 0);
    EXPECT_THAT(e.what(), HasSubstr("cuDNN error"));
    EXPECT_THAT(e.what(), HasSubstr("CUDNN_STATUS_"));
    EXPECT_THAT(e.what(), HasSubstr("in layer enc.3"));
    EXPECT_THAT(e.what(), HasSubstr("cudnnSetStream(nullptr, nullptr)"));
    EXPECT_THAT(e.what(), HasSubstr("errors_test.cpp:"));
  }
  EXPECT_EQ(current_layer(), "") << "the scope must end with its block";
}

cudnnStatus_t refuse_to_create(cudnnTensorDescriptor_t*) { return CUDNN_STATUS_BAD_PARAM; }

TEST(GpuCheck, ResourceAndBackendFailuresNameTheCallersLine) {
  const int line = __LINE__ + 1;
  const std::string msg = message_of<CudnnError>([] { make_resource<TensorDesc>(&refuse_to_create, "create it"); });
  EXPECT_THAT(msg, HasSubstr("create it at "));
  EXPECT_THAT(msg, HasSubstr("errors_test.cpp:" + std::to_string(line)));
  EXPECT_THAT(msg, Not(HasSubstr("resource.h")));
  // A backend descriptor that cuDNN refuses to finalize names its type, by name, and this line.
  const int finalize_line = __LINE__ + 2;
  const std::string fin = message_of<CudnnError>(
      [] { BackendDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR).finalize(); });
  EXPECT_THAT(fin, HasSubstr("cudnnBackendFinalize(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR)"));
  EXPECT_THAT(fin, HasSubstr("errors_test.cpp:" + std::to_string(finalize_line)));
}

TEST(GpuCheck, CudaFailureThrowsCudaErrorAndScopesNest) {
  const std::string outer = "dec.1";
  const std::string inner = "dec.1.inner";
  LayerScope a(outer);
  {
    LayerScope b(inner);
    const std::string msg = message_of<CudaError>([] { KILN_CUDA_CHECK(cudaSetDevice(-1)); });
    EXPECT_THAT(msg, HasSubstr("CUDA error"));
    EXPECT_THAT(msg, HasSubstr("in layer dec.1.inner"));
    EXPECT_THAT(msg, HasSubstr("cudaSetDevice(-1)"));
  }
  EXPECT_EQ(current_layer(), "dec.1");
}

TEST(GpuCheck, CublasFailureThrowsCublasError) {
  KILN_REQUIRE_GPU();
  cublasLtMatmulDesc_t desc = nullptr;
  ASSERT_EQ(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), CUBLAS_STATUS_SUCCESS);
  const cublasOperation_t op = CUBLAS_OP_T;
  const std::string layer = "fc";
  LayerScope scope(layer);
  const std::string msg = message_of<CublasError>([&] {
    KILN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &op, 1));  // wrong size
  });
  EXPECT_THAT(msg, HasSubstr("cuBLAS error"));
  EXPECT_THAT(msg, HasSubstr("CUBLAS_STATUS_INVALID_VALUE"));
  EXPECT_THAT(msg, HasSubstr("in layer fc"));
  cublasLtMatmulDescDestroy(desc);
}

TEST(GpuCheck, EvaluatesItsArgumentOnceAndLogTwinNeverThrows) {
  int calls = 0;
  auto counted = [&calls] {
    ++calls;
    return cudaSuccess;
  };
  KILN_CUDA_CHECK(counted());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(KILN_CUDNN_LOG(cudnnSetStream(nullptr, nullptr)));
  EXPECT_TRUE(KILN_CUDA_LOG(counted()));
  EXPECT_EQ(calls, 2);
}

TEST(GpuOptions, ParsersNameTheChoices) {
  EXPECT_EQ(parse_precision("tf32"), Precision::Tf32);
  EXPECT_EQ(parse_algo_mode("find"), AlgoMode::Find);
  EXPECT_EQ(parse_precision("fp16"), Precision::Fp16);
  EXPECT_STREQ(precision_name(Precision::Fp16), "fp16");
  EXPECT_THAT(message_of<UsageError>([] { parse_precision("fp8"); }),
              HasSubstr("precision: expected fp32, tf32 or fp16, got 'fp8'"));
  EXPECT_THAT(message_of<UsageError>([] { parse_algo_mode("fast"); }),
              HasSubstr("expected heuristic or find, got 'fast'"));
}

TEST(GpuOptions, BuiltFromTheCommandLineStringsInOnePlace) {
  const GpuEngineOptions o = engine_options_from("tf32", "find", 64);
  EXPECT_EQ(o.precision, Precision::Tf32);
  EXPECT_EQ(o.algo, AlgoMode::Find);
  EXPECT_EQ(o.workspace_cap_bytes, std::uint64_t{64} << 20);
  EXPECT_THAT(message_of<UsageError>([] { engine_options_from("fp32", "heuristic", -1); }),
              HasSubstr("--workspace-mb: expected a size in MiB from 0 to 2^30, got -1"));
  EXPECT_THAT(message_of<UsageError>([] { engine_options_from("bf16", "heuristic", 8); }),
              HasSubstr("got 'bf16'"));
}

// The A/B switches of the environment: KILN_DECONV, KILN_DEPTHWISE, KILN_DIRECT_CONV, KILN_IM2COL and
// KILN_FUSE_RESIDUAL pick a path or name the choices.
TEST(GpuOptions, EnvironmentPicksDeconvolutionAndDepthwisePaths) {
  const auto with_env = [](const char* name, const char* value) {
    setenv(name, value, 1);
    GpuEngineOptions o;
    std::string error;
    try {
      o = engine_options_from("fp16", "heuristic", 8);
    } catch (const UsageError& e) {
      error = e.what();
    }
    unsetenv(name);
    return std::make_pair(o, error);
  };
  EXPECT_EQ(engine_options_from("fp16", "heuristic", 8).depthwise, DepthwiseAlgo::Auto);
  EXPECT_EQ(with_env("KILN_DEPTHWISE", "kiln").first.depthwise, DepthwiseAlgo::Kiln);
  EXPECT_EQ(with_env("KILN_DEPTHWISE", "cudnn").first.depthwise, DepthwiseAlgo::Cudnn);
  EXPECT_EQ(with_env("KILN_DEPTHWISE", "auto").first.depthwise, DepthwiseAlgo::Auto);
  EXPECT_THAT(with_env("KILN_DEPTHWISE", "fast").second,
              HasSubstr("KILN_DEPTHWISE: expected auto, kiln or cudnn, got 'fast'"));
  EXPECT_EQ(with_env("KILN_DECONV", "gemm").first.deconv, DeconvAlgo::Gemm);
  EXPECT_EQ(with_env("KILN_DECONV", "dgrad").first.deconv, DeconvAlgo::DataGradient);
  EXPECT_THAT(with_env("KILN_DECONV", "x").second, HasSubstr("KILN_DECONV: expected auto, gemm or dgrad, got 'x'"));
  EXPECT_EQ(engine_options_from("fp16", "heuristic", 8).direct_conv, DirectConvAlgo::Auto);
  EXPECT_EQ(with_env("KILN_DIRECT_CONV", "kiln").first.direct_conv, DirectConvAlgo::Kiln);
  EXPECT_EQ(with_env("KILN_DIRECT_CONV", "cudnn").first.direct_conv, DirectConvAlgo::Cudnn);
  EXPECT_EQ(with_env("KILN_DIRECT_CONV", "auto").first.direct_conv, DirectConvAlgo::Auto);
  EXPECT_THAT(with_env("KILN_DIRECT_CONV", "on").second,
              HasSubstr("KILN_DIRECT_CONV: expected auto, kiln or cudnn, got 'on'"));
  EXPECT_EQ(engine_options_from("fp16", "heuristic", 8).im2col, Im2colAlgo::Auto);
  EXPECT_EQ(with_env("KILN_IM2COL", "gemm").first.im2col, Im2colAlgo::Gemm);
  EXPECT_EQ(with_env("KILN_IM2COL", "off").first.im2col, Im2colAlgo::Off);
  EXPECT_EQ(with_env("KILN_IM2COL", "auto").first.im2col, Im2colAlgo::Auto);
  EXPECT_THAT(with_env("KILN_IM2COL", "1").second, HasSubstr("KILN_IM2COL: expected auto, gemm or off, got '1'"));
  EXPECT_TRUE(engine_options_from("fp16", "heuristic", 8).fuse_residual);
  EXPECT_TRUE(with_env("KILN_FUSE_RESIDUAL", "1").first.fuse_residual);
  EXPECT_FALSE(with_env("KILN_FUSE_RESIDUAL", "0").first.fuse_residual);
  EXPECT_THAT(with_env("KILN_FUSE_RESIDUAL", "yes").second, HasSubstr("KILN_FUSE_RESIDUAL: expected 1 or 0, got 'yes'"));
  EXPECT_FALSE(engine_options_from("fp32", "heuristic", 8).fp32_transforms);
  EXPECT_TRUE(with_env("KILN_FP32_TRANSFORMS", "1").first.fp32_transforms);
  EXPECT_FALSE(with_env("KILN_FP32_TRANSFORMS", "0").first.fp32_transforms);
  EXPECT_THAT(with_env("KILN_FP32_TRANSFORMS", "on").second,
              HasSubstr("KILN_FP32_TRANSFORMS: expected 1 or 0, got 'on'"));
}

class GpuRunErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!no_device_reason().empty()) GTEST_SKIP() << no_device_reason();
    model_ = std::make_unique<TestModel>(
        std::vector<std::pair<std::string, Shape>>{{"x", {2, 3, 5, 5}}},
        std::vector<std::string>{"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 2, kernel_size: 3}, "
                                 "weights: {weight: w}}"},
        std::vector<std::string>{"c"}, std::vector<TestModel::Tensor>{{"w", {2, 3, 3, 3}}});
    engine_ = GpuEngine::load(model_->dir());
  }
  std::unique_ptr<TestModel> model_;
  std::shared_ptr<const GpuEngine> engine_;
};

TEST_F(GpuRunErrors, BadCallsThrowUsageErrorsNamingWhatIsWrong) {
  ExecutionContext ctx(engine_);
  const std::vector<HostTensor> in = random_inputs(engine_->graph(), 2, 1);
  EXPECT_THAT(message_of<UsageError>([&] { ctx.run(in, 0); }), HasSubstr("batch 0 is outside 1..2"));
  EXPECT_THAT(message_of<UsageError>([&] { ctx.run(in, 3); }), HasSubstr("batch 3 is outside 1..2"));
  EXPECT_THAT(message_of<UsageError>([&] { ctx.run({}, 2); }), HasSubstr("the model takes 1 input(s), got 0"));
  EXPECT_THAT(message_of<UsageError>([&] { ctx.run(in, 1); }),
              HasSubstr("input 'x' has 150 elements, expected [1,3,5,5] = 75"));
  std::vector<HostTensor> renamed = in;
  renamed[0].name = "y";
  EXPECT_THAT(message_of<UsageError>([&] { ctx.run(renamed, 2); }), HasSubstr("named 'y', the model expects 'x'"));
  EXPECT_THAT(message_of<UsageError>([&] { ctx.run(in, 2, RunOptions{true}); }),
              HasSubstr("keep_layer_outputs needs an engine loaded with keep_all_layer_outputs"));
  EXPECT_THAT(message_of<UsageError>([&] { ctx.run_device({nullptr}, {nullptr}, 1); }),
              HasSubstr("run_device: input 'x' is null"));
  // The context still works after rejected calls.
  EXPECT_EQ(ctx.run(in, 2).outputs.at(0).shape, (Shape{2, 2, 3, 3}));
}

TEST_F(GpuRunErrors, UnknownDeviceIsAUsageError) {
  GpuEngineOptions options;
  options.device = 99;
  EXPECT_THAT(message_of<UsageError>([&] { GpuEngine::load(model_->dir(), options); }),
              HasSubstr("GPU device 99 does not exist"));
}

TEST_F(GpuRunErrors, LayerTheGpuCannotRunIsAModelErrorNamingIt) {
  // Valid for PyTorch and the CPU reference (output_padding < dilation), but cuDNN's data gradient
  // needs output_padding < stride.
  const TestModel m({{"x", {1, 2, 4, 4}}},
                    {"{name: up, op: conv_transpose2d, inputs: [x], attributes: {out_channels: 2, kernel_size: 3, "
                     "dilation: 2, output_padding: 1}, weights: {weight: w}}"},
                    {"up"}, {{"w", {2, 2, 3, 3}}});
  const std::string msg = message_of<ModelError>([&] { GpuEngine::load(m.dir()); });
  EXPECT_THAT(msg, HasSubstr("layer up (conv_transpose2d)"));
  EXPECT_THAT(msg, HasSubstr("output_padding >= stride is not supported on the GPU"));
}

}  // namespace
}  // namespace kiln::gpu::test
