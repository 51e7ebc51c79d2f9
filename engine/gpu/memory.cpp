#include "engine/gpu/memory.h"

#include <string>

#include "base/fault_injection.h"

namespace kiln::gpu {

namespace {
std::string describe(const char* api, const char* what, std::uint64_t bytes) {
  return std::string(api) + " of " + std::to_string(bytes) + " bytes for " + what;
}
}  // namespace

DeviceBuffer::DeviceBuffer(std::uint64_t bytes, const char* what, CallSite at) : bytes_(bytes) {
  if (bytes == 0) return;
  void* p = nullptr;
  const cudaError_t status = inject_fault(FaultSite::DeviceAllocation) ? cudaErrorMemoryAllocation : cudaMalloc(&p, bytes);
  if (status != cudaSuccess) throw_status(status, describe("cudaMalloc", what, bytes), at.file, at.line);
  ptr_.reset(static_cast<std::byte*>(p));
}

PinnedBuffer::PinnedBuffer(std::uint64_t bytes, const char* what, CallSite at) : bytes_(bytes) {
  if (bytes == 0) return;
  void* p = nullptr;
  const cudaError_t status =
      inject_fault(FaultSite::DeviceAllocation) ? cudaErrorMemoryAllocation
                                                : cudaHostAlloc(&p, bytes, cudaHostAllocPortable);
  if (status != cudaSuccess) throw_status(status, describe("cudaHostAlloc", what, bytes), at.file, at.line);
  ptr_.reset(static_cast<std::byte*>(p));
}

}  // namespace kiln::gpu
