#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "formats/manifest.h"

namespace kiln {
namespace {

std::uint32_t crc_of(const std::string& s) { return crc32_update(0, s.data(), s.size()); }

// Bit-at-a-time CRC-32 straight from the definition, as the reference for the table-driven one.
std::uint32_t reference_crc(const std::uint8_t* p, std::size_t n) {
  std::uint32_t c = 0xffffffffu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

TEST(Crc32, KnownVectors) {
  // Values from zlib.crc32.
  EXPECT_EQ(crc_of(""), 0x00000000u);
  EXPECT_EQ(crc_of("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc_of("a"), 0xE8B7BE43u);
  EXPECT_EQ(crc_of("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  EXPECT_EQ(crc_of(std::string(1, '\0')), 0xD202EF8Du);
  EXPECT_EQ(crc_of(std::string(32, '\0')), 0x190A55ADu);
  EXPECT_EQ(crc_of(std::string(32, '\xff')), 0xFF6CAB0Bu);
}

TEST(Crc32, MatchesBitwiseReferenceOnRandomData) {
  std::mt19937 rng(1234);
  std::vector<std::uint8_t> data(4099);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 63u, 64u, 1000u, 4099u}) {
    for (std::size_t start : {0u, 1u, 3u}) {  // unaligned starts too
      if (start + n > data.size()) continue;
      EXPECT_EQ(crc32_update(0, data.data() + start, n), reference_crc(data.data() + start, n))
          << "n=" << n << " start=" << start;
    }
  }
}

TEST(Crc32, IncrementalEqualsOneShot) {
  std::mt19937 rng(99);
  std::vector<std::uint8_t> data(10000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  const std::uint32_t whole = crc32_update(0, data.data(), data.size());
  for (std::size_t split : {0u, 1u, 5u, 8u, 333u, 9999u, 10000u}) {
    const std::uint32_t a = crc32_update(0, data.data(), split);
    EXPECT_EQ(crc32_update(a, data.data() + split, data.size() - split), whole) << "split=" << split;
  }
  std::uint32_t c = 0;
  for (std::size_t i = 0; i < data.size(); i += 7)
    c = crc32_update(c, data.data() + i, std::min<std::size_t>(7, data.size() - i));
  EXPECT_EQ(c, whole);
}

}  // namespace
}  // namespace kiln
