// The autotuner (AlgoMode::Find) and its clock, time_per_run (engine/gpu/timing.h): the clock measures
// GPU work, not launches, and still times calls that cannot be captured; find mode picks among fusion
// depths and engines by time and matches the CPU reference over a table of convolutions in every
// precision; fp32 with FFT and Winograd engines admitted (GpuEngineOptions::fp32_transforms) is checked
// against the reference with the bound its closing measurement justifies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/gpu/check.h"
#include "engine/gpu/engine.h"
#include "engine/gpu/memory.h"
#include "engine/gpu/resource.h"
#include "engine/gpu/timing.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/layer_table.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

TEST(GpuTimePerRun, MeasuresGpuWorkNotLaunches) {
  KILN_REQUIRE_GPU();
  const Stream stream = make_stream();
  const DeviceBuffer buffer(std::uint64_t{64} << 20, "timing test buffer");
  int calls = 0;
  const auto memset_of = [&](std::uint64_t bytes) {
    return [&, bytes] {
      ++calls;
      KILN_CUDA_CHECK(cudaMemsetAsync(buffer.data(), calls & 0xff, bytes, stream.get()));
    };
  };
  const double small = time_per_run(stream.get(), memset_of(std::uint64_t{1} << 20), 20, 3);
  // One warm-up call, then 20 calls captured into the graph that is replayed: no more calls of the function.
  EXPECT_EQ(calls, 21);
  const double large = time_per_run(stream.get(), memset_of(std::uint64_t{64} << 20), 20, 3);
  EXPECT_GT(small, 0.0);
  // 64 MiB at the H100/H200's 3-5 TB/s is 13-22 us; 1 MiB is launch-sized. 64x the bytes must cost
  // several times as long if the graph times the GPU's work.
  EXPECT_GT(large, 3.0 * small) << "1 MiB " << small << " ms, 64 MiB " << large << " ms";
  EXPECT_LT(large, 1.0) << "a 64 MiB memset cannot take a millisecond on a data-centre GPU";
}

TEST(GpuTimePerRun, TimesCallsThatCannotBeCapturedOnTheStream) {
  KILN_REQUIRE_GPU();
  const Stream stream = make_stream();
  const DeviceBuffer buffer(std::uint64_t{1} << 20, "timing test buffer");
  int calls = 0;
  int refused = 0;
  const auto enqueue = [&] {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    KILN_CUDA_CHECK(cudaStreamIsCapturing(stream.get(), &status));
    if (status != cudaStreamCaptureStatusNone) {  // what a call that synchronizes does under capture
      ++refused;
      throw CudaError("CUDA", cudaErrorStreamCaptureUnsupported, "operation not permitted when stream is capturing",
                      "cudaStreamSynchronize(stream)", "autotune_test.cpp", "");
    }
    ++calls;
    KILN_CUDA_CHECK(cudaMemsetAsync(buffer.data(), 0, buffer.size(), stream.get()));
  };
  const double ms = time_per_run(stream.get(), enqueue, 10, 2);
  EXPECT_GT(ms, 0.0);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(calls, 1 + 10 + 2 * 10);  // warm-up, a warm-up batch, two timed batches
  // The stream left capture mode and still works.
  KILN_CUDA_CHECK(cudaMemsetAsync(buffer.data(), 1, buffer.size(), stream.get()));
  KILN_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
}

TEST(GpuTimePerRun, RefusesNoRuns) {
  KILN_REQUIRE_GPU();
  const Stream stream = make_stream();
  EXPECT_THROW(time_per_run(stream.get(), [] {}, 0, 1), UsageError);
  EXPECT_THROW(time_per_run(stream.get(), [] {}, 1, 0), UsageError);
}

const LayerReport& report(const GpuEngine& engine, const std::string& name) {
  for (const LayerReport& r : engine.layer_reports()) {
    if (r.name == name) return r;
  }
  throw UsageError("no layer report for " + name);
}

// Convolutions with every epilogue find mode chooses a fusion depth for: bias + relu, bias + residual add
// + relu (ResNet's block end), a bare convolution, a strided one, a transposed one (cuDNN's data gradient
// in fp16), and a grouped one.
struct TunedCase {
  std::string label;
  Shape x;
  std::vector<std::string> layers;
  std::vector<TestModel::Tensor> weights;
  std::string output;
  std::string conv;  // the layer whose report must carry a measured time
};

void PrintTo(const TunedCase& c, std::ostream* os) { *os << c.label; }

