// Dynamic height × width on the GPU (Note [input sizes] in engine/graph.cpp, engine/gpu/context.h):
// one engine and one context run a table of sizes and batches, changing from run to run, each against
// the CPU reference; device pointers, CUDA graph capture, the bounded per-size cache, find mode, the
// memory of the largest size against a fixed export of it, and the errors for sizes out of range.
#include <gmock/gmock.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "base/errors.h"
#include "engine/cpu_executor.h"
#include "engine/gpu/memory.h"
#include "engine/model_dir.h"
#include "formats/dtype.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using kiln::test::make_dynamic;
using kiln::test::make_unet_like;
using kiln::test::random_inputs_of;
using testing::HasSubstr;

constexpr std::int64_t kMaxBatch = 3;

GraphBuildOptions max_batch() {
  GraphBuildOptions o;
  o.max_batch = kMaxBatch;
  return o;
}

GpuEngineOptions with_precision(Precision p) {
  GpuEngineOptions o;
  o.precision = p;
  return o;
}

// Rounds inputs to half in fp16 (the engine does so at its boundary), so both sides see one input.
std::vector<HostTensor> inputs_for(const Graph& g, const Shape& s, std::uint32_t seed, Precision p) {
  std::vector<HostTensor> in = random_inputs_of(g, {s}, seed);
  if (p == Precision::Fp16)
    for (HostTensor& t : in)
      for (float& v : t.data) v = half_to_float(float_to_half(v));
  return in;
}

class GpuDynamicShapes : public testing::TestWithParam<Precision> {
 protected:
  void SetUp() override {
    model_ = make_unet_like({1, 2, 8, 12});
    make_dynamic(model_->dir(), {2, 2}, {64, 96});
  }
  double tol() const { return GetParam() == Precision::Fp16 ? kFp16Tol : kFp32Tol; }
  std::unique_ptr<kiln::test::TestModel> model_;
};

// Sizes (H × W) and batches, in the order one context runs them: up, down, odd multiples of 2,
// non-square both ways, the largest, and back to one seen before.
const std::vector<Shape> kRuns{{1, 2, 8, 12}, {3, 2, 64, 96}, {2, 2, 2, 2},  {1, 2, 30, 50}, {3, 2, 16, 16},
                               {2, 2, 62, 6}, {1, 2, 8, 12},  {3, 2, 30, 50}, {1, 2, 64, 96}};

TEST_P(GpuDynamicShapes, OneContextRunsEverySizeAndBatchLikeTheCpuReference) {
  KILN_REQUIRE_GPU();
  const LoadedModel cpu_model = load_model(model_->dir(), max_batch());
  const CpuExecutor cpu(cpu_model.graph, cpu_model.weights);
  auto engine = GpuEngine::load(model_->dir(), with_precision(GetParam()), max_batch());
  ExecutionContext ctx(engine);
  std::uint32_t seed = 3;
  double worst = 0;
  for (const Shape& s : kRuns) {
    const std::vector<HostTensor> in = inputs_for(cpu_model.graph, s, seed++, GetParam());
    const RunResult want = cpu.run(in, s[0]);
    const RunResult got = ctx.run(in, s[0]);
    ASSERT_EQ(got.outputs.size(), 1u);
    EXPECT_EQ(got.outputs[0].shape, (Shape{s[0], 2, s[2], s[3]}));
    const double err = normalized_max_error(got.outputs[0], want.outputs[0]);
    worst = std::max(worst, err);
    EXPECT_LE(err, tol()) << shape_to_string(s);
  }
  // The engine's own size (64×96, which needs no build) and five others, each built once.
  EXPECT_EQ(ctx.prepared_shapes().size(), 6u);
  EXPECT_GT(ctx.last_shape_build_ms(), 0.0);
  std::printf("    %zu runs, worst normalized error %.3g (tol %.1g)\n", kRuns.size(), worst, tol());
}

