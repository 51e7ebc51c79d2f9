// What kiln bench / kiln profile rely on in the engine: CUDA-graph capture of run_device (nothing in a
// run may allocate or synchronize), per-layer event timing, the load-time split, and the GPU bench
// loop itself on a small network that uses every GPU op kind.
#include "engine/bench/bench.h"

#include <cuda_runtime.h>
#include <gmock/gmock.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/cpu_executor.h"
#include "engine/gpu/memory.h"
#include "engine/model_dir.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

// conv+relu (fused), max pool, conv, batch norm, add, sigmoid, upsample, transposed conv, concat (2-D
// copies), LRN, conv, global average, flatten, linear (cuBLASLt), softmax.
std::unique_ptr<TestModel> every_op_net() {
  return std::make_unique<TestModel>(
      std::vector<std::pair<std::string, Shape>>{{"x", {4, 3, 16, 16}}},
      std::vector<std::string>{
          "{name: c1, op: conv2d, inputs: [x], attributes: {out_channels: 8, kernel_size: 3, padding: 1}, "
          "weights: {weight: c1.w, bias: c1.b}}",
          "{name: r1, op: relu, inputs: [c1]}",
          "{name: p1, op: max_pool2d, inputs: [r1], attributes: {kernel_size: 2}}",
          "{name: c2, op: conv2d, inputs: [p1], attributes: {out_channels: 8, kernel_size: 3, padding: 1}, "
          "weights: {weight: c2.w}}",
          "{name: bn, op: batch_norm, inputs: [c2], weights: {scale: bn.s, shift: bn.t}}",
          "{name: s, op: add, inputs: [bn, p1]}", "{name: sg, op: sigmoid, inputs: [s]}",
          "{name: up, op: upsample_nearest, inputs: [sg], attributes: {scale: 2}}",
          "{name: u, op: conv_transpose2d, inputs: [p1], attributes: {out_channels: 8, kernel_size: 2, stride: 2}, "
          "weights: {weight: u.w, bias: u.b}}",
          "{name: cat, op: concat, inputs: [up, u, r1]}", "{name: n, op: lrn, inputs: [cat], attributes: {size: 3}}",
          "{name: c3, op: conv2d, inputs: [n], attributes: {out_channels: 5, kernel_size: 3, padding: 1}, "
          "weights: {weight: c3.w}}",
          "{name: g, op: global_avg_pool2d, inputs: [c3]}", "{name: f, op: flatten, inputs: [g]}",
          "{name: fc, op: linear, inputs: [f], attributes: {out_features: 7}, weights: {weight: fc.w, bias: fc.b}}",
          "{name: sm, op: softmax, inputs: [fc]}"},
      std::vector<std::string>{"sm", "c3"},
      std::vector<TestModel::Tensor>{{"c1.w", {8, 3, 3, 3}},
                                     {"c1.b", {8}},
                                     {"c2.w", {8, 8, 3, 3}},
                                     {"bn.s", {8}, 0.5f, 1.5f},
                                     {"bn.t", {8}},
                                     {"u.w", {8, 8, 2, 2}},
                                     {"u.b", {8}},
                                     {"c3.w", {5, 24, 3, 3}},
                                     {"fc.w", {7, 5}},
                                     {"fc.b", {7}}});
}

GraphBuildOptions max_batch(std::int64_t n) {
  GraphBuildOptions g;
  g.max_batch = n;
  return g;
}

