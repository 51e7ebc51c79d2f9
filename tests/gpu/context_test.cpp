// Engine / ExecutionContext behaviour on a small network: concurrent contexts, batches below the max,
// device-pointer runs, the caller's stream, layer-by-layer outputs, reports and the workspace cap.
#include <gmock/gmock.h>

#include <cuda_runtime.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/cpu_executor.h"
#include "engine/gpu/memory.h"
#include "engine/model_dir.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

// conv+relu -> maxpool -> conv+relu -> deconv+relu -> concat with the first activation -> conv ->
// global average -> flatten -> linear: every kind of memory reuse, a skip link and a fusion pair.
std::unique_ptr<TestModel> small_net() {
  return std::make_unique<TestModel>(
      std::vector<std::pair<std::string, Shape>>{{"x", {4, 3, 16, 16}}},
      std::vector<std::string>{
          "{name: c1, op: conv2d, inputs: [x], attributes: {out_channels: 8, kernel_size: 3, padding: 1}, "
          "weights: {weight: c1.w, bias: c1.b}}",
          "{name: r1, op: relu, inputs: [c1]}",
          "{name: p1, op: max_pool2d, inputs: [r1], attributes: {kernel_size: 2}}",
          "{name: c2, op: conv2d, inputs: [p1], attributes: {out_channels: 12, kernel_size: 3, padding: 1}, "
          "weights: {weight: c2.w, bias: c2.b}}",
          "{name: r2, op: relu, inputs: [c2]}",
          "{name: u, op: conv_transpose2d, inputs: [r2], attributes: {out_channels: 6, kernel_size: 2, stride: 2}, "
          "weights: {weight: u.w, bias: u.b}}",
          "{name: ur, op: relu, inputs: [u]}",
          "{name: cat, op: concat, inputs: [ur, r1]}",
          "{name: c3, op: conv2d, inputs: [cat], attributes: {out_channels: 5, kernel_size: 3, padding: 1}, "
          "weights: {weight: c3.w}}",
          "{name: g, op: global_avg_pool2d, inputs: [c3]}",
          "{name: f, op: flatten, inputs: [g]}",
          "{name: fc, op: linear, inputs: [f], attributes: {out_features: 7}, weights: {weight: fc.w, bias: fc.b}}"},
      std::vector<std::string>{"fc", "c3"},
      std::vector<TestModel::Tensor>{{"c1.w", {8, 3, 3, 3}},
                                     {"c1.b", {8}},
                                     {"c2.w", {12, 8, 3, 3}},
                                     {"c2.b", {12}},
                                     {"u.w", {12, 6, 2, 2}},
                                     {"u.b", {6}},
                                     {"c3.w", {5, 14, 3, 3}},
                                     {"fc.w", {7, 5}},
                                     {"fc.b", {7}}});
}

GraphBuildOptions max_batch(std::int64_t n) {
  GraphBuildOptions g;
  g.max_batch = n;
  return g;
}

TEST(GpuContext, NetworkMatchesCpuAtEveryBatchInAnyOrder) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  expect_matches_cpu(net->dir(), {}, 4, {4, 1, 3, 1, 4, 2}, kFp32Tol);
  GpuEngineOptions tf32;
  tf32.precision = Precision::Tf32;
  expect_matches_cpu(net->dir(), tf32, 4, {4, 3}, kTf32Tol);
}

TEST(GpuContext, ConcurrentContextsGiveIdenticalResults) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  auto engine = GpuEngine::load(net->dir(), {}, max_batch(4));
  const std::vector<HostTensor> in4 = random_inputs(engine->graph(), 4, 11);
  const std::vector<HostTensor> in2 = random_inputs(engine->graph(), 2, 12);
  ExecutionContext reference_ctx(engine);
  const RunResult ref4 = reference_ctx.run(in4, 4);
  const RunResult ref2 = reference_ctx.run(in2, 2);

  constexpr int kThreads = 4;
  std::vector<std::vector<RunResult>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        ExecutionContext ctx(engine);
        for (int rep = 0; rep < 3; ++rep) {
          got[t].push_back(ctx.run(in4, 4));
          got[t].push_back(ctx.run(in2, 2));
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(errors[t], "") << "thread " << t;
    ASSERT_EQ(got[t].size(), 6u);
    for (std::size_t r = 0; r < got[t].size(); ++r) {
      const RunResult& want = r % 2 == 0 ? ref4 : ref2;
      for (std::size_t o = 0; o < want.outputs.size(); ++o) {
        EXPECT_EQ(got[t][r].outputs[o].data, want.outputs[o].data) << "thread " << t << " run " << r << " output " << o;
      }
    }
  }
}

