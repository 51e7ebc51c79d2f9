// plan_memory: checks the tensors, folds views and in-place writes into blocks, places the blocks
// with several heuristics (planner_place.cpp) and keeps the smallest arena, after checking it with
// the same oracle the tests use (planner_check.cpp).
#include "engine/planner.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "engine/planner_internal.h"

namespace kiln {

PlanTensorError::PlanTensorError(std::size_t tensor, std::string field, std::string problem)
    : UsageError("plan_memory: tensor " + std::to_string(tensor) + " " + field + ": " + problem),
      tensor_(tensor),
      field_(std::move(field)),
      problem_(std::move(problem)) {}

namespace {

using planner_detail::Block;
using planner_detail::Placement;

std::string num(std::uint64_t v) { return std::to_string(v); }
std::string num(int v) { return std::to_string(v); }

[[noreturn]] void reject_tensor(std::size_t i, const char* field, const std::string& what) {
  throw PlanTensorError(i, field, what);
}

// Checks every rule of planner.h. Returns each tensor's size rounded up to the alignment and sets
// `sum` to the total over non-view tensors; that total fitting in 64 bits bounds every later sum.
std::vector<std::uint64_t> validate(const std::vector<PlanTensor>& tensors, int num_steps, std::uint64_t alignment,
                                    std::uint64_t& sum) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw UsageError("plan_memory: alignment must be a power of two, found " + num(alignment));
  if (num_steps < 0) throw UsageError("plan_memory: num_steps must be >= 0, found " + num(num_steps));
  if (tensors.size() > static_cast<std::size_t>(INT_MAX))
    throw UsageError("plan_memory: " + num(std::uint64_t{tensors.size()}) + " tensors, more than an int can index");
  const std::size_t n = tensors.size();
  std::vector<std::uint64_t> aligned(n);
  sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const PlanTensor& t = tensors[i];
    if (t.first_step < -1 || t.first_step >= num_steps)
      reject_tensor(i, "first_step",
          "expected -1.." + num(num_steps - 1) + " (num_steps is " + num(num_steps) + "), found " + num(t.first_step));
    if (t.last_step < t.first_step || t.last_step > num_steps)
      reject_tensor(i, "last_step",
          "expected first_step..num_steps = " + num(t.first_step) + ".." + num(num_steps) + ", found " +
              num(t.last_step));
    if (t.bytes > UINT64_MAX - (alignment - 1))
      reject_tensor(i, "bytes", num(t.bytes) + " overflows 64 bits when rounded up to the alignment " + num(alignment));
    aligned[i] = (t.bytes + alignment - 1) & ~(alignment - 1);
    if (t.alias_of != -1) continue;
    if (aligned[i] > UINT64_MAX - sum) reject_tensor(i, "bytes", "the total of all tensors' bytes overflows 64 bits");
    sum += aligned[i];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const PlanTensor& t = tensors[i];
    if (t.alias_of != -1) {
      if (t.alias_of < 0 || static_cast<std::size_t>(t.alias_of) >= i)
        reject_tensor(i, "alias_of",
            "expected -1 or an earlier tensor's index (below " + num(std::uint64_t{i}) + "), found " + num(t.alias_of));
      const PlanTensor& target = tensors[t.alias_of];
      if (target.bytes < t.bytes)
        reject_tensor(i, "alias_of",
            "tensor " + num(t.alias_of) + " has " + num(target.bytes) + " bytes, fewer than the view's " +
                num(t.bytes));
      if (target.first_step > t.first_step)
        reject_tensor(i, "alias_of",
            "tensor " + num(t.alias_of) + " is written at step " + num(target.first_step) + ", after its view (step " +
                num(t.first_step) + ")");
      if (t.in_place_of != -1)
        reject_tensor(i, "in_place_of",
            "a view (alias_of " + num(t.alias_of) + ") cannot also be written in place, found " + num(t.in_place_of));
    }
    if (t.in_place_of != -1) {
      if (t.in_place_of < 0 || static_cast<std::size_t>(t.in_place_of) >= n ||
          static_cast<std::size_t>(t.in_place_of) == i)
        reject_tensor(i, "in_place_of",
            "expected -1 or another tensor's index (0.." + num(std::uint64_t{n}) + " exclusive), found " +
                num(t.in_place_of));
      const PlanTensor& input = tensors[t.in_place_of];
      if (input.first_step >= t.first_step)
        reject_tensor(i, "in_place_of",
            "tensor " + num(t.in_place_of) + " is written at step " + num(input.first_step) +
                ", not before this tensor's writer (step " + num(t.first_step) + ")");
      if (input.last_step < t.first_step)
        reject_tensor(i, "in_place_of",
            "tensor " + num(t.in_place_of) + " is last read at step " + num(input.last_step) +
                ", so this tensor's writer (step " + num(t.first_step) + ") cannot read it");
    }
  }
  return aligned;
}

struct Blocks {
  std::vector<Block> blocks;
  std::vector<int> block_of;  // per tensor; -1 when its memory is zero bytes
  std::vector<bool> in_place_taken;
};

