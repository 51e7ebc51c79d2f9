#include "base/memory_limit.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "base/errors.h"
#include "base/fault_injection.h"

namespace kiln {

namespace {

std::uint64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return UINT64_MAX;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

std::uint64_t default_limit() {
  if (const char* env = std::getenv("KILN_HOST_MEMORY_LIMIT_MB")) {
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0' && mb > 0 && mb < (1ull << 44)) return mb << 20;
    std::fprintf(stderr, "kiln: KILN_HOST_MEMORY_LIMIT_MB='%.32s' is not a size in MiB; using physical memory\n", env);
  }
  return physical_memory();
}

std::atomic<std::uint64_t>& limit() {
  static std::atomic<std::uint64_t> value{default_limit()};
  return value;
}

std::string gib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1u << 30));
  return buf;
}

}  // namespace

std::uint64_t host_memory_limit() { return limit().load(); }

void set_host_memory_limit(std::uint64_t bytes) { limit().store(bytes == 0 ? default_limit() : bytes); }

void check_host_allocation(const std::string& where, const std::string& what, std::uint64_t bytes) {
  if (inject_fault(FaultSite::HostAllocation)) {
    throw FormatError(where + ": " + what + ": allocating " + std::to_string(bytes) + " bytes failed (injected fault)");
  }
  const std::uint64_t cap = host_memory_limit();
  if (bytes <= cap) return;
  throw FormatError(where + ": " + what + " needs " + std::to_string(bytes) + " bytes (" + gib(bytes) +
                    "), above the host memory limit of " + std::to_string(cap) + " bytes (" + gib(cap) +
                    "; KILN_HOST_MEMORY_LIMIT_MB sets it)");
}

}  // namespace kiln