std::vector<TunedCase> tuned_cases() {
  const auto w = [](const std::string& name, Shape s) { return TestModel::Tensor{name, std::move(s), -0.3f, 0.3f}; };
  std::vector<TunedCase> v;
  v.push_back({"conv3x3_bias_relu_c16",
               {3, 16, 14, 12},
               {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 24, kernel_size: 3, padding: 1}, "
                "weights: {weight: w, bias: b}}",
                "{name: r, op: relu, inputs: [c]}"},
               {w("w", {24, 16, 3, 3}), w("b", {24})},
               "r",
               "c"});
  v.push_back({"conv3x3_bias_add_relu_c32",
               {3, 32, 9, 11},
               {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 32, kernel_size: 3, padding: 1}, "
                "weights: {weight: w, bias: b}}",
                "{name: add, op: add, inputs: [c, x]}", "{name: r, op: relu, inputs: [add]}"},
               {w("w", {32, 32, 3, 3}), w("b", {32})},
               "r",
               "c"});
  v.push_back({"conv1x1_nobias_c40",
               {3, 40, 8, 8},
               {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 16, kernel_size: 1}, weights: {weight: w}}"},
               {w("w", {16, 40, 1, 1})},
               "c",
               "c"});
  v.push_back({"conv3x3_stride2_relu_c24",
               {3, 24, 17, 15},
               {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 48, kernel_size: 3, stride: 2, padding: 1}, "
                "weights: {weight: w, bias: b}}",
                "{name: r, op: relu, inputs: [c]}"},
               {w("w", {48, 24, 3, 3}), w("b", {48})},
               "r",
               "c"});
  v.push_back({"deconv3x3_stride2_c16",
               {3, 16, 7, 6},
               {"{name: c, op: conv_transpose2d, inputs: [x], attributes: {out_channels: 16, kernel_size: 3, stride: 2, "
                "padding: 1, output_padding: 1}, weights: {weight: w, bias: b}}"},
               {w("w", {16, 16, 3, 3}), w("b", {16})},
               "c",
               "c"});
  v.push_back({"conv3x3_groups4_c32",
               {3, 32, 10, 10},
               {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 32, kernel_size: 3, padding: 1, groups: 4}, "
                "weights: {weight: w, bias: b}}",
                "{name: r, op: relu, inputs: [c]}"},
               {w("w", {32, 8, 3, 3}), w("b", {32})},
               "r",
               "c"});
  // ResNet's 3x3 layer at 64 channels, where the heuristics rank Winograd engines at batch 32 (an H100
  // ran ResNet-18 fp32 b32 6 % faster with them admitted): the transforms' rounding is exercised here.
  v.push_back({"conv3x3_bias_relu_c64_batch8",
               {8, 64, 28, 28},
               {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 64, kernel_size: 3, padding: 1}, "
                "weights: {weight: w, bias: b}}",
                "{name: r, op: relu, inputs: [c]}"},
               {w("w", {64, 64, 3, 3}), w("b", {64})},
               "r",
               "c"});
  return v;
}

class GpuAutotune : public ::testing::TestWithParam<TunedCase> {};

TEST_P(GpuAutotune, FindModeMatchesTheCpuReferenceAndReportsItsTime) {
  KILN_REQUIRE_GPU();
  const TunedCase& c = GetParam();
  const TestModel model({{"x", c.x}}, c.layers, {c.output}, c.weights, 11);
  for (const Precision p : {Precision::Fp32, Precision::Tf32, Precision::Fp16}) {
    SCOPED_TRACE(std::string(precision_name(p)));
    GpuEngineOptions options;
    options.precision = p;
    options.algo = AlgoMode::Find;
    options.plan_cache.clear();  // tune here, not from an earlier test's entry
    const auto engine = GpuEngine::load(model.dir(), options);
    const std::string impl = report(*engine, c.conv).implementation;
    EXPECT_THAT(impl, HasSubstr("ms at max batch")) << "find mode must say what it measured";
    const double tol = p == Precision::Fp32 ? kFp32Tol : p == Precision::Tf32 ? kTf32Tol : kFp16Tol;
    expect_matches_cpu(model.dir(), options, c.x[0], {c.x[0], 1, 2}, tol);
  }
}

// fp32 with FFT and Winograd engines admitted: whichever engine the heuristics or the tuner take, the
// result stays within 1e-4 of the CPU reference (the transforms' rounding; the exact fp32 mode's bound
// is 1e-5), at the max batch and below it.
TEST_P(GpuAutotune, Fp32WithTransformsMatchesTheCpuReference) {
  KILN_REQUIRE_GPU();
  const TunedCase& c = GetParam();
  const TestModel model({{"x", c.x}}, c.layers, {c.output}, c.weights, 13);
  for (const AlgoMode algo : {AlgoMode::Heuristic, AlgoMode::Find}) {
    SCOPED_TRACE(std::string(algo_mode_name(algo)));
    GpuEngineOptions options;
    options.fp32_transforms = true;
    options.algo = algo;
    options.plan_cache.clear();
    const double err = expect_matches_cpu(model.dir(), options, c.x[0], {c.x[0], 1}, 1e-4);
    RecordProperty(std::string("max_error_") + algo_mode_name(algo), std::to_string(err));
  }
}

std::string tuned_label(const ::testing::TestParamInfo<TunedCase>& info) { return info.param.label; }

INSTANTIATE_TEST_SUITE_P(Table, GpuAutotune, ::testing::ValuesIn(tuned_cases()), tuned_label);

}  // namespace
}  // namespace kiln::gpu::test