// Device buffers for one batch of inputs and outputs; freed on destruction.
struct DeviceIo {
  DeviceIo(const Graph& g, const std::vector<HostTensor>& inputs, std::int64_t batch) {
    for (const HostTensor& t : inputs) {
      in_buffers.emplace_back(t.data.size() * sizeof(float), "test input");
      in.push_back(in_buffers.back().as<float>());
      set_input(in_buffers.size() - 1, t);
    }
    for (int id : g.output_tensors()) {
      out_sizes.push_back(element_count(Layer::at_batch(g.tensors()[static_cast<std::size_t>(id)].shape, batch)));
      out_buffers.emplace_back(out_sizes.back() * sizeof(float), "test output");
      out.push_back(out_buffers.back().as<float>());
    }
  }
  void set_input(std::size_t i, const HostTensor& t) {
    EXPECT_EQ(cudaMemcpy(in_buffers[i].data(), t.data.data(), in_buffers[i].size(), cudaMemcpyHostToDevice),
              cudaSuccess);
  }
  void poison_outputs() {
    for (const DeviceBuffer& b : out_buffers) EXPECT_EQ(cudaMemset(b.data(), 0xff, b.size()), cudaSuccess);  // NaN
  }
  std::vector<float> output(std::size_t i) const {
    std::vector<float> v(out_sizes[i]);
    EXPECT_EQ(cudaMemcpy(v.data(), out[i], v.size() * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    return v;
  }
  std::vector<DeviceBuffer> in_buffers, out_buffers;
  std::vector<const float*> in;
  std::vector<float*> out;
  std::vector<std::uint64_t> out_sizes;
};

// Runs without a GPU: the test network itself must be valid for the CPU reference.
TEST(GpuBench, EveryOpNetIsValidForTheCpuReference) {
  const auto net = every_op_net();
  const LoadedModel m = load_model(net->dir(), max_batch(4));
  EXPECT_EQ(m.graph.layers().size(), 16u);
  const RunResult r = CpuExecutor(m.graph, m.weights).run(random_inputs(m.graph, 2, 1), 2);
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_EQ(r.outputs[0].shape, (Shape{2, 7}));
  EXPECT_EQ(r.outputs[1].shape, (Shape{2, 5, 16, 16}));
  for (const HostTensor& t : r.outputs) {
    for (float v : t.data) ASSERT_TRUE(std::isfinite(v)) << t.name;
  }
}

TEST(GpuBench, CudaGraphReplayMatchesPlainRunsAndFollowsNewInputs) {
  KILN_REQUIRE_GPU();
  const auto net = every_op_net();
  auto engine = GpuEngine::load(net->dir(), {}, max_batch(4));
  ExecutionContext ctx(engine);
  const std::vector<HostTensor> a = random_inputs(engine->graph(), 3, 21);
  const std::vector<HostTensor> b = random_inputs(engine->graph(), 3, 22);
  const RunResult want_a = ctx.run(a, 3);
  const RunResult want_b = ctx.run(b, 3);
  // The network's output is right to begin with (against the CPU reference).
  expect_matches_cpu(net->dir(), {}, 4, {3}, kFp32Tol);

  DeviceIo io(engine->graph(), a, 3);
  const CapturedRun graph = ctx.capture_device(io.in, io.out, 3);  // batch 3 was prepared by run(); 2 is not
  EXPECT_GT(graph.node_count(), 10u);
  for (int rep = 0; rep < 2; ++rep) {
    io.poison_outputs();
    graph.replay();
    ctx.synchronize();
    for (std::size_t o = 0; o < want_a.outputs.size(); ++o) EXPECT_EQ(io.output(o), want_a.outputs[o].data) << rep;
  }
  io.set_input(0, b[0]);
  io.poison_outputs();
  graph.replay();
  ctx.synchronize();
  for (std::size_t o = 0; o < want_b.outputs.size(); ++o) EXPECT_EQ(io.output(o), want_b.outputs[o].data);

  // A batch the context has not prepared yet: capture_device prepares and warms it up itself.
  const std::vector<HostTensor> c = random_inputs(engine->graph(), 2, 23);
  DeviceIo io2(engine->graph(), c, 2);
  const CapturedRun graph2 = ctx.capture_device(io2.in, io2.out, 2);
  io2.poison_outputs();
  graph2.replay();
  ctx.synchronize();
  const RunResult want_c = ctx.run(c, 2);
  for (std::size_t o = 0; o < want_c.outputs.size(); ++o) EXPECT_EQ(io2.output(o), want_c.outputs[o].data);
}

TEST(GpuBench, CaptureOfARunThatSynchronizesFailsNamingTheLayerAndLeavesTheContextUsable) {
  KILN_REQUIRE_GPU();
  const auto net = every_op_net();
  GpuEngineOptions options;
  options.sync_each_layer = true;  // a stream synchronize after each layer cannot be captured
  auto engine = GpuEngine::load(net->dir(), options, max_batch(4));
  ExecutionContext ctx(engine);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 4, 31);
  DeviceIo io(engine->graph(), in, 4);
  try {
    ctx.capture_device(io.in, io.out, 4);
    FAIL() << "capture succeeded";
  } catch (const CudaError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cudaStreamSynchronize"));
    EXPECT_EQ(e.layer(), "c1");
  }
  const RunResult got = ctx.run(in, 4);
  auto plain = GpuEngine::load(net->dir(), {}, max_batch(4));
  ExecutionContext plain_ctx(plain);
  const RunResult want = plain_ctx.run(in, 4);
  for (std::size_t o = 0; o < want.outputs.size(); ++o) EXPECT_EQ(got.outputs[o].data, want.outputs[o].data);
}

TEST(GpuBench, ProfiledRunTimesEveryLayerAndSumsToRoughlyAPlainRun) {
  KILN_REQUIRE_GPU();
  const auto net = every_op_net();
  auto engine = GpuEngine::load(net->dir(), {}, max_batch(4));
  ExecutionContext ctx(engine);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 4, 41);
  const RunResult want = ctx.run(in, 4);
  DeviceIo io(engine->graph(), in, 4);

