// Internal to the activation memory planner (engine/planner*.cpp): the blocks it places and the
// placement heuristics it chooses among. Not part of kiln's API; include engine/planner.h instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/planner.h"

namespace kiln::planner_detail {

// One block to place: a tensor together with its views and the tensors written in place over it.
// `size` is aligned and non-zero; [first, last] is the hull of the members' lifetimes. Two blocks
// conflict, and must not overlap, when their intervals intersect.
struct Block {
  std::uint64_t size = 0;
  int first = 0;
  int last = 0;
};

// Offsets (one per block, multiples of the alignment when every size is) and the arena they span.
struct Placement {
  std::vector<std::uint64_t> offsets;
  std::uint64_t arena = 0;
};

// Blocks one by one, each at the lowest offset that fits among the already placed blocks it
// conflicts with. kSize takes the largest first (TFLite's "greedy by size"); kLifetime the longest
// lived first (then the largest), which lays skip links out before the short-lived tensors between.
enum class GreedyOrder { kSize, kLifetime };
Placement place_greedy(const std::vector<Block>& blocks, GreedyOrder order);

// Blocks in execution order, each into the tightest gap among the blocks alive at its first step,
// inside an arena of `bound` bytes that grows only when nothing fits. With two_sided, a block
// going into a gap that touches the top of the arena is put against the top, so a plain chain
// alternates bottom/top; see Note [Two-sided placement] in planner_place.cpp.
Placement place_in_execution_order(const std::vector<Block>& blocks, std::uint64_t bound, bool two_sided);

// The first violation of plan_is_valid's rule, in words naming the tensors, offsets and step;
// empty when the plan is valid.
std::string find_plan_violation(const std::vector<PlanTensor>& tensors, const MemoryPlan& plan);

}  // namespace kiln::planner_detail