// A view shares its target's block, whose lifetime grows to cover the view's. A tensor written in
// place joins its input's block when the input is the block's latest tensor and the input's last
// reader, views included, is this tensor's writer: nothing reads the old contents afterwards.
Blocks merge_views_and_in_place(const std::vector<PlanTensor>& tensors, const std::vector<std::uint64_t>& aligned) {
  const int n = static_cast<int>(tensors.size());
  struct Group {
    Block hull;
    int tail;  // the class written last; only it may be overwritten in place
  };
  std::vector<int> root(n);
  std::vector<int> parent(n);  // union-find over view classes, for in-place merging
  std::vector<Group> group(n);
  for (int i = 0; i < n; ++i) {
    const PlanTensor& t = tensors[i];
    root[i] = t.alias_of == -1 ? i : root[t.alias_of];
    parent[i] = i;
    Block& h = group[root[i]].hull;
    if (root[i] == i) {
      group[i] = {{aligned[i], t.first_step, t.last_step}, i};
    } else {  // validate() made views no larger and no earlier than their target
      h.last = std::max(h.last, t.last_step);
    }
  }
  auto find = [&](int c) {
    while (parent[c] != c) c = parent[c] = parent[parent[c]];
    return c;
  };

  Blocks out;
  out.in_place_taken.assign(n, false);
  std::vector<int> candidates;
  for (int i = 0; i < n; ++i)
    if (tensors[i].in_place_of != -1) candidates.push_back(i);
  // In writing order, so that a run of in-place layers folds into one block.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](int a, int b) { return tensors[a].first_step < tensors[b].first_step; });
  for (int t : candidates) {
    const PlanTensor& cur = tensors[t];
    const PlanTensor& input = tensors[cur.in_place_of];
    const int input_class = root[cur.in_place_of];
    const int g = find(input_class);
    if (find(t) != t || group[g].tail != input_class || group[g].hull.last != cur.first_step) continue;
    if (tensors[input_class].first_step >= cur.first_step || input.bytes < cur.bytes) continue;
    parent[t] = g;
    Block& h = group[g].hull;
    h.last = std::max(h.last, group[t].hull.last);
    h.size = std::max(h.size, group[t].hull.size);
    group[g].tail = t;
    out.in_place_taken[t] = true;
  }

  std::vector<int> block_of_group(n, -1);
  for (int i = 0; i < n; ++i) {
    if (root[i] != i || find(i) != i || group[i].hull.size == 0) continue;
    block_of_group[i] = static_cast<int>(out.blocks.size());
    out.blocks.push_back(group[i].hull);
  }
  out.block_of.resize(n);
  for (int i = 0; i < n; ++i) out.block_of[i] = block_of_group[find(root[i])];
  return out;
}

// The most bytes alive at any one step: blocks alive together cannot overlap, so no arena is smaller.
std::uint64_t peak_live(const std::vector<Block>& blocks) {
  std::vector<std::tuple<long long, int, std::uint64_t>> events;  // (step, 0 = dies / 1 = born, bytes)
  events.reserve(2 * blocks.size());
  for (const Block& b : blocks) {
    events.emplace_back(b.first, 1, b.size);
    events.emplace_back(static_cast<long long>(b.last) + 1, 0, b.size);
  }
  std::sort(events.begin(), events.end());
  std::uint64_t live = 0;
  std::uint64_t peak = 0;
  for (const auto& [step, born, bytes] : events) {
    (void)step;
    live = born ? live + bytes : live - bytes;
    peak = std::max(peak, live);
  }
  return peak;
}

Placement no_reuse(const std::vector<Block>& blocks) {
  Placement p;
  for (const Block& b : blocks) {
    p.offsets.push_back(p.arena);
    p.arena += b.size;
  }
  return p;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<PlanTensor>& tensors, int num_steps, std::uint64_t alignment) {
  MemoryPlan plan;
  const std::vector<std::uint64_t> aligned = validate(tensors, num_steps, alignment, plan.sum_bytes);
  const Blocks merged = merge_views_and_in_place(tensors, aligned);
  const std::vector<Block>& blocks = merged.blocks;
  plan.in_place_taken = merged.in_place_taken;
  plan.peak_live_bytes = peak_live(blocks);

  // Cheapest first; an arena at the lower bound cannot be beaten and ends the search. no_reuse is
  // the fallback that keeps arena <= sum_bytes whatever the heuristics do.
  const std::pair<const char*, std::function<Placement()>> heuristics[] = {
      {"two_sided_bounded",
       [&] { return planner_detail::place_in_execution_order(blocks, plan.peak_live_bytes, true); }},
      {"execution_order_best_fit", [&] { return planner_detail::place_in_execution_order(blocks, 0, false); }},
      {"greedy_by_size", [&] { return planner_detail::place_greedy(blocks, planner_detail::GreedyOrder::kSize); }},
      {"greedy_by_lifetime",
       [&] { return planner_detail::place_greedy(blocks, planner_detail::GreedyOrder::kLifetime); }},
  };
  Placement best = no_reuse(blocks);
  plan.strategy = "no_reuse";
  for (const auto& [name, run] : heuristics) {
    if (best.arena == plan.peak_live_bytes) break;
    Placement p = run();
    if (p.arena < best.arena) {
      best = std::move(p);
      plan.strategy = name;
    }
  }

  plan.arena_bytes = best.arena;
  plan.offsets.resize(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const int b = merged.block_of[i];
    plan.offsets[i] = b < 0 ? 0 : best.offsets[b];
  }

  const std::string violation = planner_detail::find_plan_violation(tensors, plan);
  if (!violation.empty())
    throw Error("plan_memory: internal error: the " + plan.strategy + " placement is invalid: " + violation);
  bool aligned_ok = plan.arena_bytes % alignment == 0;
  for (std::uint64_t off : plan.offsets) aligned_ok = aligned_ok && off % alignment == 0;
  if (!aligned_ok || plan.arena_bytes < plan.peak_live_bytes || plan.arena_bytes > plan.sum_bytes)
    throw Error("plan_memory: internal error: the " + plan.strategy + " placement breaks alignment " + num(alignment) +
                " or the bounds peak " + num(plan.peak_live_bytes) + " <= arena " + num(plan.arena_bytes) + " <= sum " +
                num(plan.sum_bytes));
  return plan;
}

}  // namespace kiln