// Threads with their own contexts on one shared engine, random batch sizes, a bounded time, fp32 and
// fp16: every result bit-identical to a single context's; bad calls in between are refused and the
// context keeps serving.
TEST(GpuContext, ThreadsWithRandomBatchesStayBitIdentical) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  for (const Precision precision : {Precision::Fp32, Precision::Fp16}) {
    GpuEngineOptions o;
    o.precision = precision;
    auto engine = GpuEngine::load(net->dir(), o, max_batch(4));
    std::vector<std::vector<HostTensor>> in;
    std::vector<RunResult> want;
    ExecutionContext reference(engine);
    for (std::int64_t b = 1; b <= 4; ++b) {
      in.push_back(random_inputs(engine->graph(), b, static_cast<std::uint32_t>(40 + b)));
      want.push_back(reference.run(in.back(), b));
    }
    constexpr int kThreads = 4;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::atomic<int> runs{0}, wrong{0}, refused{0};
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        try {
          ExecutionContext ctx(engine);
          std::mt19937 rng(static_cast<std::uint32_t>(t + 7));
          for (int i = 0; i < 200 && std::chrono::steady_clock::now() < deadline; ++i) {
            const std::size_t k = rng() % in.size();
            if (i % 5 == 0) {  // from the first iteration on: a loaded GPU may allow only a few before the deadline
              try {
                ctx.run(in[k], 5);  // over the max batch
              } catch (const UsageError&) {
                ++refused;
              }
            }
            const RunResult r = ctx.run(in[k], static_cast<std::int64_t>(k) + 1);
            if (r.outputs[0].data != want[k].outputs[0].data) ++wrong;
            ++runs;
          }
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << precision_name(precision) << " thread " << t;
    EXPECT_EQ(wrong.load(), 0) << precision_name(precision) << ": of " << runs.load() << " runs";
    EXPECT_GE(runs.load(), kThreads);
    EXPECT_GT(refused.load(), 0);
  }
}

TEST(GpuContext, RunDeviceRefusesMisalignedPointersAndKeepsServing) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  auto engine = GpuEngine::load(net->dir(), {}, max_batch(4));
  ExecutionContext ctx(engine);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 2, 3);
  const RunResult host = ctx.run(in, 2);
  DeviceBuffer x(in[0].data.size() * 4 + 4, "test input");
  std::vector<DeviceBuffer> ys;
  std::vector<float*> outs;
  for (const HostTensor& o : host.outputs) {
    ys.emplace_back(o.data.size() * 4 + 4, "test output");
    outs.push_back(ys.back().as<float>());
  }
  const auto* odd_x = reinterpret_cast<const float*>(x.data() + 2);
  try {
    ctx.run_device({odd_x}, outs, 2);
    ADD_FAILURE() << "misaligned input accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("run_device: input 'x' is not 4-byte aligned"));
  }
  std::vector<float*> odd_outs = outs;
  odd_outs.back() = reinterpret_cast<float*>(ys.back().data() + 2);
  try {
    ctx.run_device({x.as<const float>()}, odd_outs, 2);
    ADD_FAILURE() << "misaligned output accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is not 4-byte aligned"));
  }
  expect_run_device_matches_run(ctx, in, host, 2);
}

TEST(GpuContext, RunDeviceMatchesHostRunOnCallersStream) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  auto engine = GpuEngine::load(net->dir(), {}, max_batch(4));
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  {
    ExecutionContext ctx(engine, stream);
    EXPECT_EQ(ctx.stream(), stream);
    const std::vector<HostTensor> in = random_inputs(engine->graph(), 3, 5);
    const RunResult host = ctx.run(in, 3);
    expect_run_device_matches_run(ctx, in, host, 3);
  }
  cudaStreamDestroy(stream);
}

