// Helpers for the GPU backend tests: skipping without a device, small model folders written from a
// few YAML lines with random weights, and GPU-vs-CPU-reference comparison.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/gpu/context.h"
#include "tests/common/test_model.h"
#include "engine/host_tensor.h"
#include "formats/dtype.h"

namespace kiln::gpu::test {

using kiln::test::random_inputs;
using kiln::test::TestModel;

// Empty when a CUDA device is visible, else "no CUDA device: <cudaGetErrorString>".
std::string no_device_reason();

// Skips the calling test (reported as skipped) with one line when there is no CUDA device.
#define KILN_REQUIRE_GPU()                                                 \
  do {                                                                     \
    const std::string kiln_why_ = ::kiln::gpu::test::no_device_reason();   \
    if (!kiln_why_.empty()) GTEST_SKIP() << kiln_why_;                     \
  } while (0)

// max |actual - expected| / max |expected| (the expected scale floored at 1e-6). Shapes must match.
double normalized_max_error(const HostTensor& actual, const HostTensor& expected);

// Runs the model on the CPU reference and on the GPU (same inputs) at each batch in `batches` and
// expects every output within `tol` (normalized_max_error). Returns the worst error seen.
double expect_matches_cpu(const std::string& model_dir, const GpuEngineOptions& options, std::int64_t max_batch,
                          const std::vector<std::int64_t>& batches, double tol);

// Runs `inputs` (one input tensor) through ctx.run_device at `batch` from device buffers and expects
// outputs bit-identical to `host` (ctx.run's result for the same inputs).
void expect_run_device_matches_run(ExecutionContext& ctx, const std::vector<HostTensor>& inputs,
                                   const RunResult& host, std::int64_t batch);

// Tolerances per precision.
constexpr double kFp32Tol = 1e-5;
constexpr double kTf32Tol = 1e-2;
// fp16: every activation is rounded to half (2^-11 relative) and weights too; accumulation is float.
constexpr double kFp16Tol = 1e-2;

}  // namespace kiln::gpu::test
