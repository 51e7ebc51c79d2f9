// The plan cache's store (formats/plan_cache.h): round trips, and every way an entry can be stale,
// foreign or damaged, each of which must be a rejection (then a rebuild) and never a wrong payload.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "formats/plan_cache.h"
#include "test_util.h"

namespace kiln {
namespace {

using test::read_all;
using test::TempDir;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

const std::string kKey = "plan|NVIDIA H200|sm=132|cc=9.0|cudnn=91400|conv k=3x3 x=32x16x512x512";

TEST(PlanCache, RoundTripsThroughTheFileAcrossInstances) {
  TempDir dir;
  const std::string payload = random_bytes(100000, 1);  // binary, with zeros and newlines
  {
    PlanCache cache(dir.str() + "/nested/plans");
    EXPECT_FALSE(cache.get(kKey));
    cache.put(kKey, payload);
    EXPECT_EQ(cache.stats().misses, 1);
    EXPECT_EQ(cache.stats().written, 1);
  }
  PlanCache cache(dir.str() + "/nested/plans");
  const auto got = cache.get(kKey);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, payload);
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().misses, 0);
  EXPECT_TRUE(std::filesystem::exists(cache.entry_path(kKey)));
  EXPECT_EQ(cache.entry_path(kKey).substr(cache.entry_path(kKey).size() - 4), ".kpc");
}

TEST(PlanCache, MemoryOnlyCacheServesIdenticalLayersOfOneLoad) {
  PlanCache cache("");
  EXPECT_FALSE(cache.get(kKey));
  cache.put(kKey, "eng12_k2=3");
  EXPECT_EQ(cache.get(kKey).value_or(""), "eng12_k2=3");
  EXPECT_EQ(cache.get(kKey + "x"), std::nullopt);
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().misses, 2);
  EXPECT_EQ(cache.stats().written, 0);
  EXPECT_EQ(cache.entry_path(kKey), "");
}

// Each damaged form of a valid entry: rejected with a reason, and a put() afterwards repairs it.
TEST(PlanCache, DamagedEntriesAreRejectedAndRebuilt) {
  const std::string payload = random_bytes(5000, 2);
  const std::string good = encode_plan_entry(kKey, payload);
  std::string flipped = good;
  flipped[flipped.size() - 100] ^= 0x10;
  std::string wrong_crc = good;
  const std::size_t crc_at = good.find('\n', 18) - 8;
  wrong_crc[crc_at] = wrong_crc[crc_at] == '0' ? '1' : '0';
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"truncated", good.substr(0, good.size() - 1)},
      {"extended", good + "x"},
      {"bit flip in the payload", flipped},
      {"CRC changed", wrong_crc},
      {"empty file", ""},
      {"older format", "kiln-plan-cache 0\n" + good.substr(18)},
      {"huge sizes", "kiln-plan-cache 1\n99999999999999999 1 00000000\n"},
      {"negative size", "kiln-plan-cache 1\n-1 5 00000000\nabcd"},
      {"no size line", "kiln-plan-cache 1\n" + std::string(200, '7')},
      {"text instead", "{\"engine\": 12}"},
  };
  for (const auto& [what, bytes] : damaged) {
    SCOPED_TRACE(what);
    TempDir dir;
    PlanCache cache(dir.str());
    dir.write(std::filesystem::path(cache.entry_path(kKey)).filename().string(), bytes);
    EXPECT_FALSE(cache.get(kKey));
    EXPECT_EQ(cache.stats().rejected, 1);
    EXPECT_EQ(cache.stats().misses, 0);
    EXPECT_NE(cache.first_problem().find(cache.entry_path(kKey)), std::string::npos) << cache.first_problem();
    cache.put(kKey, payload);
    PlanCache fresh(dir.str());
    EXPECT_EQ(fresh.get(kKey).value_or(""), payload);
  }
}