TEST_P(GpuDynamicShapes, DevicePointersAndCapturedRunsAtAnotherSizeMatchTheHostRun) {
  KILN_REQUIRE_GPU();
  auto engine = GpuEngine::load(model_->dir(), with_precision(GetParam()), max_batch());
  ExecutionContext ctx(engine);
  const Shape s{2, 2, 30, 50};
  const std::vector<HostTensor> in = inputs_for(engine->graph(), s, 5, GetParam());
  const RunResult host = ctx.run(in, s[0]);
  const std::vector<Shape> out_shapes = ctx.output_shapes({s});
  ASSERT_EQ(out_shapes, (std::vector<Shape>{{2, 2, 30, 50}}));
  DeviceBuffer d_in(in[0].data.size() * sizeof(float), "test input");
  DeviceBuffer d_out(element_count(out_shapes[0]) * sizeof(float), "test output");
  KILN_CUDA_CHECK(cudaMemcpy(d_in.data(), in[0].data.data(), d_in.size(), cudaMemcpyHostToDevice));
  const auto fetch = [&] {
    std::vector<float> out(element_count(out_shapes[0]));
    KILN_CUDA_CHECK(cudaMemcpy(out.data(), d_out.data(), d_out.size(), cudaMemcpyDeviceToHost));
    return out;
  };
  ctx.run_device({d_in.as<float>()}, {d_out.as<float>()}, {s});
  ctx.synchronize();
  EXPECT_EQ(fetch(), host.outputs[0].data);

  CapturedRun captured = ctx.capture_device({d_in.as<float>()}, {d_out.as<float>()}, {s});
  // Other sizes in between, more than the context keeps: the captured size is dropped from its cache
  // but its plans stay alive with the capture.
  for (std::int64_t w = 2; w <= 2 * static_cast<std::int64_t>(ExecutionContext::kContextShapes) + 4; w += 2) {
    ctx.run(inputs_for(engine->graph(), {1, 2, 4, w}, 9, GetParam()), 1);
  }
  EXPECT_LE(ctx.prepared_shapes().size(), ExecutionContext::kContextShapes + 1);
  KILN_CUDA_CHECK(cudaMemset(d_out.data(), 0, d_out.size()));
  captured.replay();
  ctx.synchronize();
  EXPECT_EQ(fetch(), host.outputs[0].data);
}

TEST_P(GpuDynamicShapes, TheLargestSizeUsesTheMemoryOfAFixedExportOfIt) {
  KILN_REQUIRE_GPU();
  auto dynamic = GpuEngine::load(model_->dir(), with_precision(GetParam()), max_batch());
  const auto fixed_model = make_unet_like({1, 2, 64, 96});
  auto fixed = GpuEngine::load(fixed_model->dir(), with_precision(GetParam()), max_batch());
  EXPECT_TRUE(dynamic->graph().dynamic());
  EXPECT_FALSE(fixed->graph().dynamic());
  EXPECT_EQ(dynamic->memory_plan().arena_bytes, fixed->memory_plan().arena_bytes);
  EXPECT_EQ(dynamic->workspace_bytes(), fixed->workspace_bytes());
  EXPECT_EQ(dynamic->weight_bytes(), fixed->weight_bytes());
}

TEST_P(GpuDynamicShapes, ASizeOutsideTheRangeOrOneALayerCannotTakeIsAnError) {
  KILN_REQUIRE_GPU();
  auto engine = GpuEngine::load(model_->dir(), with_precision(GetParam()), max_batch());
  ExecutionContext ctx(engine);
  try {
    ctx.run(inputs_for(engine->graph(), {1, 2, 8, 98}, 1, GetParam()), 1);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x' has shape [1,2,8,98]"));
    EXPECT_THAT(e.what(), HasSubstr("2 <= W <= 96"));
  }
  try {
    ctx.prepare({{1, 2, 9, 12}});  // odd: pooled and upsampled back to 8 rows, concat with 9
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("at input shape [3,2,9,12]"));
    EXPECT_THAT(e.what(), HasSubstr("layer cat (concat)"));
  }
  EXPECT_THROW(ctx.prepare({{4, 2, 8, 12}}), UsageError);  // beyond the max batch
  // The context still runs after the errors.
  const std::vector<HostTensor> in = inputs_for(engine->graph(), {1, 2, 8, 12}, 2, GetParam());
  EXPECT_EQ(ctx.run(in, 1).outputs[0].shape, (Shape{1, 2, 8, 12}));
}

INSTANTIATE_TEST_SUITE_P(Precisions, GpuDynamicShapes, testing::Values(Precision::Fp32, Precision::Fp16),
                         [](const testing::TestParamInfo<Precision>& i) { return precision_name(i.param); });

TEST(GpuDynamicShapesFind, FindModeTimesANewSizeInTheContextsOwnBuffers) {
  KILN_REQUIRE_GPU();
  const auto model = make_unet_like({1, 2, 8, 12});
  make_dynamic(model->dir(), {2, 2}, {32, 32});
  GpuEngineOptions o;
  o.algo = AlgoMode::Find;
  const LoadedModel cpu_model = load_model(model->dir(), max_batch());
  const CpuExecutor cpu(cpu_model.graph, cpu_model.weights);
  ExecutionContext ctx(GpuEngine::load(model->dir(), o, max_batch()));
  const std::vector<HostTensor> in = random_inputs_of(cpu_model.graph, {{2, 2, 10, 14}}, 4);
  const RunResult got = ctx.run(in, 2);
  EXPECT_LE(normalized_max_error(got.outputs[0], cpu.run(in, 2).outputs[0]), kFp32Tol);
}

}  // namespace
}  // namespace kiln::gpu::test
