// Fault injection on the GPU side (base/fault_injection.h): each device allocation and each checked
// CUDA, cuDNN and cuBLAS call, failed one at a time while an engine loads, a context is made and a run
// goes, surfaces as the library's typed error naming the call (and the layer when inside one); the
// next engine, and the same context's next run, give bit-identical results.
#include <gmock/gmock.h>

#include <cstring>

#include "base/fault_injection.h"
#include "engine/model_dir.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

struct Disarm {
  ~Disarm() { disarm_faults(); }
};

TestModel fault_model() {
  return TestModel({{"x", {2, 3, 8, 8}}},
                   {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 8, kernel_size: 3, padding: 1}, "
                    "weights: {weight: w, bias: b}}",
                    "{name: r, op: relu, inputs: [c]}",
                    "{name: p, op: max_pool2d, inputs: [r], attributes: {kernel_size: 2}}",
                    "{name: f, op: flatten, inputs: [p]}",
                    "{name: l, op: linear, inputs: [f], attributes: {out_features: 4}, weights: {weight: lw}}"},
                   {"l"}, {{"w", {8, 3, 3, 3}}, {"b", {8}}, {"lw", {4, 128}}});
}

bool same(const RunResult& a, const RunResult& b) {
  return a.outputs.size() == b.outputs.size() && a.outputs[0].data.size() == b.outputs[0].data.size() &&
         std::memcmp(a.outputs[0].data.data(), b.outputs[0].data.data(), a.outputs[0].data.size() * 4) == 0;
}

RunResult load_context_run(const std::string& dir, const GpuEngineOptions& o, const std::vector<HostTensor>& in) {
  auto engine = GpuEngine::load(dir, o);
  ExecutionContext ctx(engine);
  return ctx.run(in, 2);
}

void expect_faults_recovered(FaultSite site, Precision precision) {
  KILN_REQUIRE_GPU();
  const Disarm disarm;
  const TestModel model = fault_model();
  GpuEngineOptions o;
  o.precision = precision;
  const std::vector<HostTensor> in = random_inputs(load_graph(model.dir()), 2, 5);
  const RunResult reference = load_context_run(model.dir(), o, in);
  arm_fault(site, UINT64_MAX);
  load_context_run(model.dir(), o, in);
  const std::uint64_t sites = fault_site_count(site);
  disarm_faults();
  ASSERT_GE(sites, 3u);
  for (std::uint64_t n = 1; n <= sites; ++n) {
    arm_fault(site, n);
    try {
      load_context_run(model.dir(), o, in);
      ADD_FAILURE() << "fault " << n << " of " << sites << ": no error";
    } catch (const LibraryError& e) {
      // Device memory (cudaMalloc) or the pinned host staging (cudaHostAlloc, portable since load_replicas).
      const char* want = site == FaultSite::LibraryCall ? "injected fault" : "cudaMalloc|cudaHostAlloc";
      EXPECT_THAT(e.what(), ::testing::ContainsRegex(want)) << n;
    }
    disarm_faults();
    EXPECT_TRUE(same(load_context_run(model.dir(), o, in), reference)) << "after fault " << n;
  }
}

TEST(GpuFaults, EveryDeviceAllocationFailureIsTypedAndRecovered) {
  expect_faults_recovered(FaultSite::DeviceAllocation, Precision::Fp32);
}

TEST(GpuFaults, EveryLibraryCallFailureIsTypedAndRecoveredFp32) {
  expect_faults_recovered(FaultSite::LibraryCall, Precision::Fp32);
}

TEST(GpuFaults, EveryLibraryCallFailureIsTypedAndRecoveredFp16) {
  expect_faults_recovered(FaultSite::LibraryCall, Precision::Fp16);
}

// A live context whose run fails part-way serves its next run, bit-identically.
TEST(GpuFaults, AContextServesAfterAFailedRun) {
  KILN_REQUIRE_GPU();
  const Disarm disarm;
  const TestModel model = fault_model();
  auto engine = GpuEngine::load(model.dir());
  ExecutionContext ctx(engine);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 2, 6);
  const RunResult reference = ctx.run(in, 2);
  arm_fault(FaultSite::LibraryCall, UINT64_MAX);
  ctx.run(in, 2);
  const std::uint64_t sites = fault_site_count(FaultSite::LibraryCall);
  disarm_faults();
  ASSERT_GE(sites, 2u);
  for (std::uint64_t n = 1; n <= sites; ++n) {
    arm_fault(FaultSite::LibraryCall, n);
    EXPECT_THROW(ctx.run(in, 2), LibraryError) << n;
    disarm_faults();
    ctx.synchronize();
    EXPECT_TRUE(same(ctx.run(in, 2), reference)) << "after fault " << n;
  }
}

}  // namespace
}  // namespace kiln::gpu::test