TEST(PlanCache, DecodeNamesTheProblem) {
  std::string why;
  EXPECT_FALSE(decode_plan_entry(encode_plan_entry("a", "b"), "c", &why));
  EXPECT_NE(why.find("another key"), std::string::npos) << why;
  EXPECT_FALSE(decode_plan_entry("kiln-plan-cache 1\n1 1 zzzzzzzz\nab", "a", &why));
  EXPECT_NE(why.find("size line"), std::string::npos) << why;
  EXPECT_FALSE(decode_plan_entry("nonsense", "a", &why));
  EXPECT_NE(why.find("not a kiln plan cache entry"), std::string::npos) << why;
  EXPECT_EQ(decode_plan_entry(encode_plan_entry("a", ""), "a", &why).value_or("x"), "");
}

// Another key's entry in this key's file (a hash collision, or a file copied from another machine under
// the same name) is never taken for this key's.
TEST(PlanCache, AnotherKeysEntryIsForeign) {
  TempDir dir;
  PlanCache cache(dir.str());
  const std::string other = "plan|NVIDIA H100|sm=132|cc=9.0|cudnn=91900|conv k=3x3 x=32x16x512x512";
  dir.write(std::filesystem::path(cache.entry_path(kKey)).filename().string(), encode_plan_entry(other, "eng1"));
  EXPECT_FALSE(cache.get(kKey));
  EXPECT_EQ(cache.stats().rejected, 1);
  EXPECT_NE(cache.first_problem().find("another key"), std::string::npos) << cache.first_problem();
}

TEST(PlanCache, OversizedFileIsRejectedUnread) {
  TempDir dir;
  PlanCache cache(dir.str());
  const std::string path = cache.entry_path(kKey);
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(::ftruncate(::fileno(f), static_cast<off_t>(PlanCache::kMaxEntryBytes + 1)), 0);  // sparse
    std::fclose(f);
  }
  EXPECT_FALSE(cache.get(kKey));
  EXPECT_EQ(cache.stats().rejected, 1);
  EXPECT_NE(cache.first_problem().find("more than the"), std::string::npos) << cache.first_problem();
}

TEST(PlanCache, DirectoryOrPipeInPlaceOfAnEntryIsRejectedWithoutBlocking) {
  TempDir dir;
  PlanCache cache(dir.str());
  std::filesystem::create_directories(cache.entry_path(kKey));
  EXPECT_FALSE(cache.get(kKey));
  EXPECT_EQ(cache.stats().rejected, 1);
  std::filesystem::remove(cache.entry_path(kKey));
  ASSERT_EQ(::mkfifo(cache.entry_path(kKey).c_str(), 0600), 0);
  EXPECT_FALSE(cache.get(kKey));  // returns: the open is non-blocking and the type checked
  EXPECT_EQ(cache.stats().rejected, 2);
}

TEST(PlanCache, RejectForgetsThePayloadAndCountsIt) {
  TempDir dir;
  PlanCache writer(dir.str());
  writer.put(kKey, "eng99");
  PlanCache cache(dir.str());
  ASSERT_TRUE(cache.get(kKey));
  cache.reject(kKey, "cuDNN refused the plan");
  EXPECT_EQ(cache.stats().hits, 0);
  EXPECT_EQ(cache.stats().rejected, 1);
  EXPECT_NE(cache.first_problem().find("cuDNN refused the plan"), std::string::npos);
  cache.put(kKey, "eng12");
  EXPECT_EQ(PlanCache(dir.str()).get(kKey).value_or(""), "eng12");
}

TEST(PlanCache, UnwritableDirectoryCostsOnlyTheFile) {
  TempDir dir;
  const std::string blocker = dir.write("not_a_dir", "x");  // a file where the directory should be
  PlanCache cache(blocker + "/plans");
  cache.put(kKey, "eng12");
  EXPECT_EQ(cache.stats().written, 0);
  EXPECT_EQ(cache.stats().write_failures, 1);
  EXPECT_NE(cache.first_problem().find("cannot create the plan cache directory"), std::string::npos)
      << cache.first_problem();
  EXPECT_EQ(cache.get(kKey).value_or(""), "eng12");  // the memory copy still serves this load
}