  Event start = make_event(), stop = make_event();
  std::vector<double> plain;
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(cudaEventRecord(start.get(), ctx.stream()), cudaSuccess);
    ctx.run_device(io.in, io.out, 4);
    ASSERT_EQ(cudaEventRecord(stop.get(), ctx.stream()), cudaSuccess);
    ASSERT_EQ(cudaEventSynchronize(stop.get()), cudaSuccess);
    float ms = 0;
    ASSERT_EQ(cudaEventElapsedTime(&ms, start.get(), stop.get()), cudaSuccess);
    plain.push_back(ms);
  }
  std::vector<double> sums;
  const auto& reports = engine->layer_reports();
  for (int i = 0; i < 30; ++i) {
    io.poison_outputs();
    const ProfiledRun p = ctx.run_device_profiled(io.in, io.out, 4);
    ASSERT_EQ(p.layer_ms.size(), reports.size());
    ASSERT_EQ(p.ran.size(), reports.size());
    double sum = 0;
    for (std::size_t l = 0; l < reports.size(); ++l) {
      const bool idle = reports[l].implementation == "view" || reports[l].implementation.rfind("fused into", 0) == 0;
      EXPECT_EQ(p.ran[l], !idle) << reports[l].name;
      if (p.ran[l])
        EXPECT_GT(p.layer_ms[l], 0.0) << reports[l].name;
      else
        EXPECT_EQ(p.layer_ms[l], 0.0) << reports[l].name;
      sum += p.layer_ms[l];
    }
    EXPECT_GT(p.input_copy_ms, 0.0);
    EXPECT_GT(p.output_copy_ms, 0.0);
    EXPECT_LE(sum + p.input_copy_ms + p.output_copy_ms, p.total_ms * 1.0001 + 1e-3);
    sums.push_back(sum);
    for (std::size_t o = 0; o < want.outputs.size(); ++o) EXPECT_EQ(io.output(o), want.outputs[o].data);
  }
  const double plain_ms = bench::median(plain);
  const double sum_ms = bench::median(sums);
  std::printf("    plain run %.4f ms, profiled layer sum %.4f ms\n", plain_ms, sum_ms);
  EXPECT_GT(sum_ms, 0.2 * plain_ms);
  EXPECT_LT(sum_ms, 3.0 * plain_ms + 0.5);
}

TEST(GpuBench, LoadTimingsSplitTheLoad) {
  KILN_REQUIRE_GPU();
  const auto net = every_op_net();
  auto engine = GpuEngine::load(net->dir(), {}, max_batch(4));
  const LoadTimings& t = engine->load_timings();
  EXPECT_GT(t.parse_ms, 0.0);
  EXPECT_GE(t.device_ms, 0.0);
  EXPECT_GT(t.upload_ms, 0.0);
  EXPECT_GT(t.select_ms, 0.0);
  auto from_graph = GpuEngine::load(load_graph(net->dir(), max_batch(4)), {});
  EXPECT_EQ(from_graph->load_timings().parse_ms, 0.0);
  EXPECT_GT(from_graph->load_timings().select_ms, 0.0);
}

