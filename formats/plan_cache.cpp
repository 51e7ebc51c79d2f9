#include "formats/plan_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "base/errors.h"
#include "formats/file_io.h"
#include "formats/manifest.h"

namespace kiln {

namespace {

constexpr char kMagic[] = "kiln-plan-cache 1\n";
constexpr std::size_t kMagicBytes = sizeof(kMagic) - 1;
constexpr std::size_t kMaxSizeLine = 64;  // "<key bytes> <payload bytes> <crc32>\n"

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::uint32_t entry_crc(const std::string& key, const std::string& payload) {
  return crc32_update(crc32_update(0, key.data(), key.size()), payload.data(), payload.size());
}

// A decimal of at most 19 digits, nothing else; nullopt otherwise.
std::optional<std::uint64_t> parse_decimal(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::optional<std::uint32_t> parse_hex32(const std::string& s) {
  if (s.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  for (const char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
    else return std::nullopt;
  }
  return v;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::string encode_plan_entry(const std::string& key, const std::string& payload) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", entry_crc(key, payload));
  std::string out = kMagic;
  out += std::to_string(key.size()) + " " + std::to_string(payload.size()) + " " + crc + "\n";
  out += key;
  out += payload;
  return out;
}

std::optional<std::string> decode_plan_entry(const std::string& bytes, const std::string& key, std::string* problem) {
  const auto fail = [&](const std::string& why) -> std::optional<std::string> {
    if (problem) *problem = why;
    return std::nullopt;
  };
  if (bytes.compare(0, kMagicBytes, kMagic) != 0) return fail("not a kiln plan cache entry (or another format version)");
  const std::size_t eol = bytes.find('\n', kMagicBytes);
  if (eol == std::string::npos || eol - kMagicBytes > kMaxSizeLine) return fail("the size line is missing or too long");
  const std::string line = bytes.substr(kMagicBytes, eol - kMagicBytes);
  const std::size_t s1 = line.find(' ');
  const std::size_t s2 = s1 == std::string::npos ? s1 : line.find(' ', s1 + 1);
  if (s2 == std::string::npos) return fail("the size line is not '<key bytes> <payload bytes> <crc32>'");
  const auto key_bytes = parse_decimal(line.substr(0, s1));
  const auto payload_bytes = parse_decimal(line.substr(s1 + 1, s2 - s1 - 1));
  const auto crc = parse_hex32(line.substr(s2 + 1));
  if (!key_bytes || !payload_bytes || !crc) return fail("the size line is not '<key bytes> <payload bytes> <crc32>'");
  const std::uint64_t body = bytes.size() - eol - 1;
  if (*key_bytes > PlanCache::kMaxKeyBytes || *payload_bytes > PlanCache::kMaxEntryBytes ||
      *key_bytes + *payload_bytes != body) {
    return fail("sizes " + std::to_string(*key_bytes) + " + " + std::to_string(*payload_bytes) + " do not match the " +
                std::to_string(body) + " bytes after the header (truncated or damaged)");
  }
  if (bytes.compare(eol + 1, *key_bytes, key) != 0 || *key_bytes != key.size()) {
    return fail("written for another key (another GPU, library version or layer)");
  }
  std::string payload = bytes.substr(eol + 1 + *key_bytes);
  if (entry_crc(key, payload) != *crc) return fail("CRC-32 mismatch (damaged)");
  return payload;
}

PlanCache::PlanCache(std::string directory) : directory_(std::move(directory)) {}

std::string PlanCache::entry_path(const std::string& key) const {
  if (directory_.empty()) return {};
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.kpc", static_cast<unsigned long long>(fnv1a(key)));
  return (std::filesystem::path(directory_) / name).string();
}

std::optional<std::string> PlanCache::get(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = memory_.find(key);
    if (it != memory_.end()) {
      ++stats_.hits;
      return it->second;
    }
  }
  std::string problem;
  std::optional<std::string> payload = read_entry(key, &problem);
  std::lock_guard<std::mutex> lock(mutex_);
  if (payload) {
    ++stats_.hits;
    memory_[key] = *payload;
    return payload;
  }
  if (problem.empty()) {
    ++stats_.misses;
  } else {
    ++stats_.rejected;
    if (first_problem_.empty()) {
      const std::string path = entry_path(key);
      first_problem_ = problem.rfind(path, 0) == 0 ? problem : path + ": " + problem;
    }
  }
  return std::nullopt;
}

void PlanCache::put(const std::string& key, const std::string& payload) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    memory_[key] = payload;
  }
  if (directory_.empty()) return;
  bool sweep = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sweep = !swept_;
    swept_ = true;
  }
  if (sweep) remove_stale_temporaries();
  std::string problem;
  const bool ok = write_entry(key, payload, &problem);
  std::lock_guard<std::mutex> lock(mutex_);
  if (ok) {
    ++stats_.written;
  } else {
    ++stats_.write_failures;
    if (first_problem_.empty()) first_problem_ = problem;
  }
}

