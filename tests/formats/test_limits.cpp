// Files that claim enormous sizes must be rejected fast and without allocating what they claim.
// This executable replaces the global operator new to record the largest single allocation made
// while a check is armed, so "no huge allocation" is asserted, not assumed.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <new>

#include <sys/stat.h>

#include "base/memory_limit.h"
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
// These deletes free what the operator new above took from malloc; GCC 12 cannot see that through the
// replacement and warns (-Wmismatched-new-delete) when a caller inlines a new/delete pair.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

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

// A blob file that really is that large (sparse: it costs no disk) passes the size check against its
// manifest; the host memory limit refuses it before the buffer is allocated.
TEST(Limits, BlobBeyondTheHostMemoryLimitIsRefusedBeforeAllocating) {
  TempDir dir;
  ManifestText t;
  t.blob_size = "blob-size 68719476736";  // 64 GiB
  t.count = "tensors 1";
  t.tensors = {"huge f32 0 68719476736 [17179869184]"};
  const std::string manifest = dir.write("w.manifest", t.str());
  const std::string blob = dir.write("weights.bin", "");
  std::filesystem::resize_file(blob, std::uint64_t{64} << 30);
  set_host_memory_limit(std::uint64_t{1} << 30);
  const Outcome o = measure([&] { read_tensor_file(manifest); });
  set_host_memory_limit(0);
  EXPECT_THAT(o.message, HasSubstr(blob + ": the blob needs 68719476736 bytes (64.0 GiB), above the host memory "
                                          "limit of 1073741824 bytes (1.0 GiB; KILN_HOST_MEMORY_LIMIT_MB sets it)"));
  EXPECT_LT(o.largest_allocation, kSmall);
  EXPECT_EQ(host_memory_limit() > (std::uint64_t{1} << 30), true) << "0 restores the machine's memory";
}

// A named pipe nobody writes to would block an ordinary open forever: it is refused at once, for every
// kind of file kiln reads, and a directory is named as such.
TEST(Limits, NamedPipesAndDirectoriesAreRefusedWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(error_of([&] { read_manifest(fifo); }),
              HasSubstr(fifo + ": cannot read manifest: it is a named pipe, not a regular file"));
  EXPECT_THAT(error_of([&] { read_model(fifo); }),
              HasSubstr(fifo + ": cannot read model: it is a named pipe, not a regular file"));
  EXPECT_THAT(error_of([&] { read_model(dir.str()); }), HasSubstr("it is a directory, not a regular file"));
  // The blob a valid manifest names, as a pipe.
  ManifestText t;
  t.blob = "blob pipe";
  const std::string manifest = dir.write("w.manifest", t.str());
  EXPECT_THAT(error_of([&] { read_tensor_file(manifest); }),
              HasSubstr(fifo + ": cannot read the blob named in " + manifest + ": it is a named pipe"));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took.count(), 5.0);
}

}  // namespace
}  // namespace kiln
