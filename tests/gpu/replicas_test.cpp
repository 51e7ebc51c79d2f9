// Load once, place many (GpuEngine::load_replicas, issue 14 item 2): the files are read and the weights
// staged once, then every engine gets its own copy on its device. On one GPU the same device twice: each
// replica gives results bit-identical to an engine from GpuEngine::load in fp32 and fp16, holds weights
// of its own (distinct device pointers), serves concurrently from its own thread, and outlives the
// others, and a failure on one leaves the others serving. On two GPUs the same across devices. Anywhere: an empty device list is refused before any
// file or device is touched.
#include <gmock/gmock.h>

#include <thread>
#include <vector>

#include "base/errors.h"
#include "base/fault_injection.h"
#include "engine/cpu_executor.h"
#include "engine/gpu/context.h"
#include "engine/model_dir.h"
#include "formats/plan_cache.h"
#include "engine/gpu/engine.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

int visible_devices() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

// A small network with every weight kind a precision stages: a convolution with bias (fp16: filter,
// half and float bias forms), a depthwise one (fp16: tap form), a linear layer.
TestModel replica_model() {
  return TestModel({{"x", {3, 8, 10, 10}}},
                   {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 16, kernel_size: 3, padding: 1}, "
                    "weights: {weight: c.w, bias: c.b}}",
                    "{name: r, op: relu, inputs: [c]}",
                    "{name: dw, op: conv2d, inputs: [r], attributes: {out_channels: 16, kernel_size: 3, padding: 1, "
                    "groups: 16}, weights: {weight: dw.w}}",
                    "{name: p, op: global_avg_pool2d, inputs: [dw]}",
                    "{name: f, op: flatten, inputs: [p]}",
                    "{name: l, op: linear, inputs: [f], attributes: {out_features: 5}, weights: {weight: l.w, bias: l.b}}"},
                   {"l"},
                   {{"c.w", {16, 8, 3, 3}}, {"c.b", {16}}, {"dw.w", {16, 1, 3, 3}}, {"l.w", {5, 16}}, {"l.b", {5}}});
}

std::vector<float> run_once(const std::shared_ptr<const GpuEngine>& engine, const std::vector<HostTensor>& in) {
  ExecutionContext ctx(engine);
  return ctx.run(in, in[0].shape[0]).outputs.at(0).data;
}

void expect_replicas_match_a_single_load(const std::vector<int>& devices) {
  const TestModel m = replica_model();
  for (const Precision p : {Precision::Fp32, Precision::Fp16}) {
    SCOPED_TRACE(precision_name(p));
    GpuEngineOptions options;
    options.precision = p;
    options.device = 7;  // ignored: the replicas' devices are the list's
    const auto replicas = GpuEngine::load_replicas(m.dir(), devices, options);
    ASSERT_EQ(replicas.size(), devices.size());
    GpuEngineOptions single = options;
    single.device = devices[0];
    const auto reference = GpuEngine::load(m.dir(), single);
    const std::vector<HostTensor> in = random_inputs(reference->graph(), 3, 17);
    const std::vector<float> want = run_once(reference, in);
    for (std::size_t i = 0; i < replicas.size(); ++i) {
      SCOPED_TRACE("replica " + std::to_string(i));
      EXPECT_EQ(replicas[i]->options().device, devices[i]);
      EXPECT_THAT(replicas[i]->device_description(), HasSubstr("gpu " + std::to_string(devices[i])));
      EXPECT_EQ(replicas[i]->weight_bytes(), reference->weight_bytes());
      EXPECT_EQ(run_once(replicas[i], in), want) << "a replica must compute what a single load does, bit for bit";
    }
  }
}

TEST(GpuReplicas, TheSameDeviceTwiceGivesTwoEnginesThatMatchASingleLoad) {
  KILN_REQUIRE_GPU();
  expect_replicas_match_a_single_load({0, 0});
}

TEST(GpuReplicas, ReplicasServeConcurrentlyAndOutliveEachOther) {
  KILN_REQUIRE_GPU();
  const TestModel m = replica_model();
  GpuEngineOptions options;
  options.precision = Precision::Fp16;
  auto replicas = GpuEngine::load_replicas(m.dir(), {0, 0, 0}, options);
  const std::vector<HostTensor> in = random_inputs(replicas[0]->graph(), 3, 23);
  const std::vector<float> want = run_once(replicas[0], in);
  std::vector<std::vector<float>> got(replicas.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    threads.emplace_back([&, i] {
      ExecutionContext ctx(replicas[i]);
      for (int k = 0; k < 20; ++k) got[i] = ctx.run(in, 3).outputs.at(0).data;
    });
  }
  for (std::thread& t : threads) t.join();
  for (std::size_t i = 0; i < replicas.size(); ++i) EXPECT_EQ(got[i], want) << "replica " << i;
  // Each replica owns its weights: dropping the first two leaves the third serving.
  std::shared_ptr<const GpuEngine> last = replicas[2];
  replicas.clear();
  EXPECT_EQ(run_once(last, in), want);
}

