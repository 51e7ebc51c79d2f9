// Threads sharing one loaded model: a CpuExecutor is immutable after load, so several threads may run
// it at once, each with random batch sizes, and every result must be bit-identical to a single-threaded
// run of the same inputs. The run API refuses bad calls with a clear error and keeps serving. CI runs
// this under ThreadSanitizer too (scripts/test.sh), which reports any data race as a failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/errors.h"
#include "engine/cpu_executor.h"
#include "engine/model_dir.h"
#include "tests/common/test_model.h"

namespace kiln {
namespace {

using test::TestModel;

constexpr std::int64_t kMaxBatch = 4;
constexpr int kSeeds = 3;

// A skip link, an in-place activation, pooling, a view and a linear layer: the planner's every case.
TestModel make_model() {
  return TestModel({{"x", {kMaxBatch, 3, 8, 8}}},
                   {"{name: c1, op: conv2d, inputs: [x], attributes: {out_channels: 6, kernel_size: 3, padding: 1}, "
                    "weights: {weight: c1.w, bias: c1.b}}",
                    "{name: r1, op: relu, inputs: [c1]}",
                    "{name: c2, op: conv2d, inputs: [r1], attributes: {out_channels: 6, kernel_size: 3, padding: 1}, "
                    "weights: {weight: c2.w}}",
                    "{name: s, op: add, inputs: [c2, r1]}",
                    "{name: p, op: max_pool2d, inputs: [s], attributes: {kernel_size: 2}}",
                    "{name: f, op: flatten, inputs: [p]}",
                    "{name: fc, op: linear, inputs: [f], attributes: {out_features: 5}, weights: {weight: fc.w}}"},
                   {"fc"}, {{"c1.w", {6, 3, 3, 3}}, {"c1.b", {6}}, {"c2.w", {6, 6, 3, 3}}, {"fc.w", {5, 96}}});
}

// The model loaded once, with the one executor every thread shares.
struct SharedModel {
  TestModel dir = make_model();
  LoadedModel model = load_model(dir.dir(), GraphBuildOptions{kMaxBatch, 256, {}});
  CpuExecutor executor{model.graph, model.weights};
};

bool bit_identical(const RunResult& a, const RunResult& b) {
  if (a.outputs.size() != b.outputs.size()) return false;
  for (std::size_t i = 0; i < a.outputs.size(); ++i) {
    const auto& x = a.outputs[i].data;
    const auto& y = b.outputs[i].data;
    if (x.size() != y.size() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) != 0) return false;
  }
  return true;
}

TEST(Concurrency, ThreadsSharingOneCpuExecutorGiveBitIdenticalResults) {
  const SharedModel shared;
  const LoadedModel& model = shared.model;
  const CpuExecutor& executor = shared.executor;

  // The single-threaded answers for every (batch, seed).
  std::vector<std::vector<HostTensor>> inputs;
  std::vector<RunResult> expected;
  for (std::int64_t b = 1; b <= kMaxBatch; ++b)
    for (int s = 0; s < kSeeds; ++s) {
      inputs.push_back(test::random_inputs(model.graph, b, static_cast<std::uint32_t>(100 * b + s)));
      expected.push_back(executor.run(inputs.back(), b));
    }

  constexpr int kThreads = 4;
  constexpr int kMaxRuns = 60;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::atomic<int> runs{0}, wrong{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t + 1));
      std::uniform_int_distribution<std::size_t> pick(0, inputs.size() - 1);
      for (int i = 0; i < kMaxRuns && std::chrono::steady_clock::now() < deadline; ++i) {
        const std::size_t k = pick(rng);
        const std::int64_t batch = static_cast<std::int64_t>(k) / kSeeds + 1;
        if (i % 7 == 3) {  // a bad call in between: refused, and the next call is served
          try {
            executor.run(inputs[k], kMaxBatch + 1);
          } catch (const UsageError&) {
            ++refused;
          }
        }
        if (!bit_identical(executor.run(inputs[k], batch), expected[k])) ++wrong;
        ++runs;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0) << "of " << runs.load() << " concurrent runs";
  EXPECT_GE(runs.load(), kThreads);
  EXPECT_GT(refused.load(), 0);
}

TEST(Concurrency, RunApiRefusesBadCallsAndKeepsServing) {
  const SharedModel shared;
  const LoadedModel& model = shared.model;
  const CpuExecutor& executor = shared.executor;
  const std::vector<HostTensor> good = test::random_inputs(model.graph, 2, 9);
  const RunResult reference = executor.run(good, 2);

  std::vector<HostTensor> wrong_shape = good;
  wrong_shape[0].shape = {2, 3, 8, 7};
  wrong_shape[0].data.resize(2 * 3 * 8 * 7);
  std::vector<HostTensor> short_data = good;
  short_data[0].data.pop_back();
  for (const auto& [inputs, batch, message] :
       std::vector<std::tuple<std::vector<HostTensor>, std::int64_t, std::string>>{
           {wrong_shape, 2, "input 'x'"},
           {short_data, 2, "input 'x'"},
           {good, kMaxBatch + 1, "batch 5 is outside 1..4"},
           {good, 0, "batch 0 is outside 1..4"},
           {{}, 2, "input"}}) {
    try {
      executor.run(inputs, batch);
      ADD_FAILURE() << "accepted: " << message;
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(message));
    }
    EXPECT_TRUE(bit_identical(executor.run(good, 2), reference)) << "after: " << message;
  }
}

}  // namespace
}  // namespace kiln