void PlanCache::reject(const std::string& key, const std::string& why) {
  std::lock_guard<std::mutex> lock(mutex_);
  memory_.erase(key);
  if (stats_.hits > 0) --stats_.hits;
  ++stats_.rejected;
  if (first_problem_.empty()) first_problem_ = (directory_.empty() ? std::string("memory") : entry_path(key)) + ": " + why;
}

PlanCacheStats PlanCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::string PlanCache::first_problem() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return first_problem_;
}

// Empty `problem` with nullopt: no entry (a miss). A non-empty one: an entry that was not used.
std::optional<std::string> PlanCache::read_entry(const std::string& key, std::string* problem) const {
  if (directory_.empty()) return std::nullopt;
  const std::string path = entry_path(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  try {
    fileio::InputFile f = fileio::open_for_reading(path, "plan cache entry");
    if (f.size > kMaxEntryBytes) {
      *problem = std::to_string(f.size) + " bytes, more than the " + std::to_string(kMaxEntryBytes) + " an entry may have";
      return std::nullopt;
    }
    std::string bytes(static_cast<std::size_t>(f.size), '\0');
    fileio::read_exact(f, bytes.data(), bytes.size());
    return decode_plan_entry(bytes, key, problem);
  } catch (const Error& e) {  // unreadable: treated as damaged, rebuilt and replaced
    *problem = e.what();
    return std::nullopt;
  }
}

bool PlanCache::write_entry(const std::string& key, const std::string& payload, std::string* problem) const {
  if (key.size() > kMaxKeyBytes || key.size() + payload.size() + 128 > kMaxEntryBytes) {
    *problem = entry_path(key) + ": not written: an entry of " + std::to_string(key.size() + payload.size()) +
               " bytes is over the cache's limit";
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) {
    *problem = directory_ + ": cannot create the plan cache directory: " + ec.message();
    return false;
  }
  const std::string path = entry_path(key);
  // mkstemp creates a file no other writer (thread, process or container sharing the directory) has.
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    *problem = tmp + ": cannot write a plan cache entry: " + fileio::errno_text(errno);
    return false;
  }
  const std::string bytes = encode_plan_entry(key, payload);
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    *problem = tmp + ": cannot write a plan cache entry: " + fileio::errno_text(errno);
    ::close(fd);
    std::filesystem::remove(tmp, ec);
    return false;
  }
  const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!wrote || !closed) {
    *problem = tmp + ": cannot write a plan cache entry: " + fileio::errno_text(errno);
    std::filesystem::remove(tmp, ec);
    return false;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    *problem = path + ": cannot replace the plan cache entry: " + ec.message();
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

// Best effort, like every write: a file that cannot be listed, dated or removed is left alone.
void PlanCache::remove_stale_temporaries() const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(directory_, ec);
  if (ec) return;
  const auto now = fs::file_time_type::clock::now();
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return;
    const std::string name = it->path().filename().string();
    if (name.size() != 16 + 4 + 5 + 6 || name.compare(16, 9, ".kpc.tmp.") != 0) continue;  // mkstemp's form only
    std::error_code e;
    if (!it->is_regular_file(e) || e) continue;
    const auto written = it->last_write_time(e);
    if (e) continue;
    if (now - written > std::chrono::seconds(kStaleTemporarySeconds)) fs::remove(it->path(), e);
  }
}

std::string PlanCache::default_directory() {
  if (const char* set = std::getenv("KILN_PLAN_CACHE")) {
    const std::string v = set;
    return v == "off" ? std::string() : v;
  }
  const std::string xdg = env_or_empty("XDG_CACHE_HOME");
  if (!xdg.empty()) return (std::filesystem::path(xdg) / "kiln" / "plans").string();
  const std::string home = env_or_empty("HOME");
  if (!home.empty()) return (std::filesystem::path(home) / ".cache" / "kiln" / "plans").string();
  return {};
}

}  // namespace kiln
