// Views share their target's memory and keep it alive; in-place writes merge with their input
// only when nothing reads the input afterwards.
#include <gtest/gtest.h>

#include "engine/planner.h"
#include "planner_testing.h"

namespace kiln::testing {
namespace {

constexpr std::uint64_t kUnit = 256;

MemoryPlan checked_plan(const Net& net) {
  const auto tensors = net.tensors();
  MemoryPlan plan = plan_memory(tensors, net.steps(), kUnit);
  EXPECT_EQ(independent_check(tensors, net.steps(), kUnit, plan), "");
  return plan;
}

TEST(PlannerViews, ViewSharesOffsetAndExtendsTheTargetsLifetime) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int a = net.layer(4 * kUnit, {in});  // a's own last reader is the flatten
  const int v = net.view(a);                 // v is read two steps later
  const int t = net.layer(4 * kUnit, {in});  // written while v (a's memory) is alive
  const int out = net.layer(4 * kUnit, {v, t});
  net.output(out);
  const auto tensors = net.tensors();
  const MemoryPlan plan = checked_plan(net);
  EXPECT_EQ(plan.offsets[v], plan.offsets[a]);
  EXPECT_FALSE(ranges_overlap(plan, tensors, a, t));  // a itself is dead by then, its memory is not
  EXPECT_FALSE(ranges_overlap(plan, tensors, a, out));
  // in, a(+v), t alive together at t's step; a view adds nothing to the no-reuse size.
  EXPECT_EQ(plan.peak_live_bytes, 12 * kUnit);
  EXPECT_EQ(plan.sum_bytes, 16 * kUnit);
}

TEST(PlannerViews, ViewChainsResolveToTheRootAndOutputsKeepItToTheEnd) {
  Net net;
  const int in = net.input(6 * kUnit);
  const int a = net.layer(6 * kUnit, {in});
  const int v1 = net.view(a, 5 * kUnit);
  const int v2 = net.view(v1, 5 * kUnit);
  const int b = net.layer(6 * kUnit, {in});
  net.output(v2);
  net.output(b);
  const auto tensors = net.tensors();
  const MemoryPlan plan = checked_plan(net);
  EXPECT_EQ(plan.offsets[v1], plan.offsets[a]);
  EXPECT_EQ(plan.offsets[v2], plan.offsets[a]);
  EXPECT_FALSE(ranges_overlap(plan, tensors, a, b));
  EXPECT_EQ(plan.arena_bytes, 18 * kUnit);  // in, a, b all alive at b's step
}

TEST(PlannerInPlace, ReluOverConvOutputMerges) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int a = net.layer(4 * kUnit, {in});
  const int r = net.layer(4 * kUnit, {a}, a);
  const int out = net.layer(4 * kUnit, {r});
  net.output(out);
  const MemoryPlan plan = checked_plan(net);
  EXPECT_TRUE(plan.in_place_taken[r]);
  EXPECT_FALSE(plan.in_place_taken[a]);
  EXPECT_EQ(plan.offsets[r], plan.offsets[a]);
  EXPECT_EQ(plan.arena_bytes, 8 * kUnit);
}

TEST(PlannerInPlace, RunOfInPlaceLayersFoldsIntoOneBlock) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int a = net.layer(4 * kUnit, {in});
  const int bn = net.layer(4 * kUnit, {a}, a);
  const int relu = net.layer(3 * kUnit, {bn}, bn);
  const int out = net.layer(4 * kUnit, {relu});
  net.output(out);
  const MemoryPlan plan = checked_plan(net);
  EXPECT_TRUE(plan.in_place_taken[bn]);
  EXPECT_TRUE(plan.in_place_taken[relu]);
  EXPECT_EQ(plan.offsets[bn], plan.offsets[a]);
  EXPECT_EQ(plan.offsets[relu], plan.offsets[a]);
  EXPECT_EQ(plan.arena_bytes, 8 * kUnit);
}

TEST(PlannerInPlace, InputReadLaterIsNotOverwritten) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int a = net.layer(4 * kUnit, {in});
  const int r = net.layer(4 * kUnit, {a}, a);
  const int out = net.layer(4 * kUnit, {r, a});  // a is a skip link past r
  net.output(out);
  const auto tensors = net.tensors();
  const MemoryPlan plan = checked_plan(net);
  EXPECT_FALSE(plan.in_place_taken[r]);
  EXPECT_FALSE(ranges_overlap(plan, tensors, a, r));
}

TEST(PlannerInPlace, SmallerInputOrNetworkOutputIsNotOverwritten) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int small = net.layer(2 * kUnit, {in});
  const int grown = net.layer(4 * kUnit, {small}, small);
  const int kept = net.layer(4 * kUnit, {grown});
  const int over_output = net.layer(4 * kUnit, {kept}, kept);
  net.output(kept);
  net.output(over_output);
  const auto tensors = net.tensors();
  const MemoryPlan plan = checked_plan(net);
  EXPECT_FALSE(plan.in_place_taken[grown]);
  EXPECT_FALSE(plan.in_place_taken[over_output]);
  EXPECT_FALSE(ranges_overlap(plan, tensors, small, grown));
  EXPECT_FALSE(ranges_overlap(plan, tensors, kept, over_output));
}

TEST(PlannerInPlace, OverAViewMergesWithTheViewsTarget) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int a = net.layer(4 * kUnit, {in});
  const int v = net.view(a);
  const int r = net.layer(4 * kUnit, {v}, v);
  net.output(r);
  const MemoryPlan plan = checked_plan(net);
  EXPECT_TRUE(plan.in_place_taken[r]);
  EXPECT_EQ(plan.offsets[r], plan.offsets[a]);
  EXPECT_EQ(plan.arena_bytes, 8 * kUnit);
}

TEST(PlannerInPlace, NotOverAViewWhoseTargetHasAnotherLiveView) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int a = net.layer(4 * kUnit, {in});
  const int v = net.view(a);
  const int w = net.view(a);
  const int r = net.layer(4 * kUnit, {v}, v);
  const int out = net.layer(4 * kUnit, {r, w});  // w, so a's memory, is read after r is written
  net.output(out);
  const auto tensors = net.tensors();
  const MemoryPlan plan = checked_plan(net);
  EXPECT_FALSE(plan.in_place_taken[r]);
  EXPECT_FALSE(ranges_overlap(plan, tensors, r, w));
}

TEST(PlannerInPlace, TwoClaimsOnOneInputAtOneStepOnlyOneWins) {
  // Two outputs of one step that both claim the input: the tensors are built by hand.
  std::vector<PlanTensor> t(4);
  t[0] = {4 * kUnit, -1, 0, -1, -1};
  t[1] = {4 * kUnit, 0, 1, -1, -1};
  t[2] = {4 * kUnit, 1, 2, -1, 1};
  t[3] = {4 * kUnit, 1, 2, -1, 1};
  const MemoryPlan plan = plan_memory(t, 2, kUnit);
  EXPECT_TRUE(plan.in_place_taken[2]);
  EXPECT_FALSE(plan.in_place_taken[3]);
  EXPECT_EQ(independent_check(t, 2, kUnit, plan), "");
}

TEST(PlannerInPlace, NetworkInputMayBeOverwritten) {
  Net net;
  const int in = net.input(4 * kUnit);
  const int r = net.layer(4 * kUnit, {in}, in);
  const int out = net.layer(4 * kUnit, {r});
  net.output(out);
  const MemoryPlan plan = checked_plan(net);
  EXPECT_TRUE(plan.in_place_taken[r]);
  EXPECT_EQ(plan.offsets[r], plan.offsets[in]);
}

}  // namespace
}  // namespace kiln::testing
