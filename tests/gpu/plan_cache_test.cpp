// The plan cache on the GPU (Note [plan cache], formats/plan_cache.h): a warm load takes every
// convolution's choice and serialized plan from the cache and computes bit for bit what the cold load
// did; damaged, foreign and unusable entries are rejected and rebuilt, never trusted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/gpu/context.h"
#include "engine/gpu/engine.h"
#include "engine/model_dir.h"
#include "formats/plan_cache.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

// Two identical 3x3 convolutions (one signature: the second is chosen from the first's entry) and a wider
// one, each with a bias and a ReLU that fuse into its graph.
std::unique_ptr<TestModel> conv_stack() {
  return std::make_unique<TestModel>(
      std::vector<std::pair<std::string, Shape>>{{"x", {4, 16, 32, 32}}},
      std::vector<std::string>{
          "{name: c1, op: conv2d, inputs: [x], attributes: {out_channels: 16, kernel_size: 3, padding: 1}, "
          "weights: {weight: c1.w, bias: c1.b}}",
          "{name: r1, op: relu, inputs: [c1]}",
          "{name: c2, op: conv2d, inputs: [r1], attributes: {out_channels: 16, kernel_size: 3, padding: 1}, "
          "weights: {weight: c2.w, bias: c2.b}}",
          "{name: r2, op: relu, inputs: [c2]}",
          "{name: c3, op: conv2d, inputs: [r2], attributes: {out_channels: 32, kernel_size: 3, padding: 1}, "
          "weights: {weight: c3.w, bias: c3.b}}"},
      std::vector<std::string>{"c3"},
      std::vector<TestModel::Tensor>{{"c1.w", {16, 16, 3, 3}},
                                     {"c1.b", {16}},
                                     {"c2.w", {16, 16, 3, 3}},
                                     {"c2.b", {16}},
                                     {"c3.w", {32, 16, 3, 3}},
                                     {"c3.b", {32}}});
}

class TempCacheDir {
 public:
  TempCacheDir() {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("kiln-plan-cache-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
  }
  ~TempCacheDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_)) out.push_back(e.path().string());
    return out;
  }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The key an entry file was written for (formats/README.md, "Plan cache entries").
std::string key_of(const std::string& bytes) {
  const std::size_t line1 = bytes.find('\n');
  const std::size_t line2 = bytes.find('\n', line1 + 1);
  const std::size_t key_bytes = std::stoull(bytes.substr(line1 + 1, line2 - line1 - 1));
  return bytes.substr(line2 + 1, key_bytes);
}

struct Load {
  RunResult result;
  PlanCacheStats stats;
  std::vector<std::string> implementations;
};

Load load_and_run(const std::string& model, GpuEngineOptions options, const std::vector<HostTensor>& inputs) {
  const auto engine = GpuEngine::load(model, options);
  ExecutionContext ctx(engine);
  Load l;
  l.result = ctx.run(inputs, inputs.at(0).shape.at(0));
  l.stats = engine->plan_cache().stats();
  for (const LayerReport& r : engine->layer_reports()) l.implementations.push_back(r.implementation);
  return l;
}

void expect_bit_identical(const RunResult& a, const RunResult& b) {
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (std::size_t i = 0; i < a.outputs.size(); ++i) {
    ASSERT_EQ(a.outputs[i].data.size(), b.outputs[i].data.size());
    EXPECT_EQ(std::memcmp(a.outputs[i].data.data(), b.outputs[i].data.data(), a.outputs[i].data.size() * sizeof(float)), 0)
        << "output " << i << " differs";
  }
}

std::string describe(const PlanCacheStats& s) {
  return std::to_string(s.hits) + " hits, " + std::to_string(s.misses) + " misses, " + std::to_string(s.rejected) +
         " rejected, " + std::to_string(s.written) + " written";
}

class GpuPlanCache : public ::testing::TestWithParam<Precision> {
 protected:
  GpuEngineOptions options() const {
    GpuEngineOptions o;
    o.precision = GetParam();
    o.plan_cache = dir_.path();
    return o;
  }
  TempCacheDir dir_;
};

TEST_P(GpuPlanCache, WarmLoadTakesEveryChoiceFromTheCacheAndMatchesBitForBit) {
  KILN_REQUIRE_GPU();
  const auto model = conv_stack();
  const auto graph = load_graph(model->dir());
  const std::vector<HostTensor> inputs = random_inputs(graph, 3, 7);
  const Load cold = load_and_run(model->dir(), options(), inputs);
  std::cout << "[plan cache] " << precision_name(GetParam()) << " cold load: " << describe(cold.stats) << ", "
            << dir_.entries().size() << " files\n";
  EXPECT_GE(cold.stats.misses, 2);   // c1's and c3's choices at least
  EXPECT_GE(cold.stats.hits, 1);     // c2 is c1's signature
  EXPECT_GE(cold.stats.written, 2);
  EXPECT_EQ(cold.stats.rejected, 0);
  EXPECT_EQ(cold.stats.write_failures, 0);
  const Load warm = load_and_run(model->dir(), options(), inputs);
  std::cout << "[plan cache] " << precision_name(GetParam()) << " warm load: " << describe(warm.stats) << "\n";
  EXPECT_EQ(warm.stats.misses, 0) << "a warm load must find every entry the cold one looked up";
  EXPECT_EQ(warm.stats.rejected, 0);
  EXPECT_GE(warm.stats.hits, cold.stats.misses);
  EXPECT_EQ(warm.implementations, cold.implementations);
  expect_bit_identical(warm.result, cold.result);
  // And both are right.
  const double tol = GetParam() == Precision::Fp16 ? kFp16Tol : kFp32Tol;
  expect_matches_cpu(model->dir(), options(), 4, {3}, tol);
}

