// kiln bench / kiln profile pieces that need no GPU: statistics, warnings, report text and JSON, the
// profile table, input selection and the CPU-path measurement loop on a small model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "engine/bench/bench.h"
#include "engine/bench/profile_report.h"
#include "base/errors.h"
#include "engine/model_dir.h"

namespace kiln::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

TEST(BenchStats, PercentilesInterpolateBetweenRanksLikeNumpy) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile(v, 90), 3.7);  // numpy.percentile([1,2,3,4], 90)
  EXPECT_DOUBLE_EQ(percentile(v, 99), 3.97);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 4);
  EXPECT_DOUBLE_EQ(percentile({7}, 99), 7);
  EXPECT_DOUBLE_EQ(median({5, 1, 3}), 3);
  EXPECT_DOUBLE_EQ(median({}), 0);
}

TEST(BenchStats, BadPercentileArgumentsAreUsageErrors) {
  try {
    percentile({}, 50);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no samples"));
  }
  try {
    percentile({1, 2}, 101);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("[0, 100], got 101"));
  }
}

TEST(BenchStats, SummaryOfShuffledSamples) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  std::shuffle(v.begin(), v.end(), std::mt19937(std::random_device{}()));
  const Summary s = summarize(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_DOUBLE_EQ(s.median, 50.5);
  EXPECT_NEAR(s.p90, 90.1, 1e-9);
  EXPECT_NEAR(s.p99, 99.01, 1e-9);
  EXPECT_NEAR(s.stddev, 28.8660700477, 1e-9);  // population standard deviation of 1..100
  EXPECT_NEAR(s.cv(), 28.8660700477 / 50.5, 1e-12);
  EXPECT_EQ(summarize({}).count, 0u);
  EXPECT_DOUBLE_EQ(summarize({}).cv(), 0);
}

// A GPU-looking result: `n` iterations, compute jittering by `jitter` around 2 ms, enqueue `enqueue` ms.
BenchResult gpu_result(std::size_t n, double jitter, double enqueue) {
  BenchResult r;
  r.config.model = "models/m";
  r.config.model_name = "m";
  r.config.device = "gpu";
  r.config.precision = "tf32";
  r.config.algo = "heuristic";
  r.config.batch = 4;
  r.device_description = "gpu 0: test";
  r.memory.known = true;
  r.memory.weights = 3u << 20;
  r.memory.arena = 5u << 20;
  r.memory.workspace = 1u << 20;
  r.memory.peak = 12u << 20;
  r.flops_per_batch = 4e9;
  for (std::size_t i = 0; i < n; ++i) {
    const double c = 2.0 + (i % 2 ? jitter : -jitter);
    r.samples.compute.push_back(c);
    r.samples.h2d.push_back(0.25);
    r.samples.d2h.push_back(0.125);
    r.samples.latency.push_back(c + 0.375);
    r.samples.enqueue.push_back(enqueue);
  }
  r.wall_s = static_cast<double>(n) * 2.375e-3;
  return r;
}

TEST(BenchReport, ThroughputTflopsAndNoWarningsForAStableGpuRun) {
  const BenchResult r = gpu_result(200, 0.01, 0.1);
  const BenchSummary s = summarize_bench(r);
  EXPECT_NEAR(s.throughput_qps, 1.0 / 2.375e-3, 1e-6);
  EXPECT_NEAR(s.images_per_s, 4.0 / 2.375e-3, 1e-6);
  EXPECT_NEAR(s.tflops, 4e9 / 2e-3 / 1e12, 1e-9);
  EXPECT_NEAR(s.enqueue_share, 0.1 / 2.375, 1e-9);
  EXPECT_TRUE(s.warnings.empty()) << s.warnings.front();
  const std::string text = format_report(r, s);
  for (const char* want :
       {"GPU compute", "H2D", "D2H", "enqueue", "p99", "421.05 qps", "2.00 TFLOP/s", "weights 3.0 MiB",
        "activation arena 5.0 MiB", "workspace 1.0 MiB", "peak in use 12.0 MiB"}) {
    EXPECT_THAT(text, HasSubstr(want));
  }
  EXPECT_THAT(text, Not(HasSubstr("warning")));
}