// A writer killed before its rename leaves its temporary file: the next cache to write there removes
// those older than kStaleTemporarySeconds, and nothing else (a live writer's, an entry, a user's file).
TEST(PlanCache, FirstWriteRemovesDeadWritersTemporaries) {
  namespace fs = std::filesystem;
  TempDir dir;
  const std::string dead = dir.write("0123456789abcdef.kpc.tmp.Ab3xQz", "half an entry");
  const std::string live = dir.write("fedcba9876543210.kpc.tmp.Zz9yYw", "being written");
  const std::string old_entry = dir.write("00000000000000aa.kpc", "an entry, however old");
  const std::string other = dir.write("notes.kpc.tmp.Ab3xQz", "not mkstemp's form");
  const auto long_ago = fs::file_time_type::clock::now() -
                        std::chrono::seconds(PlanCache::kStaleTemporarySeconds + 60);
  for (const std::string& f : {dead, old_entry, other}) fs::last_write_time(f, long_ago);

  PlanCache cache(dir.str());
  EXPECT_TRUE(fs::exists(dead)) << "nothing is swept before a write";
  cache.put(kKey, "eng12");
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(old_entry));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_EQ(PlanCache(dir.str()).get(kKey).value_or(""), "eng12");
}

// Threads writing different payloads for one key while others read: every read is a miss or one of the
// payloads, whole; the file ends up one of them; no temporary file is left behind.
TEST(PlanCache, ConcurrentWritersNeverCorruptAnEntry) {
  TempDir dir;
  std::vector<std::string> payloads;
  for (unsigned i = 0; i < 8; ++i) payloads.push_back(random_bytes(20000 + i * 1000, 10 + i));
  const std::set<std::string> valid(payloads.begin(), payloads.end());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      PlanCache writer(dir.str());
      for (int i = 0; i < 20; ++i) writer.put(kKey, payloads[(t + static_cast<unsigned>(i)) % payloads.size()]);
    });
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        PlanCache reader(dir.str());  // a fresh instance: every get reads the file
        const auto got = reader.get(kKey);
        if (reader.stats().rejected != 0 || (got && !valid.count(*got))) ++bad;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  PlanCache after(dir.str());
  const auto final_payload = after.get(kKey);
  ASSERT_TRUE(final_payload);
  EXPECT_TRUE(valid.count(*final_payload));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.str())) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".kpc") << e.path();
  }
  EXPECT_EQ(files, 1);
}

TEST(PlanCache, DefaultDirectoryFollowsTheEnvironment) {
  const char* saved_kiln = std::getenv("KILN_PLAN_CACHE");
  const char* saved_xdg = std::getenv("XDG_CACHE_HOME");
  const std::string kiln_value = saved_kiln ? saved_kiln : "";
  const std::string xdg_value = saved_xdg ? saved_xdg : "";
  ::setenv("KILN_PLAN_CACHE", "/srv/kiln-plans", 1);
  EXPECT_EQ(PlanCache::default_directory(), "/srv/kiln-plans");
  ::setenv("KILN_PLAN_CACHE", "off", 1);
  EXPECT_EQ(PlanCache::default_directory(), "");
  ::unsetenv("KILN_PLAN_CACHE");
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(PlanCache::default_directory(), "/tmp/xdg/kiln/plans");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", ::getenv("HOME") ? ::getenv("HOME") : "/root", 1);
  EXPECT_EQ(PlanCache::default_directory(), std::string(::getenv("HOME")) + "/.cache/kiln/plans");
  if (saved_kiln) ::setenv("KILN_PLAN_CACHE", kiln_value.c_str(), 1);
  if (saved_xdg) ::setenv("XDG_CACHE_HOME", xdg_value.c_str(), 1);
}

}  // namespace
}  // namespace kiln
