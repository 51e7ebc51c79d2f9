// FastDivmod (engine/gpu/fast_divmod.h) against plain division on the host, where it runs the same
// arithmetic as on the device: every divisor up to 4096, powers of two and their neighbours up to
// 2^31, each at the dividends where rounding could go wrong (multiples of the divisor and their
// neighbours) and at random ones below 2^31.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "engine/gpu/fast_divmod.h"

namespace kiln::gpu::test {
namespace {

void expect_exact(std::uint32_t d, std::mt19937& rng) {
  const FastDivmod f(d);
  std::vector<std::uint32_t> dividends = {0, 1, 2, d - 1, d, d + 1, 0x7fffffffu, 0x7ffffffeu};
  for (std::uint32_t k : {1u, 2u, 3u, 1000u, 0x7fffffffu / d}) {
    const std::uint64_t m = std::uint64_t{k} * d;
    for (std::int64_t delta = -1; delta <= 1; ++delta)
      if (m + delta < 0x80000000u) dividends.push_back(static_cast<std::uint32_t>(m + delta));
  }
  std::uniform_int_distribution<std::uint32_t> any(0, 0x7fffffffu);
  for (int i = 0; i < 64; ++i) dividends.push_back(any(rng));
  for (std::uint32_t n : dividends) {
    if (n >= 0x80000000u) continue;
    std::uint32_t q = 0, r = 0;
    f.divmod(n, q, r);
    ASSERT_EQ(q, n / d) << n << " / " << d;
    ASSERT_EQ(r, n % d) << n << " % " << d;
  }
}

TEST(FastDivmod, ExactForEveryDivisorUpTo4096) {
  std::mt19937 rng(7);
  for (std::uint32_t d = 1; d <= 4096; ++d) expect_exact(d, rng);
}

TEST(FastDivmod, ExactAroundPowersOfTwoUpTo2To31) {
  std::mt19937 rng(11);
  for (int s = 1; s <= 31; ++s) {
    const std::uint32_t p = std::uint32_t{1} << s;
    for (std::uint32_t d : {p - 1, p, p + 1, p / 3 + 1})
      if (d >= 1 && d <= 0x80000000u) expect_exact(d, rng);
  }
  std::uniform_int_distribution<std::uint32_t> any(2, 0x7fffffffu);
  for (int i = 0; i < 2000; ++i) expect_exact(any(rng), rng);
}

}  // namespace
}  // namespace kiln::gpu::test
