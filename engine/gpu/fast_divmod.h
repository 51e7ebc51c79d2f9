// Division by a divisor fixed at launch, as GPU index arithmetic wants it: a multiply-high, an add and
// a shift instead of a 32-bit division routine (the Granlund-Montgomery method). Host and device code.
//
//   FastDivmod by_w(w);                 // on the host, once per launch
//   std::uint32_t q, r; by_w.divmod(i, q, r);   // in the kernel: q = i / w, r = i % w
//
// Contract: 1 <= divisor <= 2^31 and every dividend < 2^31 (callers take this path only when the
// whole index space fits in 31 bits). Exact for all of them (tests/gpu/fast_divmod_test.cpp).
#pragma once

#include <cstdint>

#include "engine/gpu/view.h"  // KILN_HOST_DEVICE

namespace kiln::gpu {

class FastDivmod {
 public:
  FastDivmod() = default;
  explicit FastDivmod(std::uint32_t divisor) : divisor_(divisor) {
    while (shift_ < 31 && (std::uint32_t{1} << shift_) < divisor) ++shift_;
    const std::uint64_t two32 = std::uint64_t{1} << 32;
    magic_ = static_cast<std::uint32_t>(two32 * ((std::uint64_t{1} << shift_) - divisor) / divisor + 1);
  }

  KILN_HOST_DEVICE std::uint32_t div(std::uint32_t n) const { return (mul_high(n, magic_) + n) >> shift_; }
  KILN_HOST_DEVICE void divmod(std::uint32_t n, std::uint32_t& q, std::uint32_t& r) const {
    q = div(n);
    r = n - q * divisor_;
  }
  KILN_HOST_DEVICE std::uint32_t divisor() const { return divisor_; }

 private:
  KILN_HOST_DEVICE static std::uint32_t mul_high(std::uint32_t a, std::uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __umulhi(a, b);
#else
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(a) * b) >> 32);
#endif
  }

  std::uint32_t divisor_ = 1;
  std::uint32_t magic_ = 1;
  std::uint32_t shift_ = 0;
};

}  // namespace kiln::gpu
