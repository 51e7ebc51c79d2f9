// Inconsistent input is a kiln::UsageError whose message names the tensor, the field and what was
// expected and found.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "base/errors.h"
#include "engine/planner.h"
#include "planner_testing.h"

namespace kiln::testing {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::string usage_error(const std::vector<PlanTensor>& tensors, int steps, std::uint64_t alignment = 256) {
  try {
    plan_memory(tensors, steps, alignment);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

// A valid three-step chain of four tensors that each case breaks in one place.
std::vector<PlanTensor> base() { return chain({100, 200, 300, 400}); }

TEST(PlannerErrors, AlignmentAndStepCount) {
  EXPECT_NE(usage_error(base(), 3, 0).find("alignment must be a power of two, found 0"), std::string::npos);
  EXPECT_NE(usage_error(base(), 3, 48).find("alignment must be a power of two, found 48"), std::string::npos);
  EXPECT_NE(usage_error({}, -1).find("num_steps must be >= 0, found -1"), std::string::npos);
}

TEST(PlannerErrors, Lifetimes) {
  auto t = base();
  t[1].first_step = -2;
  EXPECT_NE(usage_error(t, 3).find("tensor 1 first_step: expected -1..2 (num_steps is 3), found -2"),
            std::string::npos);
  t = base();
  t[2].first_step = 3;
  t[2].last_step = 3;
  EXPECT_NE(usage_error(t, 3).find("tensor 2 first_step: expected -1..2 (num_steps is 3), found 3"), std::string::npos);
  t = base();
  t[2].last_step = 0;
  EXPECT_NE(usage_error(t, 3).find("tensor 2 last_step: expected first_step..num_steps = 1..3, found 0"),
            std::string::npos);
  t = base();
  t[3].last_step = 4;
  EXPECT_NE(usage_error(t, 3).find("tensor 3 last_step: expected first_step..num_steps = 2..3, found 4"),
            std::string::npos);
}

TEST(PlannerErrors, Views) {
  auto t = base();
  t[1].alias_of = 1;
  EXPECT_NE(usage_error(t, 3).find("tensor 1 alias_of: expected -1 or an earlier tensor's index (below 1), found 1"),
            std::string::npos);
  t = base();
  t[2].alias_of = -7;
  EXPECT_NE(usage_error(t, 3).find("tensor 2 alias_of: expected -1 or an earlier tensor's index (below 2), found -7"),
            std::string::npos);
  t = base();
  t[2].alias_of = 1;  // 200 bytes cannot hold a 300-byte view
  EXPECT_NE(usage_error(t, 3).find("tensor 2 alias_of: tensor 1 has 200 bytes, fewer than the view's 300"),
            std::string::npos);
  t = base();
  t[0].first_step = 1;  // a view at step 0 of a tensor written at step 1
  t[0].last_step = 2;
  t[1].alias_of = 0;
  t[1].bytes = 50;
  EXPECT_NE(usage_error(t, 3).find("tensor 1 alias_of: tensor 0 is written at step 1, after its view (step 0)"),
            std::string::npos);
  t = base();
  t[1].alias_of = 0;
  t[1].bytes = 50;
  t[1].in_place_of = 0;
  EXPECT_NE(usage_error(t, 3).find("tensor 1 in_place_of: a view (alias_of 0) cannot also be written in place"),
            std::string::npos);
}

TEST(PlannerErrors, InPlace) {
  auto t = base();
  t[2].in_place_of = 9;
  EXPECT_NE(usage_error(t, 3).find("tensor 2 in_place_of: expected -1 or another tensor's index (0..4 exclusive), "
                                   "found 9"),
            std::string::npos);
  t = base();
  t[2].in_place_of = 2;
  EXPECT_NE(usage_error(t, 3).find("tensor 2 in_place_of: expected -1 or another tensor's index"), std::string::npos);
  t = base();
  t[1].in_place_of = 2;  // tensor 2 is written after tensor 1
  EXPECT_NE(usage_error(t, 3).find("tensor 1 in_place_of: tensor 2 is written at step 1, not before this "
                                   "tensor's writer (step 0)"),
            std::string::npos);
  t = base();
  t[3].in_place_of = 0;  // tensor 0 died at step 0; step 2 cannot read it
  EXPECT_NE(usage_error(t, 3).find("tensor 3 in_place_of: tensor 0 is last read at step 0, so this tensor's writer "
                                   "(step 2) cannot read it"),
            std::string::npos);
}

TEST(PlannerErrors, ByteCountsThatOverflow) {
  auto t = base();
  t[3].bytes = kMax - 10;
  EXPECT_NE(usage_error(t, 3).find("tensor 3 bytes: 18446744073709551605 overflows 64 bits when rounded up to the "
                                   "alignment 256"),
            std::string::npos);
  t = base();
  t[1].bytes = kMax / 2;
  t[2].bytes = kMax / 2;
  EXPECT_NE(usage_error(t, 3).find("tensor 2 bytes: the total of all tensors' bytes overflows 64 bits"),
            std::string::npos);
  t[1].alias_of = -1;  // the same sizes are fine with alignment 1 as long as the sum fits
  t[2].bytes = kMax / 2 - 1000;
  EXPECT_EQ(usage_error(t, 3, 1), "(no UsageError)");
}

TEST(PlannerErrors, UsageErrorIsAKilnError) {
  auto t = base();
  t[0].last_step = 7;
  EXPECT_THROW(plan_memory(t, 3), UsageError);
  EXPECT_THROW(plan_memory(t, 3), Error);
}

}  // namespace
}  // namespace kiln::testing