bench::BenchConfig bench_config(const std::string& dir) {
  bench::BenchConfig c;
  c.model = dir;
  c.device = "gpu";
  c.precision = "fp32";
  c.algo = "heuristic";
  c.batch = 2;
  c.warmup_ms = 5;
  c.iterations = 25;
  c.duration_s = 0;
  return c;
}

TEST(GpuBench, BenchLoopCollectsEveryMetricPerIteration) {
  KILN_REQUIRE_GPU();
  const auto net = every_op_net();
  const bench::BenchResult r = bench::run_gpu_bench(bench_config(net->dir()), 256);
  for (const auto* v : {&r.samples.latency, &r.samples.enqueue, &r.samples.h2d, &r.samples.compute, &r.samples.d2h}) {
    EXPECT_EQ(v->size(), 25u);
  }
  for (std::size_t i = 0; i < r.samples.latency.size(); ++i) {
    EXPECT_GT(r.samples.compute[i], 0.0);
    EXPECT_GE(r.samples.latency[i] * 1.0001 + 1e-3, r.samples.h2d[i] + r.samples.compute[i] + r.samples.d2h[i]);
  }
  EXPECT_TRUE(r.memory.known);
  EXPECT_GT(r.memory.weights, 0u);
  EXPECT_GT(r.memory.arena, 0u);
  EXPECT_GT(r.memory.io_buffers, 0u);
  EXPECT_GE(r.memory.peak, r.memory.weights + r.memory.arena + r.memory.workspace + r.memory.io_buffers);
  EXPECT_GT(r.load.first_inference_ms, 0.0);
  EXPECT_GT(r.load.upload_ms, 0.0);
  EXPECT_GT(r.flops_per_batch, 0.0);
  const bench::BenchSummary s = bench::summarize_bench(r);
  EXPECT_GT(s.throughput_qps, 0.0);
  std::printf("%s", bench::format_report(r, s).c_str());
}

TEST(GpuBench, BenchWithCudaGraphStreamsAndNoTransfers) {
  KILN_REQUIRE_GPU();
  const auto net = every_op_net();
  bench::BenchConfig c = bench_config(net->dir());
  c.cuda_graph = true;
  c.streams = 2;
  c.transfers = false;
  const bench::BenchResult r = bench::run_gpu_bench(c, 256);
  EXPECT_EQ(r.samples.compute.size(), 25u);
  EXPECT_EQ(r.samples.latency, r.samples.compute);
  EXPECT_TRUE(r.samples.h2d.empty());
  EXPECT_TRUE(r.samples.d2h.empty());
  EXPECT_GT(r.load.graph_capture_ms, 0.0);
  EXPECT_EQ(r.memory.contexts, 2);
}

// --devices with the same device twice (two engines placed by GpuEngine::load_replicas on one GPU): every
// measured iteration is counted on the device that ran it, and each device got its share.
void expect_devices_share_the_run(const std::vector<int>& devices) {
  const auto net = every_op_net();
  bench::BenchConfig c = bench_config(net->dir());
  c.devices = devices;
  c.streams = 2;
  c.cuda_graph = true;
  c.transfers = false;
  c.precision = "fp16";
  const bench::BenchResult r = bench::run_gpu_bench(c, 256);
  ASSERT_EQ(r.devices.size(), devices.size());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    EXPECT_EQ(r.devices[i].device, devices[i]);
    EXPECT_GE(r.devices[i].iterations, 25 / static_cast<std::int64_t>(2 * devices.size())) << "round robin";
    total += r.devices[i].iterations;
  }
  EXPECT_EQ(total, static_cast<std::int64_t>(r.samples.compute.size()));
  const bench::BenchSummary s = bench::summarize_bench(r);
  std::printf("%s", bench::format_report(r, s).c_str());
}

TEST(GpuBench, DevicesListedTwiceShareTheRunOnOneGpu) {
  KILN_REQUIRE_GPU();
  expect_devices_share_the_run({0, 0});
}

TEST(GpuBench, TwoDevicesShareTheRun) {
  KILN_REQUIRE_GPU();
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n < 2) GTEST_SKIP() << "needs 2 GPUs, " << n << " visible";
  expect_devices_share_the_run({0, 1});
}

}  // namespace
}  // namespace kiln::gpu::test