TEST(BenchReport, WarnsOnHighVariationEnqueueBoundAndFewIterations) {
  BenchResult r = gpu_result(20, 0.5, 2.3);  // cv 25%; enqueue 2.3 of 2.375 ms per iteration
  BenchSummary s = summarize_bench(r);
  ASSERT_EQ(s.warnings.size(), 3u);
  EXPECT_THAT(s.warnings[0], HasSubstr("GPU compute time varies"));
  EXPECT_THAT(s.warnings[0], HasSubstr("coefficient of variation 25.0%"));
  EXPECT_THAT(s.warnings[1], HasSubstr("bound by enqueue time"));
  EXPECT_THAT(s.warnings[1], HasSubstr("--cuda-graph"));
  EXPECT_THAT(s.warnings[2], HasSubstr("only 20 measured iterations"));
  r.config.cuda_graph = true;
  s = summarize_bench(r);
  EXPECT_THAT(s.warnings[1], HasSubstr("larger --batch"));
  EXPECT_THAT(format_report(r, s), HasSubstr("warning: GPU compute time varies"));
}

TEST(BenchReport, JsonHasEverySectionAndNullsForMissingMetrics) {
  BenchResult r = gpu_result(10, 0, 0.1);
  r.samples.h2d.clear();
  r.load.parse_ms = 1.5;
  r.load.first_inference_ms = 2.5;
  JsonWriter j;
  write_json(j, r, summarize_bench(r));
  const std::string doc = j.str();
  for (const char* want : {"\"tool\": \"kiln bench\"", "\"precision\": \"tf32\"", "\"batch\": 4", "\"h2d\": null",
                           "\"to_first_result_ms\": 4", "\"extra_over_weights_bytes\": 6291456", "\"median\": 2",
                           "\"throughput_qps\": ", "\"warnings\": ["}) {
    EXPECT_THAT(doc, HasSubstr(want));
  }
}

TEST(BenchReport, SeveralDevicesReportEachDevicesThroughputAndTheTotal) {
  BenchResult r = gpu_result(300, 0.01, 0.1);
  r.config.devices = {0, 1};
  r.devices = {{0, "gpu 0: test", 160}, {1, "gpu 1: test", 140}};
  const BenchSummary s = summarize_bench(r);
  ASSERT_EQ(s.device_qps.size(), 2u);
  EXPECT_NEAR(s.device_qps[0], 160 / r.wall_s, 1e-9);
  EXPECT_NEAR(s.device_qps[0] + s.device_qps[1], s.throughput_qps, 1e-9) << "the devices' shares add up to the total";
  const std::string text = format_report(r, s);
  EXPECT_THAT(text, HasSubstr(strprintf("gpu 0: test: %.2f qps", 160 / r.wall_s)));
  EXPECT_THAT(text, HasSubstr("(140 iterations)"));
  JsonWriter j;
  write_json(j, r, s);
  for (const char* want : {"\"devices\": [", "\"device\": 1", "\"description\": \"gpu 1: test\"", "\"iterations\": 160"}) {
    EXPECT_THAT(j.str(), HasSubstr(want));
  }
  // One device: no per-device lines, an empty list.
  const BenchResult one = gpu_result(300, 0.01, 0.1);
  EXPECT_THAT(format_report(one, summarize_bench(one)), Not(HasSubstr("iterations)")));
}

