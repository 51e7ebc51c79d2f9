// Device discipline (Note [device discipline], engine/gpu/device_scope.h). Host side, everywhere: the
// scope's switching and restoring against a fake device API, also when the body throws and when the
// API fails. On a GPU: after every kiln call the caller's current device is the one it set (on two
// or more GPUs with the engine on another device than the caller's), run_device refuses host memory
// CUDA does not know, and with two GPUs an engine on device 1 gives results bit-identical to device 0
// and refuses memory and streams of the other device, naming both.
#include <gmock/gmock.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "engine/gpu/device_scope.h"
#include "engine/gpu/memory.h"
#include "engine/gpu/resource.h"
#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {
namespace {

using ::testing::HasSubstr;

// A thread's current device as CUDA would keep it, with switches counted and failures on demand.
struct FakeDevices {
  static inline int current_device = 0;
  static inline int switches = 0;
  static inline int fail_set = -1;   // make_current / try_make_current of this device fail
  static inline bool fail_get = false;

  static int current() {
    if (fail_get) throw std::runtime_error("cudaGetDevice failed");
    return current_device;
  }
  static bool try_current(int& device) noexcept {
    if (fail_get) return false;
    device = current_device;
    return true;
  }
  static void make_current(int device) {
    if (device == fail_set) throw std::runtime_error("cudaSetDevice(" + std::to_string(device) + ") failed");
    current_device = device;
    ++switches;
  }
  static bool try_make_current(int device) noexcept {
    if (device == fail_set) return false;
    current_device = device;
    ++switches;
    return true;
  }
  static void reset(int device) {
    current_device = device;
    switches = 0;
    fail_set = -1;
    fail_get = false;
  }
};
using FakeScope = BasicDeviceScope<FakeDevices>;

TEST(DeviceScope, SwitchesForTheScopeAndGivesTheCallersDeviceBack) {
  FakeDevices::reset(1);
  {
    const FakeScope scope(3);
    EXPECT_EQ(FakeDevices::current_device, 3);
    EXPECT_EQ(scope.previous(), 1);
    {
      const FakeScope inner(5);
      EXPECT_EQ(FakeDevices::current_device, 5);
    }
    EXPECT_EQ(FakeDevices::current_device, 3);
  }
  EXPECT_EQ(FakeDevices::current_device, 1);
  EXPECT_EQ(FakeDevices::switches, 4);
}

// A thread that has no device yet (-1) is left on the scope's: giving CUDA's default 0 back would
// create a context on device 0.
TEST(DeviceScope, AThreadWithoutADeviceIsLeftOnTheScopes) {
  FakeDevices::reset(-1);
  {
    const FakeScope scope(3);
    EXPECT_EQ(FakeDevices::current_device, 3);
    EXPECT_EQ(scope.previous(), -1);
  }
  EXPECT_EQ(FakeDevices::current_device, 3);
  EXPECT_EQ(FakeDevices::switches, 1);
  FakeDevices::reset(-1);
  { const FakeScope scope(2, kNoThrow); }
  EXPECT_EQ(FakeDevices::current_device, 2);
}

TEST(DeviceScope, DoesNothingWhenTheDeviceIsAlreadyCurrent) {
  FakeDevices::reset(2);
  {
    const FakeScope scope(2);
    EXPECT_EQ(FakeDevices::current_device, 2);
  }
  EXPECT_EQ(FakeDevices::switches, 0);
}

TEST(DeviceScope, RestoresWhenTheBodyThrows) {
  FakeDevices::reset(0);
  EXPECT_THROW(
      {
        const FakeScope scope(1);
        throw std::runtime_error("a layer failed");
      },
      std::runtime_error);
  EXPECT_EQ(FakeDevices::current_device, 0);
}

TEST(DeviceScope, AFailedSwitchThrowsAndLeavesTheDeviceAlone) {
  FakeDevices::reset(0);
  FakeDevices::fail_set = 4;
  EXPECT_THROW(FakeScope scope(4), std::runtime_error);
  EXPECT_EQ(FakeDevices::current_device, 0);
  EXPECT_EQ(FakeDevices::switches, 0);
}

TEST(DeviceScope, TheNoThrowFormSwallowsFailures) {
  FakeDevices::reset(0);
  FakeDevices::fail_set = 4;
  {
    const FakeScope scope(4, kNoThrow);  // cannot switch: stays on 0, and nothing to restore
    EXPECT_EQ(FakeDevices::current_device, 0);
  }
  EXPECT_EQ(FakeDevices::switches, 0);
  FakeDevices::reset(0);
  FakeDevices::fail_get = true;
  {
    const FakeScope scope(4, kNoThrow);
    EXPECT_EQ(scope.previous(), -1);
    EXPECT_EQ(FakeDevices::current_device, 0);
  }
  FakeDevices::reset(0);
  {
    const FakeScope scope(2, kNoThrow);
    EXPECT_EQ(FakeDevices::current_device, 2);
  }
  EXPECT_EQ(FakeDevices::current_device, 0);
}

TEST(DeviceScope, ARestoreThatFailsIsNotThrown) {
  FakeDevices::reset(6);
  {
    const FakeScope scope(1);
    FakeDevices::fail_set = 6;  // the caller's device went away meanwhile
  }
  EXPECT_EQ(FakeDevices::current_device, 1);
}

int device_count() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

int current_device() {
  int d = -1;
  EXPECT_EQ(cudaGetDevice(&d), cudaSuccess);
  return d;
}

TestModel conv_model() {
  return TestModel({{"x", {2, 4, 9, 9}}},
                   {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 16, kernel_size: 3, padding: 1}, "
                    "weights: {weight: w, bias: b}}",
                    "{name: r, op: relu, inputs: [c]}"},
                   {"r"}, {{"w", {16, 4, 3, 3}}, {"b", {16}}});
}

