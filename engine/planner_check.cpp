// plan_is_valid: the planner's oracle, also run on every plan before plan_memory returns it.
//
// The rule, per pair of tensors with bytes > 0 whose lifetimes [first_step, last_step] intersect:
// their byte ranges must be disjoint unless
//   - they are the same memory by construction: both resolve, through alias_of, to one tensor; or
//   - one is written in place over the other's memory and they meet only at that writing step: the
//     plan took `in_place_of` for tensor T (T's view class), the input resolves to the other's view
//     class, and the lifetimes intersect in exactly the step T.first_step.
// A tensor shared in place is therefore never read after the step that overwrites it. The check is
// a sweep in first_step order against the tensors still alive: O(n log n + pairs alive together).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/planner.h"
#include "engine/planner_internal.h"

namespace kiln {
namespace planner_detail {

namespace {

std::string range(std::uint64_t off, std::uint64_t bytes) {
  return "[" + std::to_string(off) + ", " + std::to_string(off + bytes) + ")";
}

std::string tensor_name(int i) { return "tensor " + std::to_string(i); }

}  // namespace

std::string find_plan_violation(const std::vector<PlanTensor>& tensors, const MemoryPlan& plan) {
  const std::size_t count = tensors.size();
  if (plan.offsets.size() != count || plan.in_place_taken.size() != count)
    return "the plan has " + std::to_string(plan.offsets.size()) + " offsets and " +
           std::to_string(plan.in_place_taken.size()) + " in_place_taken entries for " + std::to_string(count) +
           " tensors";
  const int n = static_cast<int>(count);
  std::vector<int> root(n);
  for (int i = 0; i < n; ++i) {
    const PlanTensor& t = tensors[i];
    if (t.first_step < -1 || t.last_step < t.first_step) return tensor_name(i) + " has an empty or negative lifetime";
    root[i] = i;
    if (t.alias_of != -1) {
      if (t.alias_of < 0 || t.alias_of >= i)
        return tensor_name(i) + " is a view of " + std::to_string(t.alias_of) + ", not of an earlier tensor";
      root[i] = root[t.alias_of];
      if (plan.offsets[i] != plan.offsets[t.alias_of])
        return tensor_name(i) + " is a view of tensor " + std::to_string(t.alias_of) + " but its offset " +
               std::to_string(plan.offsets[i]) + " differs from " + std::to_string(plan.offsets[t.alias_of]);
    }
    if (t.bytes > 0 && (plan.offsets[i] > plan.arena_bytes || t.bytes > plan.arena_bytes - plan.offsets[i]))
      return tensor_name(i) + " at " + range(plan.offsets[i], t.bytes) + " does not fit in the arena of " +
             std::to_string(plan.arena_bytes) + " bytes";
  }
  // Per view class (keyed by its root, the only member that may be written in place): the class it
  // overwrote and at which step.
  std::vector<int> link_to(n, -1);
  for (int i = 0; i < n; ++i) {
    if (!plan.in_place_taken[i]) continue;
    const int x = tensors[i].in_place_of;
    if (x < 0 || x >= n || x == i || tensors[i].alias_of != -1)
      return tensor_name(i) + " is marked in place but in_place_of is " + std::to_string(x);
    if (plan.offsets[i] != plan.offsets[x])
      return tensor_name(i) + " is marked in place of tensor " + std::to_string(x) + " but its offset " +
             std::to_string(plan.offsets[i]) + " differs from " + std::to_string(plan.offsets[x]);
    link_to[i] = root[x];
  }
  auto exempt = [&](int a, int b) {
    const int ra = root[a];
    const int rb = root[b];
    if (ra == rb) return true;
    const int meet = std::max(tensors[a].first_step, tensors[b].first_step);
    if (std::min(tensors[a].last_step, tensors[b].last_step) != meet) return false;
    return (link_to[rb] == ra && tensors[rb].first_step == meet) ||
           (link_to[ra] == rb && tensors[ra].first_step == meet);
  };

  std::vector<int> order;
  order.reserve(count);
  for (int i = 0; i < n; ++i)
    if (tensors[i].bytes > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return tensors[a].first_step < tensors[b].first_step; });
  std::vector<int> alive;
  for (int t : order) {
    const PlanTensor& cur = tensors[t];
    for (std::size_t k = 0; k < alive.size();) {
      const int a = alive[k];
      if (tensors[a].last_step < cur.first_step) {
        alive[k] = alive.back();
        alive.pop_back();
        continue;
      }
      ++k;
      const std::uint64_t a_off = plan.offsets[a];
      const std::uint64_t t_off = plan.offsets[t];
      const bool overlap = a_off < t_off + cur.bytes && t_off < a_off + tensors[a].bytes;
      if (overlap && !exempt(a, t))
        return "tensors " + std::to_string(a) + " " + range(a_off, tensors[a].bytes) + " and " + std::to_string(t) +
               " " + range(t_off, cur.bytes) + " overlap while both alive at step " + std::to_string(cur.first_step);
    }
    alive.push_back(t);
  }
  return {};
}

}  // namespace planner_detail

bool plan_is_valid(const std::vector<PlanTensor>& tensors, const MemoryPlan& plan) {
  return planner_detail::find_plan_violation(tensors, plan).empty();
}

}  // namespace kiln