TEST(BenchConfig, DeviceListsAreChecked) {
  BenchConfig c;
  c.device = "gpu";
  c.devices = {0, 1, 1};
  EXPECT_NO_THROW(check_config(c));
  c.devices = {0, -1};
  EXPECT_THROW(check_config(c), UsageError);
  c.devices.assign(17, 0);
  EXPECT_THROW(check_config(c), UsageError);
  c.devices = {0};
  c.device = "cpu";
  try {
    check_config(c);
    ADD_FAILURE() << "--devices on the cpu was accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--devices needs the GPU"));
  }
}

TEST(BenchReport, CpuReportShowsLatencyOnly) {
  BenchResult r;
  r.config.device = "cpu";
  r.config.batch = 1;
  r.device_description = "cpu (reference path, fp32)";
  r.samples.latency = {10, 11, 12};
  r.wall_s = 0.033;
  r.flops_per_batch = 1e8;
  const BenchSummary s = summarize_bench(r);
  const std::string text = format_report(r, s);
  EXPECT_THAT(text, HasSubstr("host wall time"));
  EXPECT_THAT(text, HasSubstr("GFLOP/s"));
  EXPECT_THAT(text, Not(HasSubstr("GPU compute ")));
  EXPECT_THAT(text, Not(HasSubstr("device memory")));
  JsonWriter j;
  write_json(j, r, s);
  EXPECT_THAT(j.str(), HasSubstr("\"memory\": null"));
  EXPECT_THAT(j.str(), HasSubstr("\"compute\": null"));
}

ProfileResult profile_of(const std::vector<double>& ms) {
  ProfileResult r;
  r.model = "m";
  r.batch = 2;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    LayerProfile l;
    l.index = static_cast<int>(i);
    l.name = "layer" + std::to_string(i);
    l.op = "conv2d";
    l.ran = ms[i] > 0;
    l.implementation = l.ran ? "cudnn graph" : "fused into layer0";
    l.ms = ms[i];
    l.flops = 2e9;
    l.bytes = 4e6;
    r.layers.push_back(l);
  }
  return r;
}

TEST(ProfileReport, SortsByTimeWithSharesAndRates) {
  const ProfileResult r = profile_of({1.0, 0, 3.0, 0.5});
  EXPECT_DOUBLE_EQ(r.layer_sum_ms(), 4.5);
  const std::string text = format_profile(r, ProfileSort::Time, 0);
  const auto p2 = text.find("layer2"), p0 = text.find("layer0  "), p3 = text.find("layer3"), p1 = text.find("layer1");
  ASSERT_NE(p2, std::string::npos);
  EXPECT_LT(p2, p0);
  EXPECT_LT(p0, p3);
  EXPECT_LT(p3, p1);                      // layers without work last
  EXPECT_THAT(text, HasSubstr("66.7%"));  // 3.0 of 4.5 ms
  EXPECT_THAT(text, HasSubstr("0.67"));   // 2 GFLOP in 3 ms
  EXPECT_THAT(text, HasSubstr("1.3"));    // 4 MB in 3 ms = 1.3 GB/s
  const std::string top = format_profile(r, ProfileSort::Time, 1);
  EXPECT_THAT(top, Not(HasSubstr("layer3")));
  EXPECT_THAT(top, HasSubstr("2 faster layers not shown"));
  const std::string ordered = format_profile(r, ProfileSort::Order, 0);
  EXPECT_LT(ordered.find("layer0  "), ordered.find("layer2"));
  JsonWriter j;
  write_profile_json(j, r);
  EXPECT_THAT(j.str(), HasSubstr("\"share\": 0.666666"));
  EXPECT_THAT(j.str(), HasSubstr("\"ran\": false"));
}