// Every call an application makes, in order, checking after each that `caller` is still current.
void expect_caller_device_kept(const std::string& dir, int engine_device, int caller) {
  ASSERT_EQ(cudaSetDevice(caller), cudaSuccess);
  GpuEngineOptions options;
  options.device = engine_device;
  options.precision = Precision::Fp16;
  {
    auto engine = GpuEngine::load(dir, options);
    EXPECT_EQ(current_device(), caller) << "after load";
    ExecutionContext ctx(engine);
    EXPECT_EQ(current_device(), caller) << "after the context";
    const std::vector<HostTensor> in = random_inputs(engine->graph(), 2, 5);
    const RunResult host = ctx.run(in, 2);
    EXPECT_EQ(current_device(), caller) << "after run";
    ctx.prepare(1);
    EXPECT_EQ(current_device(), caller) << "after prepare";
    // Buffers on the engine's device for run_device and the capture.
    ASSERT_EQ(cudaSetDevice(engine_device), cudaSuccess);
    DeviceBuffer x(in[0].data.size() * 4, "test input");
    DeviceBuffer y(host.outputs[0].data.size() * 4, "test output");
    ASSERT_EQ(cudaMemcpy(x.data(), in[0].data.data(), in[0].data.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaSetDevice(caller), cudaSuccess);
    ctx.run_device({x.as<const float>()}, {y.as<float>()}, 2);
    EXPECT_EQ(current_device(), caller) << "after run_device";
    ctx.synchronize();
    EXPECT_EQ(current_device(), caller) << "after synchronize";
    {
      CapturedRun run = ctx.capture_device({x.as<const float>()}, {y.as<float>()}, 2);
      EXPECT_EQ(current_device(), caller) << "after capture_device";
      run.replay();
      EXPECT_EQ(current_device(), caller) << "after replay";
      ctx.synchronize();
    }
    EXPECT_EQ(current_device(), caller) << "after the capture's destructor";
    std::vector<float> back(host.outputs[0].data.size());
    ASSERT_EQ(cudaSetDevice(engine_device), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(back.data(), y.data(), back.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(back, host.outputs[0].data) << "run_device and the replay give run's result";
    ASSERT_EQ(cudaSetDevice(caller), cudaSuccess);
  }
  EXPECT_EQ(current_device(), caller) << "after the context's and the engine's destructors";
}

TEST(GpuDeviceDiscipline, TheCallersCurrentDeviceIsKeptOnOneGpu) {
  KILN_REQUIRE_GPU();
  const TestModel m = conv_model();
  expect_caller_device_kept(m.dir(), 0, 0);
}

TEST(GpuDeviceDiscipline, TheCallersCurrentDeviceIsKeptWhenTheEngineIsOnAnother) {
  KILN_REQUIRE_GPU();
  if (device_count() < 2) GTEST_SKIP() << "needs 2 GPUs, " << device_count() << " visible";
  const TestModel m = conv_model();
  expect_caller_device_kept(m.dir(), 0, 1);
  expect_caller_device_kept(m.dir(), 1, 0);
}

TEST(GpuDeviceDiscipline, RunDeviceRefusesHostMemoryCudaDoesNotKnow) {
  KILN_REQUIRE_GPU();
  const TestModel m = conv_model();
  auto engine = GpuEngine::load(m.dir());
  ExecutionContext ctx(engine);
  const std::vector<HostTensor> in = random_inputs(engine->graph(), 2, 9);
  const RunResult host = ctx.run(in, 2);
  std::vector<float> plain_x(in[0].data);
  DeviceBuffer y(host.outputs[0].data.size() * 4, "test output");
  try {
    ctx.run_device({plain_x.data()}, {y.as<float>()}, 2);
    ADD_FAILURE() << "a malloc'd host input was accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("run_device: input 'x' is host memory CUDA does not know"));
    EXPECT_THAT(e.what(), HasSubstr("gpu 0"));
  }
  expect_run_device_matches_run(ctx, in, host, 2);  // the context still serves
}

TEST(GpuDeviceDiscipline, TwoGpusGiveBitIdenticalResultsAndRefuseEachOthersMemory) {
  KILN_REQUIRE_GPU();
  if (device_count() < 2) GTEST_SKIP() << "needs 2 GPUs, " << device_count() << " visible";
  const TestModel m = conv_model();
  GpuEngineOptions on0, on1;
  on0.precision = on1.precision = Precision::Fp16;
  on1.device = 1;
  auto e0 = GpuEngine::load(m.dir(), on0);
  auto e1 = GpuEngine::load(m.dir(), on1);
  ExecutionContext c0(e0), c1(e1);
  const std::vector<HostTensor> in = random_inputs(e0->graph(), 2, 13);
  const RunResult r0 = c0.run(in, 2);
  const RunResult r1 = c1.run(in, 2);
  EXPECT_EQ(r0.outputs[0].data, r1.outputs[0].data);
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  DeviceBuffer x1(in[0].data.size() * 4, "input on gpu 1");
  DeviceBuffer y1(r0.outputs[0].data.size() * 4, "output on gpu 1");
  ASSERT_EQ(cudaMemcpy(x1.data(), in[0].data.data(), in[0].data.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
  Stream stream1 = make_stream();
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  try {
    c0.run_device({x1.as<const float>()}, {y1.as<float>()}, 2);
    ADD_FAILURE() << "gpu 1's memory was accepted by gpu 0's engine";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x' is memory of gpu 1; this engine runs on gpu 0"));
  }
  try {
    ExecutionContext wrong(e0, stream1.get());
    ADD_FAILURE() << "gpu 1's stream was accepted by gpu 0's engine";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("the stream belongs to gpu 1, the engine to gpu 0"));
  }
  c1.run_device({x1.as<const float>()}, {y1.as<float>()}, 2);  // gpu 1's context takes them
  c1.synchronize();
  std::vector<float> back(r0.outputs[0].data.size());
  ASSERT_EQ(cudaMemcpy(back.data(), y1.data(), back.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(back, r0.outputs[0].data);
}

}  // namespace
}  // namespace kiln::gpu::test
