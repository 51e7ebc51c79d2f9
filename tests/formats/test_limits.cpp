// Files that claim enormous sizes must be rejected fast and without allocating what they claim.
// This executable replaces the global operator new to record the largest single allocation made
// while a check is armed, so "no huge allocation" is asserted, not assumed.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "formats/manifest.h"
#include "formats/model_spec.h"
#include "manifest_text.h"
#include "test_util.h"

namespace {
std::atomic<bool> g_armed{false};
std::atomic<std::size_t> g_largest{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_armed.load(std::memory_order_relaxed)) {
    std::size_t seen = g_largest.load(std::memory_order_relaxed);
    while (n > seen && !g_largest.compare_exchange_weak(seen, n)) {
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace kiln {
namespace {
using test::error_of;
using test::ManifestText;
using test::TempDir;
using testing::HasSubstr;

constexpr std::size_t kSmall = 1 << 20;  // far below any claimed size, far above the messages

// Runs `f` (which must throw FormatError) with allocation tracking armed; returns the message and the
// largest allocation and duration seen.
struct Outcome {
  std::string message;
  std::size_t largest_allocation;
  double seconds;
};
template <class F>
Outcome measure(F&& f) {
  g_largest = 0;
  const auto start = std::chrono::steady_clock::now();
  g_armed = true;
  std::string message = error_of(f);
  g_armed = false;
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return {message, g_largest.load(), took.count()};
}

TEST(Limits, TrackerSeesAllocations) {
  g_largest = 0;
  g_armed = true;
  auto* p = new std::vector<char>(5000);
  g_armed = false;
  EXPECT_GE(g_largest.load(), 5000u);
  delete p;
}

TEST(Limits, HugeTensorCountFailsFastWithoutReserving) {
  ManifestText t;
  t.count = "tensors 1000000";
  const std::string text = t.str();
  const Outcome o = measure([&] { parse_manifest(text, "w.manifest"); });
  EXPECT_THAT(o.message, HasSubstr("w.manifest: expected 1000000 tensor lines (tensors 1000000 on line 6), found 2"));
  EXPECT_LT(o.largest_allocation, std::size_t{64} << 10);
  EXPECT_LT(o.seconds, 1.0);
}

TEST(Limits, CountOf2To63IsRejectedBeforeAnyLoop) {
  ManifestText t;
  t.count = "tensors 9223372036854775808";
  const Outcome o = measure([&] { parse_manifest(t.str(), "w.manifest"); });
  EXPECT_THAT(o.message, HasSubstr("w.manifest:6: tensors: expected at most 1000000, found 9223372036854775808"));
  EXPECT_LT(o.seconds, 1.0);
}

TEST(Limits, BlobClaimingExabytesIsNotAllocated) {
  // A consistent manifest describing a 2^62-byte tensor, next to a 16-byte blob file.
  TempDir dir;
  ManifestText t;
  t.blob_size = "blob-size 4611686018427387904";
  t.count = "tensors 1";
  t.tensors = {"huge f32 0 4611686018427387904 [1099511627776,1048576]"};
  const std::string manifest = dir.write("w.manifest", t.str());
  dir.write("weights.bin", std::string(16, '\0'));
  const Outcome o = measure([&] { read_tensor_file(manifest); });
  EXPECT_THAT(o.message, HasSubstr(dir.file("weights.bin") +
                                   ": blob is 16 bytes, expected the blob-size "
                                   "4611686018427387904 from " +
                                   manifest));
  EXPECT_LT(o.largest_allocation, kSmall);
}

TEST(Limits, OversizedManifestIsNotRead) {
  TempDir dir;
  const std::string path = dir.write("w.manifest", "kiln-manifest 1\n");
  std::filesystem::resize_file(path, (std::uint64_t{256} << 20) + 1);  // sparse: costs no disk
  const Outcome o = measure([&] { read_manifest(path); });
  EXPECT_THAT(o.message, HasSubstr(path + ": manifest is 268435457 bytes, expected at most 268435456 (256 MiB)"));
  EXPECT_LT(o.largest_allocation, kSmall);
}

TEST(Limits, OversizedModelIsNotRead) {
  TempDir dir;
  const std::string path = dir.write("model.yaml", "format: kiln-model\n");
  std::filesystem::resize_file(path, (std::uint64_t{64} << 20) + 1);
  const Outcome o = measure([&] { read_model(path); });
  EXPECT_THAT(o.message, HasSubstr(path + ": model is 67108865 bytes, expected at most 67108864 (64 MiB)"));
  EXPECT_LT(o.largest_allocation, kSmall);
}

}  // namespace
}  // namespace kiln