// The floor column: the longer of FLOPs at the arithmetic peak and bytes at the bandwidth, and the time
// over it; unknown devices show none unless peaks are given.
TEST(ProfileReport, FloorIsTheLongerOfComputeAndMemoryTime) {
  const DevicePeaks h200 = known_peaks("gpu 0: NVIDIA H200, cuDNN 9.14.0, fp16, heuristic", "fp16");
  EXPECT_DOUBLE_EQ(h200.tflops, 790.0);
  EXPECT_DOUBLE_EQ(h200.gbps, 4300.0);
  EXPECT_DOUBLE_EQ(known_peaks("NVIDIA H100 80GB HBM3", "fp32").tflops, 67.0);
  EXPECT_DOUBLE_EQ(known_peaks("NVIDIA H100 80GB HBM3", "tf32").gbps, 3000.0);
  EXPECT_DOUBLE_EQ(known_peaks("Tesla T4", "fp16").tflops, 0.0);

  ProfileResult r = profile_of({1.0, 0, 3.0});
  r.layers[0].flops = 2e12;  // 2 TFLOP at 1000 TFLOP/s: 2 ms, more than 4 MB at 1000 GB/s (0.004 ms)
  r.layers[2].bytes = 4e9;   // 4 GB at 1000 GB/s: 4 ms, more than 2 GFLOP's 0.002 ms
  const std::string unknown = format_profile(r, ProfileSort::Order, 0);
  EXPECT_THAT(unknown, HasSubstr("floor: unknown peaks for this device"));
  r.peaks = DevicePeaks{1000.0, 1000.0, "given"};
  EXPECT_DOUBLE_EQ(floor_ms(r.layers[0], r.peaks), 2.0);
  EXPECT_DOUBLE_EQ(floor_ms(r.layers[1], r.peaks), 0.0);  // did not run
  EXPECT_DOUBLE_EQ(floor_ms(r.layers[2], r.peaks), 4.0);
  const std::string text = format_profile(r, ProfileSort::Order, 0);
  EXPECT_THAT(text, HasSubstr("2.0000"));
  EXPECT_THAT(text, HasSubstr("0.5"));   // layer0: 1 ms over a 2 ms floor
  EXPECT_THAT(text, HasSubstr("0.8"));   // layer2: 3 ms over 4 ms (0.75 printed as 0.8)
  EXPECT_THAT(text, HasSubstr("floors sum 6.0000 ms"));
  JsonWriter j;
  write_profile_json(j, r);
  EXPECT_THAT(j.str(), HasSubstr("\"floor_ms\": 4"));
  EXPECT_THAT(j.str(), HasSubstr("\"floor_ratio\": 0.75"));
  EXPECT_THAT(j.str(), HasSubstr("\"peak_tflops\": 1000"));
}

class BenchModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_bench_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> d(-0.5f, 0.5f);
    for (float& v : w_) v = d(rng);
    write_tensor_file(dir_.string(), "weights", {{"c.weight", DType::F32, {4, 2, 3, 3}, w_.data()}});
    std::ofstream(dir_ / "model.yaml")
        << "format: kiln-model\nversion: 1\nname: tiny\nweights: weights.manifest\n"
           "inputs:\n  - {name: x, shape: [3, 2, 8, 8], dtype: f32}\n"
           "layers:\n"
           "  - {name: c, op: conv2d, inputs: [x], attributes: {out_channels: 4, kernel_size: 3, padding: 1},\n"
           "     weights: {weight: c.weight}}\n"
           "  - {name: r, op: relu, inputs: [c]}\n"
           "outputs: [r]\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  BenchConfig config() const {
    BenchConfig c;
    c.model = dir_.string();
    c.device = "cpu";
    c.precision = "fp32";
    c.batch = 2;
    c.warmup_ms = 1;
    c.iterations = 7;
    c.duration_s = 0;
    return c;
  }

  fs::path dir_;
  std::vector<float> w_ = std::vector<float>(4 * 2 * 3 * 3);
};

