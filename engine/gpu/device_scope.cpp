#include "engine/gpu/device_scope.h"

#include <cuda.h>

#include "base/errors.h"
#include "engine/gpu/check.h"

namespace kiln::gpu {

namespace {

// cuCtxGetCurrent through the runtime's driver entry points (kiln links no libcuda): null when the
// driver does not offer it, and then every thread counts as having a device.
using CtxGetCurrent = CUresult (*)(CUcontext*);
CtxGetCurrent ctx_get_current() {
  static const CtxGetCurrent fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &p, 12000, cudaEnableDefault, &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();
      return static_cast<CtxGetCurrent>(nullptr);
    }
    return reinterpret_cast<CtxGetCurrent>(p);
  }();
  return fn;
}

// True when the calling thread has no CUDA context bound yet (Note [device discipline]).
bool thread_has_no_context() noexcept {
  const CtxGetCurrent get = ctx_get_current();
  CUcontext ctx = nullptr;
  return get && get(&ctx) == CUDA_SUCCESS && ctx == nullptr;
}

}  // namespace

int CudaDeviceApi::current() {
  if (thread_has_no_context()) return -1;
  int device = -1;
  KILN_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

void CudaDeviceApi::make_current(int device) {
  check_status(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")", __FILE__, __LINE__);
}

bool CudaDeviceApi::try_current(int& device) noexcept {
  if (thread_has_no_context()) {
    device = -1;
    return true;
  }
  return KILN_CUDA_LOG(cudaGetDevice(&device));
}

bool CudaDeviceApi::try_make_current(int device) noexcept { return KILN_CUDA_LOG(cudaSetDevice(device)); }

std::string device_pointer_problem(const void* pointer, int device) {
  cudaPointerAttributes a{};
  KILN_CUDA_CHECK(cudaPointerGetAttributes(&a, pointer));
  if (a.type == cudaMemoryTypeDevice && a.device != device) {
    return "is memory of gpu " + std::to_string(a.device) + "; this engine runs on gpu " + std::to_string(device);
  }
  if (a.type == cudaMemoryTypeUnregistered) {
    return "is host memory CUDA does not know (not device, pinned or managed memory); this engine runs on gpu " +
           std::to_string(device);
  }
  return {};
}

void check_stream_device(cudaStream_t stream, int device) {
  if (!stream) return;
  int owner = -1;
  KILN_CUDA_CHECK(cudaStreamGetDevice(stream, &owner));
  if (owner != device) {
    throw UsageError("ExecutionContext: the stream belongs to gpu " + std::to_string(owner) + ", the engine to gpu " +
                     std::to_string(device));
  }
}

}  // namespace kiln::gpu
