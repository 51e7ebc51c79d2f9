// Fault injection on the CPU side (base/fault_injection.h): every file read and every host allocation
// sized from a file, failed one at a time during a load and a run, surfaces as a typed error saying
// what failed, leaks nothing (CI runs this under AddressSanitizer's leak check) and leaves kiln able to
// load and run the same model correctly right after.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "base/errors.h"
#include "base/fault_injection.h"
#include "engine/cpu_executor.h"
#include "engine/model_dir.h"
#include "tests/common/test_model.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

struct Disarm {
  ~Disarm() { disarm_faults(); }
};

test::TestModel small_model() {
  return test::TestModel({{"x", {2, 3, 6, 6}}},
                         {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 4, kernel_size: 3}, "
                          "weights: {weight: w, bias: b}}",
                          "{name: r, op: relu, inputs: [c]}"},
                         {"r"}, {{"w", {4, 3, 3, 3}}, {"b", {4}}});
}

// Loads the model and runs it once; the whole path a fault can hit.
RunResult load_and_run(const std::string& dir, const std::vector<HostTensor>& inputs) {
  const LoadedModel m = load_model(dir);
  const CpuExecutor exec(m.graph, m.weights);
  return exec.run(inputs, 2);
}

// How many operations of `site` one load-and-run passes.
std::uint64_t sites_of(FaultSite site, const std::string& dir, const std::vector<HostTensor>& inputs) {
  arm_fault(site, UINT64_MAX);
  load_and_run(dir, inputs);
  const std::uint64_t n = fault_site_count(site);
  disarm_faults();
  return n;
}

void expect_every_fault_is_typed_and_recovered(FaultSite site, const char* what) {
  const Disarm disarm;
  const test::TestModel model = small_model();
  const LoadedModel m = load_model(model.dir());
  const std::vector<HostTensor> inputs = test::random_inputs(m.graph, 2, 3);
  const RunResult reference = load_and_run(model.dir(), inputs);
  const std::uint64_t sites = sites_of(site, model.dir(), inputs);
  ASSERT_GE(sites, 2u) << what << ": the model, manifest and blob are all read";
  for (std::uint64_t n = 1; n <= sites; ++n) {
    arm_fault(site, n);
    try {
      load_and_run(model.dir(), inputs);
      ADD_FAILURE() << what << " " << n << " of " << sites << ": no error";
    } catch (const FormatError& e) {
      EXPECT_THAT(e.what(), HasSubstr("injected fault")) << what << " " << n;
    }
    disarm_faults();
    const RunResult again = load_and_run(model.dir(), inputs);
    ASSERT_EQ(again.outputs.size(), 1u);
    EXPECT_EQ(std::memcmp(again.outputs[0].data.data(), reference.outputs[0].data.data(),
                          reference.outputs[0].data.size() * sizeof(float)),
              0)
        << "after " << what << " " << n;
  }
}

TEST(Faults, EveryFileReadFailureIsATypedErrorAndTheNextLoadWorks) {
  expect_every_fault_is_typed_and_recovered(FaultSite::FileRead, "file read");
}

TEST(Faults, EveryHostAllocationFailureIsATypedErrorAndTheNextRunWorks) {
  expect_every_fault_is_typed_and_recovered(FaultSite::HostAllocation, "host allocation");
}

TEST(Faults, DisarmedSitesNeverFail) {
  const Disarm disarm;
  EXPECT_FALSE(inject_fault(FaultSite::FileRead));
  arm_fault(FaultSite::FileRead, 2);
  EXPECT_FALSE(inject_fault(FaultSite::FileRead));
  EXPECT_TRUE(inject_fault(FaultSite::FileRead));
  EXPECT_FALSE(inject_fault(FaultSite::FileRead)) << "fires once";
  EXPECT_FALSE(inject_fault(FaultSite::HostAllocation)) << "other sites are not armed";
}

}  // namespace
}  // namespace kiln