TEST(GpuContext, KeepsEveryLayerOutputForLayerByLayerComparison) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  GpuEngineOptions options;
  options.keep_all_layer_outputs = true;
  auto engine = GpuEngine::load(net->dir(), options, max_batch(4));
  for (const LayerReport& r : engine->layer_reports()) EXPECT_THAT(r.implementation, ::testing::Not(HasSubstr("fused into")));
  const LoadedModel cpu_model = load_model(net->dir(), max_batch(4));
  const CpuExecutor cpu(cpu_model.graph, cpu_model.weights);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 2, 3);
  ExecutionContext ctx(engine);
  const RunResult got = ctx.run(in, 2, RunOptions{true});
  const RunResult want = cpu.run(in, 2, RunOptions{true});
  ASSERT_EQ(got.layers.size(), engine->graph().layers().size());
  ASSERT_EQ(got.layers.size(), want.layers.size());
  for (std::size_t i = 0; i < got.layers.size(); ++i) {
    EXPECT_EQ(got.layers[i].name, want.layers[i].name);
    EXPECT_LE(normalized_max_error(got.layers[i], want.layers[i]), kFp32Tol) << "layer " << want.layers[i].name;
  }
}

TEST(GpuContext, ReportsEnginesFusionAndWorkspace) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  GpuEngineOptions options;
  options.workspace_cap_bytes = 8 << 20;
  options.direct_conv = DirectConvAlgo::Cudnn;  // c1 has few channels: kiln's direct kernel under Auto
  auto engine = GpuEngine::load(net->dir(), options, max_batch(4));
  const auto& reports = engine->layer_reports();
  ASSERT_EQ(reports.size(), 12u);
  EXPECT_EQ(reports[0].name, "c1");
  EXPECT_THAT(reports[0].implementation, HasSubstr("cudnn graph eng"));
  EXPECT_THAT(reports[1].implementation, HasSubstr("fused into c1"));
  EXPECT_THAT(reports[5].implementation, HasSubstr("cublasLt GEMM + scatter"));  // kernel = stride
  EXPECT_EQ(reports[10].implementation, "view");
  EXPECT_THAT(reports[11].implementation, HasSubstr("cublasLt"));
  for (const LayerReport& r : reports) EXPECT_LE(r.workspace_bytes, options.workspace_cap_bytes) << r.name;
  EXPECT_LE(engine->memory_plan().arena_bytes, engine->memory_plan().sum_bytes);
  EXPECT_THAT(engine->device_description(), HasSubstr("cuDNN 9."));
  std::printf("    %s\n", engine->device_description().c_str());
  for (const LayerReport& r : reports) {
    std::printf("    %-4s %-17s %-70s ws %llu\n", r.name.c_str(), r.op.c_str(), r.implementation.c_str(),
                static_cast<unsigned long long>(r.workspace_bytes));
  }
}

TEST(GpuContext, ZeroWorkspaceCapFallsBackToPlansWithoutWorkspace) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  GpuEngineOptions options;
  options.workspace_cap_bytes = 0;
  {
    auto engine = GpuEngine::load(net->dir(), options, max_batch(4));
    EXPECT_EQ(engine->workspace_bytes(), 0u);
  }
  expect_matches_cpu(net->dir(), options, 4, {4, 2}, kFp32Tol);
}

TEST(GpuContext, PreparesBatchesLazilyAndOnRequest) {
  KILN_REQUIRE_GPU();
  const auto net = small_net();
  auto engine = GpuEngine::load(net->dir(), {}, max_batch(4));
  ExecutionContext ctx(engine);
  EXPECT_TRUE(ctx.prepared_batches().empty());
  ctx.prepare(3);
  ctx.run(random_inputs(engine->graph(), 1, 1), 1);
  EXPECT_EQ(ctx.prepared_batches(), (std::vector<std::int64_t>{1, 3}));
}

}  // namespace
}  // namespace kiln::gpu::test
