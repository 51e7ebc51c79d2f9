// Plain chains: the arena must be exactly the largest sum of two adjacent tensors (two ping-pong
// buffers), whatever the sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "engine/planner.h"
#include "planner_testing.h"

namespace kiln::testing {
namespace {

std::uint64_t pairwise_bound(const std::vector<std::uint64_t>& sizes, std::uint64_t alignment) {
  std::uint64_t bound = sizes.size() == 1 ? align_up(sizes[0], alignment) : 0;
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i)
    bound = std::max(bound, align_up(sizes[i], alignment) + align_up(sizes[i + 1], alignment));
  return bound;
}

TEST(PlannerChain, EqualSizesUseExactlyTwoBuffers) {
  const std::vector<std::uint64_t> sizes(50, 1000);  // 1024 once aligned to 256
  const auto tensors = chain(sizes);
  const MemoryPlan plan = plan_memory(tensors, static_cast<int>(sizes.size()) - 1, 256);
  EXPECT_EQ(plan.arena_bytes, 2048u);
  EXPECT_EQ(plan.peak_live_bytes, 2048u);
  EXPECT_EQ(plan.sum_bytes, 50u * 1024u);
  const std::set<std::uint64_t> distinct(plan.offsets.begin(), plan.offsets.end());
  EXPECT_EQ(distinct, (std::set<std::uint64_t>{0, 1024}));
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_NE(plan.offsets[i], plan.offsets[i + 1]) << i;
  EXPECT_EQ(independent_check(tensors, 49, 256, plan), "");
}

TEST(PlannerChain, RandomSizesMeetThePairwiseBound) {
  for (int round = 0; round < 300; ++round) {
    const std::uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with KILN_PLANNER_SEED)");
    std::mt19937_64 rng(seed);
    const std::uint64_t alignments[] = {1, 8, 256, 4096};
    const std::uint64_t alignment = alignments[rng() % 4];
    std::vector<std::uint64_t> sizes(1 + rng() % 200);
    for (auto& s : sizes) s = rng() % 8 == 0 ? 1 + rng() % 100 : 1 + rng() % 3000000;
    const auto tensors = chain(sizes);
    const int steps = static_cast<int>(sizes.size()) - 1;
    const MemoryPlan plan = plan_memory(tensors, steps, alignment);

    const std::uint64_t bound = pairwise_bound(sizes, alignment);
    const std::uint64_t largest = align_up(*std::max_element(sizes.begin(), sizes.end()), alignment);
    EXPECT_EQ(plan.arena_bytes, bound) << "strategy " << plan.strategy;
    EXPECT_EQ(plan.peak_live_bytes, bound);
    EXPECT_LE(plan.arena_bytes, 2 * largest);
    EXPECT_TRUE(plan_is_valid(tensors, plan));
    EXPECT_EQ(independent_check(tensors, steps, alignment, plan), "");
  }
}

TEST(PlannerChain, ZeroByteLinksAndSingleTensor) {
  const std::vector<std::uint64_t> sizes = {512, 0, 700, 300, 0, 0, 256, 1024};
  const auto tensors = chain(sizes);
  const MemoryPlan plan = plan_memory(tensors, 7, 256);
  EXPECT_EQ(plan.arena_bytes, pairwise_bound(sizes, 256));
  EXPECT_EQ(plan.arena_bytes, 1024u + 256u);
  EXPECT_EQ(independent_check(tensors, 7, 256, plan), "");

  const MemoryPlan one = plan_memory(chain({100}), 0, 64);
  EXPECT_EQ(one.arena_bytes, 128u);
  EXPECT_EQ(one.offsets, std::vector<std::uint64_t>{0});

  const MemoryPlan none = plan_memory({}, 0, 64);
  EXPECT_EQ(none.arena_bytes, 0u);
  EXPECT_TRUE(none.offsets.empty());
}

TEST(PlannerChain, GrowingThenShrinkingSizes) {
  std::vector<std::uint64_t> sizes;
  for (int i = 1; i <= 30; ++i) sizes.push_back(i * 4096);
  for (int i = 30; i >= 1; --i) sizes.push_back(i * 4096 + 17);
  const auto tensors = chain(sizes);
  const int steps = static_cast<int>(sizes.size()) - 1;
  const MemoryPlan plan = plan_memory(tensors, steps, 256);
  EXPECT_EQ(plan.arena_bytes, pairwise_bound(sizes, 256));
  EXPECT_EQ(independent_check(tensors, steps, 256, plan), "");
}

}  // namespace
}  // namespace kiln::testing
