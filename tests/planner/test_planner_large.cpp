// Large graphs plan validly: a ResNet-50-sized graph and 10000-tensor networks (the random one keeps
// hundreds of tensors alive at once). Planning time is measured by benchmarks/host_load_bench, not
// asserted here.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <tuple>

#include "engine/planner.h"
#include "planner_testing.h"

namespace kiln::testing {
namespace {

// ResNet-50's shape: a stem, 16 bottleneck blocks (conv-bn-relu x3, the last relu after the
// residual add, a projection on each stage's first block), batchnorm and relu in place.
Net resnet50_like() {
  Net net;
  const std::uint64_t batch_bytes = 8 * 4;  // batch 8, float32
  int x = net.input(batch_bytes * 3 * 224 * 224);
  x = net.layer(batch_bytes * 64 * 112 * 112, {x});
  x = net.layer(batch_bytes * 64 * 112 * 112, {x}, x);
  x = net.layer(batch_bytes * 64 * 112 * 112, {x}, x);
  x = net.layer(batch_bytes * 64 * 56 * 56, {x});
  const int stage_blocks[] = {3, 4, 6, 3};
  std::uint64_t width = 64;
  std::uint64_t side = 56;
  for (int stage = 0; stage < 4; ++stage) {
    for (int b = 0; b < stage_blocks[stage]; ++b) {
      const std::uint64_t s = (stage > 0 && b == 0) ? side / 2 : side;
      const std::uint64_t mid = batch_bytes * width * s * s;
      const std::uint64_t out = 4 * mid;
      int h = net.layer(mid, {x});
      h = net.layer(mid, {h}, h);
      h = net.layer(mid, {h}, h);
      h = net.layer(mid, {h});
      h = net.layer(mid, {h}, h);
      h = net.layer(mid, {h}, h);
      h = net.layer(out, {h});
      h = net.layer(out, {h}, h);
      int skip = x;
      if (b == 0) {
        skip = net.layer(out, {x});
        skip = net.layer(out, {skip}, skip);
      }
      h = net.layer(out, {h, skip}, h);
      x = net.layer(out, {h}, h);
      side = s;
    }
    width *= 2;
  }
  x = net.layer(batch_bytes * 2048, {x});
  x = net.view(x);
  x = net.layer(batch_bytes * 1000, {x});
  net.output(x);
  return net;
}

TEST(PlannerLarge, ResNet50SizedGraph) {
  const Net net = resnet50_like();
  const auto tensors = net.tensors();
  ASSERT_GE(tensors.size(), 170u);
  const MemoryPlan plan = plan_memory(tensors, net.steps(), 256);
  EXPECT_EQ(independent_check(tensors, net.steps(), 256, plan), "");
  EXPECT_LE(plan.arena_bytes, plan.sum_bytes);
  std::cout << tensors.size() << " tensors: arena " << plan.arena_bytes << " (peak " << plan.peak_live_bytes
            << ", no reuse " << plan.sum_bytes << ", " << plan.strategy << ")\n";
}

// A deep residual network with varied widths: few tensors alive at once.
Net deep_residual(std::mt19937_64& rng, int layers) {
  Net net;
  int x = net.input(1 << 20);
  while (net.steps() < layers) {
    const std::uint64_t width = (1 + rng() % 8) << 18;
    int a = net.layer(width, {x});
    a = net.layer(width, {a}, a);
    const int c = net.layer(1 << 20, {a});
    const int y = net.layer(1 << 20, {x, c}, c);
    x = net.layer(1 << 20, {y}, y);
  }
  net.output(x);
  return net;
}

TEST(PlannerLarge, TenThousandTensors) {
  const std::uint64_t seed = fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const Net random = random_net(rng, 10000);
  const Net residual = deep_residual(rng, 10000);
  std::vector<std::uint64_t> sizes(10000);
  for (auto& s : sizes) s = 1 + rng() % 1000000;
  const auto long_chain = chain(sizes);
  for (const auto& [name, tensors, steps] :
       {std::make_tuple("random", random.tensors(), random.steps()),
        std::make_tuple("residual", residual.tensors(), residual.steps()),
        std::make_tuple("chain", long_chain, static_cast<int>(sizes.size()) - 1)}) {
    const MemoryPlan plan = plan_memory(tensors, steps, 256);
    EXPECT_TRUE(plan_is_valid(tensors, plan)) << name;
    EXPECT_GE(plan.arena_bytes, plan.peak_live_bytes) << name;
    std::cout << name << ", " << tensors.size() << " tensors: " << plan.strategy << ", arena/peak "
              << double(plan.arena_bytes) / double(plan.peak_live_bytes) << "\n";
  }
}

}  // namespace
}  // namespace kiln::testing
