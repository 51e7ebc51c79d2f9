#include "engine/gpu/plan_cache_gpu.h"

#include <cuda_runtime_api.h>

#include <fstream>

#include "engine/gpu/check.h"
#include "kiln/version.h"

namespace kiln::gpu {

namespace {

// "580.159.04" from "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Tue ..."; "" elsewhere.
std::string kernel_driver_version() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  const std::string marker = "Kernel Module";
  std::size_t at = line.find(marker);
  if (at == std::string::npos) return {};
  at = line.find_first_not_of(' ', at + marker.size());
  if (at == std::string::npos) return {};
  const std::size_t end = line.find(' ', at);
  return line.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

std::string device_fingerprint(int device) {
  cudaDeviceProp prop{};
  KILN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  int driver = 0;
  int runtime = 0;
  KILN_CUDA_CHECK(cudaDriverGetVersion(&driver));
  KILN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  return std::string(prop.name) + "|sm=" + std::to_string(prop.multiProcessorCount) + "|cc=" +
         std::to_string(prop.major) + "." + std::to_string(prop.minor) + "|driver=" + kernel_driver_version() +
         "|cuda-driver=" + std::to_string(driver) + "|cudart=" + std::to_string(runtime) +
         "|cudnn=" + std::to_string(cudnnGetVersion()) + "|kiln=" + KILN_VERSION_STRING +
         "|kiln-plans=" + std::to_string(kPlanCacheFormat);
}

std::optional<std::string> serialize_plan(const BackendDescriptor& plan) {
  try {
    std::string json = plan.get_chars(CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION,
                                      static_cast<std::int64_t>(PlanCache::kMaxEntryBytes / 2));
    return json;
  } catch (const CudnnError& e) {
    // cuDNN 9's status families: 2xxx bad parameter, 3xxx not supported (the engine has no serialized
    // form: its plan is rebuilt from its recipe); anything else is not about the engine.
    const int family = e.status() / 1000;
    if (family == CUDNN_STATUS_BAD_PARAM / 1000 || family == CUDNN_STATUS_NOT_SUPPORTED / 1000) return std::string();
    return std::nullopt;
  }
}

BackendDescriptor deserialize_plan(cudnnHandle_t handle, const std::string& json) {
  BackendDescriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
  plan.set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, handle)
      .set_raw(CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR, static_cast<std::int64_t>(json.size()),
               json.data())
      .finalize();
  return plan;
}

}  // namespace kiln::gpu
