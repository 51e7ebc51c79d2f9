#include "planner_testing.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>

namespace kiln::testing {

int Net::input(std::uint64_t bytes) {
  PlanTensor t;
  t.bytes = bytes;
  t.first_step = -1;
  t.last_step = -1;
  tensors_.push_back(t);
  return static_cast<int>(tensors_.size()) - 1;
}

void Net::read(int tensor, int step) { tensors_.at(tensor).last_step = std::max(tensors_.at(tensor).last_step, step); }

int Net::layer(std::uint64_t bytes, const std::vector<int>& reads, int in_place_of) {
  const int step = steps_++;
  for (int r : reads) read(r, step);
  PlanTensor t;
  t.bytes = bytes;
  t.first_step = step;
  t.last_step = step;
  t.in_place_of = in_place_of;
  tensors_.push_back(t);
  return static_cast<int>(tensors_.size()) - 1;
}

int Net::view(int of, std::uint64_t bytes) {
  const int t = layer(bytes == 0 ? tensors_.at(of).bytes : bytes, {of});
  tensors_[t].alias_of = of;
  return t;
}

std::vector<PlanTensor> Net::tensors() const {
  std::vector<PlanTensor> out = tensors_;
  for (int o : outputs_) out.at(o).last_step = steps_;
  return out;
}

std::vector<PlanTensor> chain(const std::vector<std::uint64_t>& sizes) {
  std::vector<PlanTensor> out(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    out[i].bytes = sizes[i];
    out[i].first_step = static_cast<int>(i) - 1;
    out[i].last_step = static_cast<int>(i);
  }
  return out;
}

std::uint64_t align_up(std::uint64_t bytes, std::uint64_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

std::uint64_t fresh_seed() {
  if (const char* env = std::getenv("KILN_PLANNER_SEED")) return std::strtoull(env, nullptr, 10);
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

Net random_net(std::mt19937_64& rng, int layers) {
  auto pct = [&](int p) { return static_cast<int>(rng() % 100) < p; };
  auto random_bytes = [&]() -> std::uint64_t { return pct(3) ? 0 : 1 + rng() % (pct(10) ? 1000000 : 20000); };
  Net net;
  std::vector<int> made;
  const int inputs = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < inputs; ++i) made.push_back(net.input(random_bytes()));
  for (int l = 0; l < layers; ++l) {
    std::vector<int> reads;
    const int fan_in = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < fan_in; ++f) {
      const std::size_t window = pct(85) ? std::min<std::size_t>(4, made.size()) : made.size();
      reads.push_back(made[made.size() - 1 - rng() % window]);
    }
    std::sort(reads.begin(), reads.end());
    reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
    const int pick = reads[rng() % reads.size()];
    const std::uint64_t pick_bytes = net.bytes(pick);
    int t = -1;
    if (pct(10)) {
      t = net.view(pick, pick_bytes == 0 ? 0 : 1 + rng() % pick_bytes);
    } else if (pct(30)) {
      const std::uint64_t bytes =
          pct(80) ? pick_bytes - (pick_bytes > 0 && pct(30) ? rng() % pick_bytes : 0) : random_bytes();
      t = net.layer(bytes, reads, pick);
    } else {
      t = net.layer(random_bytes(), reads);
    }
    made.push_back(t);
  }
  net.output(made.back());
  for (int extra = static_cast<int>(rng() % 3); extra > 0; --extra) net.output(made[rng() % made.size()]);
  return net;
}

namespace {

std::vector<int> view_roots(const std::vector<PlanTensor>& tensors) {
  std::vector<int> root(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i)
    root[i] = tensors[i].alias_of < 0 ? static_cast<int>(i) : root[tensors[i].alias_of];
  return root;
}

// True when tensor t's view class was written in place, at step s, over tensor o's view class.
bool handed_over(const std::vector<PlanTensor>& tensors, const std::vector<int>& root, const MemoryPlan& plan, int t,
                 int o, int s) {
  const int rt = root[t];
  return plan.in_place_taken[rt] && tensors[rt].first_step == s && root[tensors[rt].in_place_of] == root[o];
}

}  // namespace

bool ranges_overlap(const MemoryPlan& plan, const std::vector<PlanTensor>& tensors, int a, int b) {
  return plan.offsets[a] < plan.offsets[b] + tensors[b].bytes && plan.offsets[b] < plan.offsets[a] + tensors[a].bytes;
}

std::string independent_check(const std::vector<PlanTensor>& tensors, int num_steps, std::uint64_t alignment,
                              const MemoryPlan& plan) {
  const int n = static_cast<int>(tensors.size());
  if (plan.offsets.size() != tensors.size() || plan.in_place_taken.size() != tensors.size())
    return "plan vectors have the wrong length";
  std::string problems;
  auto problem = [&](const std::string& p) {
    if (problems.size() < 2000) problems += p + "\n";
  };
  const std::vector<int> root = view_roots(tensors);
  std::uint64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    if (tensors[i].alias_of < 0) sum += align_up(tensors[i].bytes, alignment);
    if (plan.offsets[i] % alignment != 0) problem("tensor " + std::to_string(i) + " offset not aligned");
    if (tensors[i].bytes > 0 && plan.offsets[i] + tensors[i].bytes > plan.arena_bytes)
      problem("tensor " + std::to_string(i) + " beyond the arena");
    if (plan.in_place_taken[i] && tensors[i].in_place_of < 0) problem("in place taken without in_place_of");
  }
  if (plan.sum_bytes != sum) problem("sum_bytes " + std::to_string(plan.sum_bytes) + " != " + std::to_string(sum));
  if (plan.arena_bytes % alignment != 0) problem("arena not aligned");
  if (plan.arena_bytes < plan.peak_live_bytes || plan.arena_bytes > plan.sum_bytes) problem("arena out of bounds");
  if (plan.peak_live_bytes < independent_lower_bound(tensors, num_steps, alignment, plan))
    problem("peak_live_bytes below the independent lower bound");
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) {
      const int lo = std::max(tensors[a].first_step, tensors[b].first_step);
      const int hi = std::min(tensors[a].last_step, tensors[b].last_step);
      if (lo > hi || tensors[a].bytes == 0 || tensors[b].bytes == 0 || !ranges_overlap(plan, tensors, a, b)) continue;
      if (root[a] == root[b]) continue;
      if (lo == hi && (handed_over(tensors, root, plan, a, b, lo) || handed_over(tensors, root, plan, b, a, lo)))
        continue;
      problem("tensors " + std::to_string(a) + " and " + std::to_string(b) + " overlap while alive at steps " +
              std::to_string(lo) + ".." + std::to_string(hi));
    }
  }
  return problems;
}

std::uint64_t independent_lower_bound(const std::vector<PlanTensor>& tensors, int num_steps, std::uint64_t alignment,
                                      const MemoryPlan& plan) {
  const int n = static_cast<int>(tensors.size());
  std::vector<int> group(n);
  std::iota(group.begin(), group.end(), 0);
  auto find = [&](int x) {
    while (group[x] != x) x = group[x];
    return x;
  };
  for (int i = 0; i < n; ++i) {
    if (tensors[i].alias_of >= 0) group[find(i)] = find(tensors[i].alias_of);
    if (plan.in_place_taken[i]) group[find(i)] = find(tensors[i].in_place_of);
  }
  std::uint64_t best = 0;
  for (int s = -1; s <= num_steps; ++s) {
    std::vector<std::uint64_t> alive(n, 0);  // per group: its largest member alive at s
    for (int i = 0; i < n; ++i)
      if (tensors[i].first_step <= s && s <= tensors[i].last_step)
        alive[find(i)] = std::max(alive[find(i)], align_up(tensors[i].bytes, alignment));
    best = std::max(best, std::accumulate(alive.begin(), alive.end(), std::uint64_t{0}));
  }
  return best;
}

}  // namespace kiln::testing
