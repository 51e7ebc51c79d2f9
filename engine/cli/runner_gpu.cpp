#include <cuda_runtime.h>

#include "engine/cli/runner.h"
#include "engine/errors.h"

namespace kiln {

bool gpu_available(std::string* why_not) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (why_not) *why_not = std::string("no CUDA device (") + cudaGetErrorString(status) + ")";
    return false;
  }
  if (count == 0) {
    if (why_not) *why_not = "no CUDA device";
    return false;
  }
  if (why_not) *why_not = "the GPU backend is not built into this kiln";
  return false;
}

std::unique_ptr<ModelRunner> make_gpu_runner(const RunnerOptions&) {
  throw UsageError("the GPU backend is not built into this kiln");
}

}  // namespace kiln
