#include "base/fault_injection.h"

#include <atomic>

namespace kiln {

namespace {

constexpr int kSites = 4;

struct SiteState {
  std::atomic<std::uint64_t> target{0};  // 0: disarmed
  std::atomic<std::uint64_t> count{0};
};

std::atomic<bool> g_any_armed{false};

SiteState& state(FaultSite site) {
  static SiteState sites[kSites];
  return sites[static_cast<int>(site)];
}

}  // namespace

void arm_fault(FaultSite site, std::uint64_t nth) {
  SiteState& s = state(site);
  s.count.store(0);
  s.target.store(nth);
  g_any_armed.store(true);
}

void disarm_faults() {
  for (int i = 0; i < kSites; ++i) {
    state(static_cast<FaultSite>(i)).target.store(0);
    state(static_cast<FaultSite>(i)).count.store(0);
  }
  g_any_armed.store(false);
}

bool inject_fault(FaultSite site) noexcept {
  if (!g_any_armed.load(std::memory_order_relaxed)) return false;
  SiteState& s = state(site);
  const std::uint64_t n = s.count.fetch_add(1) + 1;
  const std::uint64_t target = s.target.load();
  if (target == 0 || n != target) return false;
  s.target.store(0);
  return true;
}

std::uint64_t fault_site_count(FaultSite site) noexcept { return state(site).count.load(); }

}  // namespace kiln
