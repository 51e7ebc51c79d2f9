// Skip links: a tensor read again by a later add or concat stays alive exactly until that reader.
// Not overlapping anything before then is checked pair by pair; being free right after is checked
// where the arena is tight enough that the next tensor can only fit by reusing the skip's block.
#include <gtest/gtest.h>

#include "engine/planner.h"
#include "planner_testing.h"

namespace kiln::testing {
namespace {

constexpr std::uint64_t kUnit = 256;

// x -> conv -> relu -> conv -> add(x, .) repeated; all tensors the same size.
struct Residual {
  Net net;
  std::vector<int> skips;  // each block's x
  std::vector<int> adds;   // each block's add output
};

Residual residual_stack(int blocks, bool in_place) {
  Residual r;
  int x = r.net.input(4 * kUnit);
  for (int b = 0; b < blocks; ++b) {
    const int a = r.net.layer(4 * kUnit, {x});
    const int relu = r.net.layer(4 * kUnit, {a}, in_place ? a : -1);
    const int c = r.net.layer(4 * kUnit, {relu});
    const int y = r.net.layer(4 * kUnit, {x, c}, in_place ? c : -1);
    r.skips.push_back(x);
    r.adds.push_back(y);
    x = y;
  }
  r.net.output(x);
  return r;
}

TEST(PlannerSkip, ResidualBlocksWithoutInPlace) {
  Residual r = residual_stack(8, false);
  const auto tensors = r.net.tensors();
  const MemoryPlan plan = plan_memory(tensors, r.net.steps(), kUnit);
  // At conv2 and at the add three tensors are alive: x, the relu output or conv2's, and the new one.
  EXPECT_EQ(plan.peak_live_bytes, 3 * 4 * kUnit);
  EXPECT_EQ(plan.arena_bytes, 3 * 4 * kUnit) << plan.strategy;
  EXPECT_EQ(independent_check(tensors, r.net.steps(), kUnit, plan), "");
  for (std::size_t b = 0; b < r.skips.size(); ++b) {
    EXPECT_EQ(tensors[r.skips[b]].last_step, tensors[r.adds[b]].first_step);
    EXPECT_FALSE(plan.in_place_taken[r.adds[b]]);
  }
}

TEST(PlannerSkip, ResidualBlocksInPlace) {
  Residual r = residual_stack(8, true);
  const auto tensors = r.net.tensors();
  const MemoryPlan plan = plan_memory(tensors, r.net.steps(), kUnit);
  // relu over conv1 and add over conv2: never more than x, one block, and one new tensor.
  for (int add : r.adds) {
    EXPECT_TRUE(plan.in_place_taken[add]);
    EXPECT_EQ(plan.offsets[add], plan.offsets[tensors[add].in_place_of]);
  }
  EXPECT_EQ(plan.arena_bytes, 3 * 4 * kUnit);
  EXPECT_EQ(independent_check(tensors, r.net.steps(), kUnit, plan), "");
}

// Dense-style blocks: y = concat(x, conv(x)); z = conv(y) is x's size. When y is written, x, a and y
// fill the arena (the peak); z must then avoid y, so it can only fit by reusing x's block, which
// is free only if x died at the concat.
TEST(PlannerSkip, ConcatSkipIsReusedRightAfterItsLastReader) {
  Net net;
  int x = net.input(8 * kUnit);
  std::vector<std::pair<int, int>> skip_then_next;
  for (int b = 0; b < 6; ++b) {
    const int a = net.layer(1 * kUnit, {x});
    const int y = net.layer(9 * kUnit, {x, a});
    const int z = net.layer(8 * kUnit, {y});
    skip_then_next.emplace_back(x, z);
    x = z;
  }
  net.output(x);
  const auto tensors = net.tensors();
  const MemoryPlan plan = plan_memory(tensors, net.steps(), kUnit);
  EXPECT_EQ(plan.peak_live_bytes, 18 * kUnit);
  ASSERT_EQ(plan.arena_bytes, 18 * kUnit) << plan.strategy;
  EXPECT_EQ(independent_check(tensors, net.steps(), kUnit, plan), "");
  for (auto [skip, next] : skip_then_next) {
    EXPECT_EQ(tensors[next].first_step, tensors[skip].last_step + 1);
    EXPECT_TRUE(ranges_overlap(plan, tensors, skip, next)) << "skip " << skip << " next " << next;
  }
}

// A U-Net: e1 and e2 live from the encoder until the decoder's concats. At c1 = concat(u1, e1) the
// arena is full (32 units); d1 (12 units) then has to use e1's block.
TEST(PlannerSkip, UNetEncoderTensorsLiveUntilTheirConcat) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int e1 = net.layer(8 * kUnit, {in});
  const int p1 = net.layer(2 * kUnit, {e1});
  const int e2 = net.layer(4 * kUnit, {p1});
  const int p2 = net.layer(1 * kUnit, {e2});
  const int m = net.layer(2 * kUnit, {p2});
  const int u2 = net.layer(4 * kUnit, {m});
  const int c2 = net.layer(8 * kUnit, {u2, e2});
  const int d2 = net.layer(4 * kUnit, {c2});
  const int u1 = net.layer(8 * kUnit, {d2});
  const int c1 = net.layer(16 * kUnit, {u1, e1});
  const int d1 = net.layer(12 * kUnit, {c1});
  const int out = net.layer(4 * kUnit, {d1});
  net.output(out);
  const auto tensors = net.tensors();
  EXPECT_EQ(tensors[e1].last_step, tensors[c1].first_step);
  EXPECT_EQ(tensors[e2].last_step, tensors[c2].first_step);

  const MemoryPlan plan = plan_memory(tensors, net.steps(), kUnit);
  EXPECT_EQ(plan.peak_live_bytes, 32 * kUnit);
  ASSERT_EQ(plan.arena_bytes, 32 * kUnit) << plan.strategy;
  EXPECT_EQ(independent_check(tensors, net.steps(), kUnit, plan), "");
  EXPECT_TRUE(ranges_overlap(plan, tensors, e1, d1));
  // Every tensor alive with e1 or e2 stays clear of them; the pairwise check above covers all of
  // them, this names the long-lived ones for the reader.
  for (int t : {p1, e2, p2, m, u2, c2, d2, u1, c1}) EXPECT_FALSE(ranges_overlap(plan, tensors, e1, t)) << t;
  for (int t : {p2, m, u2, c2}) EXPECT_FALSE(ranges_overlap(plan, tensors, e2, t)) << t;
}

}  // namespace
}  // namespace kiln::testing