TEST(GpuReplicas, TwoGpusGiveResultsBitIdenticalToASingleLoad) {
  KILN_REQUIRE_GPU();
  if (visible_devices() < 2) GTEST_SKIP() << "needs 2 GPUs, " << visible_devices() << " visible";
  expect_replicas_match_a_single_load({0, 1});
  expect_replicas_match_a_single_load({1, 0});
}

// Issue 14 item 4: a failure on one replica leaves the others serving. Every checked library call of
// one run of replica A fails in turn (fault injection); each time, replica B on the other device (the
// same GPU when only one is visible) still gives the reference bit for bit, and A serves again once the
// fault is gone.
TEST(GpuReplicas, AFailureOnOneReplicaLeavesTheOthersServing) {
  KILN_REQUIRE_GPU();
  struct Disarm {
    ~Disarm() { disarm_faults(); }
  } const disarm;
  const TestModel m = replica_model();
  const std::vector<int> devices = visible_devices() > 1 ? std::vector<int>{0, 1} : std::vector<int>{0, 0};
  const auto replicas = GpuEngine::load_replicas(m.dir(), devices);
  ExecutionContext a(replicas[0]);
  ExecutionContext b(replicas[1]);
  const std::vector<HostTensor> in = random_inputs(replicas[0]->graph(), 3, 29);
  const std::vector<float> want = a.run(in, 3).outputs.at(0).data;
  ASSERT_EQ(b.run(in, 3).outputs.at(0).data, want);
  arm_fault(FaultSite::LibraryCall, UINT64_MAX);
  a.run(in, 3);
  const std::uint64_t sites = fault_site_count(FaultSite::LibraryCall);
  disarm_faults();
  ASSERT_GE(sites, 2u);
  for (std::uint64_t n = 1; n <= sites; ++n) {
    SCOPED_TRACE("library call " + std::to_string(n) + " of " + std::to_string(sites));
    arm_fault(FaultSite::LibraryCall, n);
    EXPECT_THROW(a.run(in, 3), LibraryError);
    disarm_faults();
    EXPECT_EQ(b.run(in, 3).outputs.at(0).data, want) << "the other replica must keep serving";
    a.synchronize();
    EXPECT_EQ(a.run(in, 3).outputs.at(0).data, want) << "the failed replica must serve again";
  }
}

// The replicas share one plan cache: with the directory off, the second replica on the same GPU finds
// every choice the first made in memory (hits, no new misses) and still computes the same.
TEST(GpuReplicas, ReplicasShareOnePlanCache) {
  KILN_REQUIRE_GPU();
  const TestModel m = replica_model();
  GpuEngineOptions options;
  options.plan_cache = "";  // memory only: nothing from earlier runs
  const auto single = GpuEngine::load(m.dir(), options);
  const std::vector<HostTensor> in = random_inputs(single->graph(), 3, 31);
  const std::vector<float> want = run_once(single, in);  // contexts may choose too: count after a run
  const PlanCacheStats alone = single->plan_cache().stats();
  ASSERT_GT(alone.misses, 0) << "the test model must make at least one cached choice";
  const auto replicas = GpuEngine::load_replicas(m.dir(), {0, 0}, options);
  EXPECT_EQ(&replicas[0]->plan_cache(), &replicas[1]->plan_cache());
  for (const auto& r : replicas) EXPECT_EQ(run_once(r, in), want);
  const PlanCacheStats both = replicas[1]->plan_cache().stats();
  EXPECT_EQ(both.misses, alone.misses) << "the second replica must choose nothing anew";
  EXPECT_GE(both.hits, alone.hits + alone.misses) << "the second replica must find the first one's choices";
}

TEST(GpuReplicas, ADeviceThatDoesNotExistIsNamed) {
  KILN_REQUIRE_GPU();
  const TestModel m = replica_model();
  const int missing = visible_devices();
  try {
    GpuEngine::load_replicas(m.dir(), {0, missing});
    ADD_FAILURE() << "device " << missing << " does not exist";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("GPU device " + std::to_string(missing) + " does not exist"));
  }
}

// Needs no GPU: the test network is valid (so a GPU failure above is the GPU path's).
TEST(Replicas, TheTestModelRunsOnTheCpuReference) {
  const TestModel m = replica_model();
  const LoadedModel model = load_model(m.dir());
  const CpuExecutor cpu(model.graph, model.weights);
  const RunResult r = cpu.run(random_inputs(model.graph, 2, 3), 2);
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].shape, (Shape{2, 5}));
}

// Needs no GPU: the list is checked before anything is read.
TEST(Replicas, AnEmptyDeviceListIsRefusedFirst) {
  try {
    GpuEngine::load_replicas("/nonexistent/model", {});
    ADD_FAILURE() << "an empty device list was accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("load_replicas: no devices given"));
  }
}

}  // namespace
}  // namespace kiln::gpu::test