// After a cold load, rewrites every entry of `kind` ("conv-select" or "conv-plan") with `rewrite`
// (bytes, key -> new bytes), loads again and expects each rewritten entry rejected, the results bit
// for bit the cold load's, and a third load finding every entry whole again. Returns how many it
// rewrote.
template <class Rewrite>
int expect_rejected_and_rebuilt(const std::string& model, const GpuEngineOptions& options, const TempCacheDir& dir,
                                const std::string& kind, Rewrite rewrite) {
  const std::vector<HostTensor> inputs = random_inputs(load_graph(model), 4, 8);
  const Load cold = load_and_run(model, options, inputs);
  int rewritten = 0;
  for (const std::string& f : dir.entries()) {
    const std::string bytes = read_file(f);
    const std::string key = key_of(bytes);
    if (key.rfind(kind + "|", 0) != 0) continue;
    write_file(f, rewrite(bytes, key));
    ++rewritten;
  }
  if (rewritten == 0) return 0;
  const Load bad = load_and_run(model, options, inputs);
  std::cout << "[plan cache] " << precision_name(options.precision) << " " << rewritten << " " << kind
            << " entries rewritten: " << describe(bad.stats) << "\n";
  EXPECT_EQ(bad.stats.rejected, rewritten) << describe(bad.stats);
  EXPECT_EQ(bad.implementations, cold.implementations);
  expect_bit_identical(bad.result, cold.result);
  const Load repaired = load_and_run(model, options, inputs);
  EXPECT_EQ(repaired.stats.rejected, 0) << describe(repaired.stats);
  EXPECT_EQ(repaired.stats.misses, 0) << describe(repaired.stats);
  expect_bit_identical(repaired.result, cold.result);
  return rewritten;
}

std::string flip_last_bit(const std::string& bytes, const std::string&) {
  std::string out = bytes;
  out[out.size() - 1] ^= 0x01;
  return out;
}

TEST_P(GpuPlanCache, DamagedSelectionsAreRejectedAndRebuilt) {
  KILN_REQUIRE_GPU();
  const auto model = conv_stack();
  EXPECT_GE(expect_rejected_and_rebuilt(model->dir(), options(), dir_, "conv-select", flip_last_bit), 2);
}

TEST_P(GpuPlanCache, DamagedPlansAreRejectedAndRebuilt) {
  KILN_REQUIRE_GPU();
  const auto model = conv_stack();
  if (expect_rejected_and_rebuilt(model->dir(), options(), dir_, "conv-plan", flip_last_bit) == 0) {
    GTEST_SKIP() << "cuDNN serialized none of these " << precision_name(GetParam()) << " plans";
  }
}

// Whole entries with this key that hold what cannot be used: a selection kiln does not accept, a plan
// text cuDNN refuses.
TEST_P(GpuPlanCache, UnusableSelectionsAreRejectedAndRebuilt) {
  KILN_REQUIRE_GPU();
  const auto model = conv_stack();
  const auto bogus = [](const std::string&, const std::string& key) {
    return encode_plan_entry(key, "fused=7 fallback=2 workspace=x ms=? choice=gpu");
  };
  EXPECT_GE(expect_rejected_and_rebuilt(model->dir(), options(), dir_, "conv-select", bogus), 2);
}

TEST_P(GpuPlanCache, PlansCudnnRefusesAreRejectedAndRebuilt) {
  KILN_REQUIRE_GPU();
  const auto model = conv_stack();
  const auto bogus = [](const std::string&, const std::string& key) {
    return encode_plan_entry(key, "{\"not\": \"a plan\"}");
  };
  if (expect_rejected_and_rebuilt(model->dir(), options(), dir_, "conv-plan", bogus) == 0) {
    GTEST_SKIP() << "cuDNN serialized none of these " << precision_name(GetParam()) << " plans";
  }
}

// An entry written with another cuDNN (or on another GPU) under this entry's file name is not used.
TEST_P(GpuPlanCache, EntriesFromAnotherCudnnAreForeign) {
  KILN_REQUIRE_GPU();
  const auto model = conv_stack();
  const auto foreign = [](const std::string&, std::string key) {
    const std::size_t at = key.find("|cudnn=");
    if (at != std::string::npos) key.insert(at + 7, "1");
    return encode_plan_entry(key, "fused=0 fallback=0 workspace=0 ms=-1 choice=eng0");
  };
  EXPECT_GE(expect_rejected_and_rebuilt(model->dir(), options(), dir_, "conv-select", foreign), 2);
}

TEST_P(GpuPlanCache, MemoryOnlyCacheStillChoosesIdenticalLayersOnce) {
  KILN_REQUIRE_GPU();
  const auto model = conv_stack();
  GpuEngineOptions o = options();
  o.plan_cache.clear();
  const std::vector<HostTensor> inputs = random_inputs(load_graph(model->dir()), 2, 11);
  const Load l = load_and_run(model->dir(), o, inputs);
  EXPECT_GE(l.stats.hits, 1);
  EXPECT_EQ(l.stats.written, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.path()));
}

INSTANTIATE_TEST_SUITE_P(Precisions, GpuPlanCache, ::testing::Values(Precision::Fp32, Precision::Fp16),
                         [](const ::testing::TestParamInfo<Precision>& i) { return std::string(precision_name(i.param)); });

}  // namespace
}  // namespace kiln::gpu::test
