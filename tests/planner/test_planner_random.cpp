// Random networks against the independent oracle, and the oracle plan_is_valid shown able to fail.
#include <gtest/gtest.h>

#include <iostream>
#include <random>

#include "engine/planner.h"
#include "planner_testing.h"

namespace kiln::testing {
namespace {

TEST(PlannerRandom, RandomNetworksGetValidTightPlans) {
  double worst_ratio = 1.0;
  double ratio_sum = 0.0;
  const int rounds = 300;
  for (int round = 0; round < rounds; ++round) {
    const std::uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with KILN_PLANNER_SEED)");
    std::mt19937_64 rng(seed);
    const std::uint64_t alignments[] = {1, 16, 256, 4096};
    const std::uint64_t alignment = alignments[rng() % 4];
    const Net net = random_net(rng, 1 + static_cast<int>(rng() % 300));
    const auto tensors = net.tensors();
    const MemoryPlan plan = plan_memory(tensors, net.steps(), alignment);

    ASSERT_TRUE(plan_is_valid(tensors, plan));
    ASSERT_EQ(independent_check(tensors, net.steps(), alignment, plan), "");
    EXPECT_GE(plan.arena_bytes, plan.peak_live_bytes);
    EXPECT_LE(plan.arena_bytes, plan.sum_bytes);
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      EXPECT_EQ(plan.offsets[i] % alignment, 0u);
      if (tensors[i].alias_of >= 0) {
        EXPECT_EQ(plan.offsets[i], plan.offsets[tensors[i].alias_of]);
      }
    }
    const double ratio = plan.peak_live_bytes ? double(plan.arena_bytes) / double(plan.peak_live_bytes) : 1.0;
    worst_ratio = std::max(worst_ratio, ratio);
    ratio_sum += ratio;
  }
  std::cout << "arena / peak_live over " << rounds << " random networks: mean " << ratio_sum / rounds << ", worst "
            << worst_ratio << "\n";
}

// A three-tensor chain, planned, then broken on purpose.
struct Planted : ::testing::Test {
  std::vector<PlanTensor> tensors = chain({1000, 1000, 1000});
  MemoryPlan plan = plan_memory(tensors, 2, 256);
};

TEST_F(Planted, ValidPlanPasses) {
  EXPECT_TRUE(plan_is_valid(tensors, plan));
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);  // 0 and 2 never live together
  EXPECT_NE(plan.offsets[0], plan.offsets[1]);
}

TEST_F(Planted, OverlapOfLiveNeighboursIsCaught) {
  plan.offsets[1] = plan.offsets[0];
  EXPECT_FALSE(plan_is_valid(tensors, plan));
}

TEST_F(Planted, PartialOverlapIsCaughtButTouchingIsNot) {
  plan.offsets = {0, 1024, 0};
  plan.arena_bytes = 2048;
  EXPECT_TRUE(plan_is_valid(tensors, plan));  // [0, 1000) and [1024, 2024) only touch
  plan.offsets[1] = 999;
  EXPECT_FALSE(plan_is_valid(tensors, plan));
}

TEST_F(Planted, FalseInPlaceClaimIsCaught) {
  tensors[1].in_place_of = 0;
  plan.offsets = {0, 0, 1024};
  plan.in_place_taken[1] = true;
  EXPECT_TRUE(plan_is_valid(tensors, plan));  // 1 takes over 0 at step 0, 0's last reader
  tensors[0].last_step = 1;                   // 0 is read again after 1 overwrote it
  EXPECT_FALSE(plan_is_valid(tensors, plan));
  tensors[0].last_step = 0;
  plan.in_place_taken[1] = false;  // the same sharing without the claim
  EXPECT_FALSE(plan_is_valid(tensors, plan));
}

TEST_F(Planted, ViewAtAnotherOffsetAndOutOfArenaAreCaught) {
  tensors[2].alias_of = 1;
  plan.offsets[2] = plan.offsets[0];
  EXPECT_FALSE(plan_is_valid(tensors, plan));

  MemoryPlan short_arena = plan_memory(chain({1000, 1000, 1000}), 2, 256);
  short_arena.arena_bytes = 1024;
  EXPECT_FALSE(plan_is_valid(chain({1000, 1000, 1000}), short_arena));
}

TEST_F(Planted, MismatchedLengthsAreCaught) {
  plan.offsets.pop_back();
  EXPECT_FALSE(plan_is_valid(tensors, plan));
}

TEST_F(Planted, ZeroByteTensorsNeverOverlap) {
  tensors[1].bytes = 0;
  plan.offsets = {0, 0, 0};
  plan.arena_bytes = 1024;
  EXPECT_TRUE(plan_is_valid(tensors, plan));
}

}  // namespace
}  // namespace kiln::testing