TEST_F(BenchModel, CpuBenchRunsExactlyTheIterationsAsked) {
  const BenchResult r = run_cpu_bench(config());
  EXPECT_EQ(r.samples.latency.size(), 7u);
  EXPECT_TRUE(r.samples.compute.empty());
  EXPECT_EQ(r.config.model_name, "tiny");
  EXPECT_DOUBLE_EQ(r.flops_per_batch, 2.0 * 2 * (4 * 8 * 8) * (2 * 3 * 3));  // 2 x batch x outputs x MACs each
  EXPECT_GT(r.wall_s, 0);
  EXPECT_GT(r.load.first_inference_ms, 0);
  EXPECT_GE(r.warmup_iterations, 1);
  for (double ms : r.samples.latency) EXPECT_GT(ms, 0);
  EXPECT_GT(summarize_bench(r).throughput_qps, 0);
}

TEST_F(BenchModel, DurationExtendsTheRun) {
  BenchConfig c = config();
  c.iterations = 1;
  c.duration_s = 0.05;
  const BenchResult r = run_cpu_bench(c);
  EXPECT_GE(r.wall_s, 0.05);
  EXPECT_GE(r.samples.latency.size(), 1u);
}

TEST_F(BenchModel, InputsAreRandomOrFromAFileOfTheRightShape) {
  const Graph g = load_graph(dir_.string(), GraphBuildOptions{2, 256, {}});
  BenchConfig c;
  c.batch = 2;
  const std::vector<HostTensor> in = bench_inputs(g, c);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].shape, (Shape{2, 2, 8, 8}));
  int zeros = 0;
  for (float v : in[0].data) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LE(v, 1.0f);
    zeros += v == 0.0f;
  }
  EXPECT_EQ(zeros, 0);
  const std::string file = (dir_ / "in.manifest").string();
  write_host_tensors(file, in);
  c.input_file = file;
  EXPECT_EQ(bench_inputs(g, c)[0].data, in[0].data);
  try {
    c.batch = 1;
    bench_inputs(g, c);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("in.manifest: tensor 'x' has shape [2,2,8,8]"));
    EXPECT_THAT(e.what(), HasSubstr("its batch is not 1; pass --batch 2"));
  }
  c.batch = 2;
  write_host_tensors(file, {HostTensor{"y", {2, 2, 8, 8}, in[0].data}});
  try {
    bench_inputs(g, c);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no tensor named 'x'"));
    EXPECT_THAT(e.what(), HasSubstr("it holds: y"));
  }
}

TEST_F(BenchModel, LayerBytesCountInputsOutputAndWeights) {
  const Graph g = load_graph(dir_.string(), GraphBuildOptions{3, 256, {}});
  EXPECT_DOUBLE_EQ(layer_bytes(g, 0, 2), 4.0 * (2 * 2 * 64 + 2 * 4 * 64 + 4 * 2 * 9));
  EXPECT_DOUBLE_EQ(layer_bytes(g, 1, 1), 4.0 * (4 * 64 * 2));
  EXPECT_DOUBLE_EQ(layer_bytes(g, 1, 1, 2.0), 2.0 * (4 * 64 * 2));  // fp16 engines hold half
}

TEST_F(BenchModel, BadOptionsAreUsageErrorsNamingTheOption) {
  struct Case {
    void (*change)(BenchConfig&);
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](BenchConfig& c) { c.iterations = 0; }, "--iterations: expected at least 1, got 0"},
      {[](BenchConfig& c) { c.batch = 0; }, "--batch: expected at least 1"},
      {[](BenchConfig& c) { c.warmup_ms = -1; }, "--warmup-ms"},
      {[](BenchConfig& c) { c.duration_s = -2; }, "--duration-s"},
      {[](BenchConfig& c) { c.streams = 0; }, "--streams: expected 1 to 64, got 0"},
      {[](BenchConfig& c) { c.precision = "tf32"; }, "computes in fp32 only"},
      {[](BenchConfig& c) { c.cuda_graph = true; }, "--device gpu only"},
  };
  for (const Case& k : cases) {
    BenchConfig c = config();
    k.change(c);
    try {
      run_cpu_bench(c);
      ADD_FAILURE() << "no error for " << k.message;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(k.message));
    }
  }
}

}  // namespace
}  // namespace kiln::bench
