// Each placement heuristic on its own (plan_memory only self-checks the winner): every one must
// keep conflicting blocks apart, and the two-sided one must keep chains at the pairwise bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "engine/planner_internal.h"
#include "planner_testing.h"

namespace kiln::testing {
namespace {

using planner_detail::Block;
using planner_detail::Placement;

std::string overlaps(const std::vector<Block>& blocks, const Placement& p) {
  if (p.offsets.size() != blocks.size()) return "wrong number of offsets";
  for (std::size_t a = 0; a < blocks.size(); ++a) {
    if (p.offsets[a] + blocks[a].size > p.arena) return "block " + std::to_string(a) + " beyond the arena";
    for (std::size_t b = a + 1; b < blocks.size(); ++b) {
      const bool together = blocks[a].first <= blocks[b].last && blocks[b].first <= blocks[a].last;
      const bool apart = p.offsets[a] + blocks[a].size <= p.offsets[b] || p.offsets[b] + blocks[b].size <= p.offsets[a];
      if (together && !apart) return "blocks " + std::to_string(a) + " and " + std::to_string(b) + " overlap";
    }
  }
  return "";
}

std::uint64_t peak(const std::vector<Block>& blocks) {
  std::uint64_t best = 0;
  for (const Block& at : blocks) {  // the peak is reached at some block's first step
    std::uint64_t live = 0;
    for (const Block& b : blocks)
      if (b.first <= at.first && at.first <= b.last) live += b.size;
    best = std::max(best, live);
  }
  return best;
}

TEST(PlannerHeuristics, EveryHeuristicKeepsConflictingBlocksApart) {
  for (int round = 0; round < 200; ++round) {
    const std::uint64_t seed = fresh_seed();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with KILN_PLANNER_SEED)");
    std::mt19937_64 rng(seed);
    const int steps = 1 + static_cast<int>(rng() % 100);
    std::vector<Block> blocks(1 + rng() % 150);
    for (Block& b : blocks) {
      b.size = 64 * (1 + rng() % (rng() % 4 == 0 ? 1000 : 16));
      b.first = static_cast<int>(rng() % (steps + 1)) - 1;
      const int longest = rng() % 5 == 0 ? steps : 4;
      b.last = std::min(steps, b.first + static_cast<int>(rng() % (longest + 1)));
    }
    const std::uint64_t lower = peak(blocks);
    const Placement placements[] = {
        planner_detail::place_in_execution_order(blocks, lower, true),
        planner_detail::place_in_execution_order(blocks, 0, false),
        planner_detail::place_greedy(blocks, planner_detail::GreedyOrder::kSize),
        planner_detail::place_greedy(blocks, planner_detail::GreedyOrder::kLifetime),
    };
    for (const Placement& p : placements) {
      EXPECT_EQ(overlaps(blocks, p), "");
      EXPECT_GE(p.arena, lower);
      for (std::uint64_t off : p.offsets) EXPECT_EQ(off % 64, 0u);
    }
  }
}

TEST(PlannerHeuristics, TwoSidedAlternatesEndsOnAChain) {
  const std::uint64_t seed = fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with KILN_PLANNER_SEED)");
  std::mt19937_64 rng(seed);
  std::vector<Block> blocks(60);
  std::uint64_t bound = 0;
  for (int i = 0; i < 60; ++i) {
    blocks[i] = {256 * (1 + rng() % 100), i - 1, i};
    if (i > 0) bound = std::max(bound, blocks[i - 1].size + blocks[i].size);
  }
  const Placement p = planner_detail::place_in_execution_order(blocks, bound, true);
  EXPECT_EQ(p.arena, bound);
  for (int i = 0; i < 60; ++i) {
    const bool bottom = p.offsets[i] == 0;
    const bool top = p.offsets[i] + blocks[i].size == bound;
    EXPECT_TRUE(i % 2 == 0 ? bottom : top) << "block " << i << " at " << p.offsets[i];
  }
}

}  // namespace
}  // namespace kiln::testing
