// Placement heuristics of the activation memory planner. Each one gives every block an offset so
// that conflicting blocks do not overlap; plan_memory runs several and keeps the smallest arena.
//
// Note [Two-sided placement]
// place_in_execution_order(blocks, B = peak_live_bytes, two_sided = true) never grows a plain
// chain's arena beyond B, the largest sum of two adjacent tensors, which is also a lower bound, so
// the arena equals it. In a chain t_0 .. t_m, t_i lives over steps [i-1, i], so when t_{i+1} is
// placed (at step i) the only live block is t_i: t_{i-1} died at step i-1. Invariant: every chain
// block is placed touching an end of [0, B). t_0 meets an empty arena, one gap [0, B) that touches
// the bottom, and goes at 0. If t_i touches one end, the only gap is the rest of [0, B), which
// touches the other end and is B - s_i >= s_{i+1} long because B >= s_i + s_{i+1}; so t_{i+1} fits
// without growing B and goes against that other end, keeping the invariant. A zero-byte tensor is
// not a block; the live set is then empty and the next block starts again at the bottom. Hence a
// chain alternates bottom/top: two ping-pong buffers, exactly two blocks when all sizes are equal.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/planner_internal.h"

namespace kiln::planner_detail {

namespace {

constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

bool conflict(const Block& a, const Block& b) { return a.first <= b.last && b.first <= a.last; }

// Inserts `b` into `sorted` (block indices ascending by offset), keeping the order.
void insert_by_offset(std::vector<int>& sorted, int b, const std::vector<std::uint64_t>& offsets) {
  auto pos = std::upper_bound(sorted.begin(), sorted.end(), b, [&](int x, int y) { return offsets[x] < offsets[y]; });
  sorted.insert(pos, b);
}

// The tightest gap that can hold `size`; among equally tight ones the first that touches an end of
// the arena [0, bound), else the lowest.
struct GapChoice {
  std::uint64_t lo = kNone;
  std::uint64_t hi = 0;
  bool at_edge = false;

  void consider(std::uint64_t gap_lo, std::uint64_t gap_hi, std::uint64_t size, std::uint64_t bound) {
    const std::uint64_t len = gap_hi - gap_lo;
    if (len < size) return;
    const bool edge = gap_lo == 0 || gap_hi == bound;
    const bool better = lo == kNone || len < hi - lo || (len == hi - lo && edge && !at_edge);
    if (!better) return;
    lo = gap_lo;
    hi = gap_hi;
    at_edge = edge;
  }
  bool found() const { return lo != kNone; }
};

}  // namespace

Placement place_greedy(const std::vector<Block>& blocks, GreedyOrder by) {
  const int n = static_cast<int>(blocks.size());
  auto span = [&](int b) { return static_cast<long long>(blocks[b].last) - blocks[b].first; };
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (by == GreedyOrder::kLifetime && span(a) != span(b)) return span(a) > span(b);
    if (blocks[a].size != blocks[b].size) return blocks[a].size > blocks[b].size;
    return blocks[a].first < blocks[b].first;
  });

  Placement p;
  p.offsets.assign(n, 0);
  std::vector<int> placed;  // ascending by offset; placed blocks may overlap one another
  placed.reserve(n);
  for (int b : order) {
    const Block& cur = blocks[b];
    std::uint64_t cursor = 0;  // end of the conflicting blocks below the candidate offset
    for (int q : placed) {
      if (!conflict(blocks[q], cur)) continue;
      if (p.offsets[q] >= cursor && p.offsets[q] - cursor >= cur.size) break;
      cursor = std::max(cursor, p.offsets[q] + blocks[q].size);
    }
    p.offsets[b] = cursor;
    p.arena = std::max(p.arena, cursor + cur.size);
    insert_by_offset(placed, b, p.offsets);
  }
  return p;
}

Placement place_in_execution_order(const std::vector<Block>& blocks, std::uint64_t bound, bool two_sided) {
  const int n = static_cast<int>(blocks.size());
  // A step's larger outputs choose their gap first.
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (blocks[a].first != blocks[b].first) return blocks[a].first < blocks[b].first;
    return blocks[a].size > blocks[b].size;
  });

  Placement p;
  p.offsets.assign(n, 0);
  // Blocks alive at the current step, ascending by offset. All of them contain the step, so they
  // conflict pairwise and never overlap: the free space is exactly the gaps between them.
  std::vector<int> live;
  for (int b : order) {
    const Block& cur = blocks[b];
    live.erase(std::remove_if(live.begin(), live.end(), [&](int q) { return blocks[q].last < cur.first; }), live.end());
    GapChoice gap;
    std::uint64_t cursor = 0;
    for (int q : live) {
      if (p.offsets[q] > cursor) gap.consider(cursor, p.offsets[q], cur.size, bound);
      cursor = p.offsets[q] + blocks[q].size;
    }
    if (bound > cursor) gap.consider(cursor, bound, cur.size, bound);

    std::uint64_t offset = 0;
    if (!gap.found()) {
      offset = cursor;                                    // above every live block: the least growth of the arena
      if (cur.size > kNone - offset) return {{}, kNone};  // loses to the no-reuse layout
      bound = std::max(bound, offset + cur.size);
    } else if (two_sided && gap.hi == bound && gap.lo != 0) {
      offset = gap.hi - cur.size;
    } else {
      offset = gap.lo;
    }
    p.offsets[b] = offset;
    p.arena = std::max(p.arena, offset + cur.size);
    insert_by_offset(live, b, p.offsets);
  }
  return p;
}

}  // namespace kiln::planner_detail
