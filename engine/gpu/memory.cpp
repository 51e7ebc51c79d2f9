#include "engine/gpu/memory.h"

#include <string>

namespace kiln::gpu {

namespace {
std::string describe(const char* api, const char* what, std::uint64_t bytes) {
  return std::string(api) + " of " + std::to_string(bytes) + " bytes for " + what;
}
}  // namespace

DeviceBuffer::DeviceBuffer(std::uint64_t bytes, const char* what) : bytes_(bytes) {
  if (bytes == 0) return;
  void* p = nullptr;
  check_status(cudaMalloc(&p, bytes), describe("cudaMalloc", what, bytes), __FILE__, __LINE__);
  ptr_.reset(static_cast<std::byte*>(p));
}

PinnedBuffer::PinnedBuffer(std::uint64_t bytes, const char* what) : bytes_(bytes) {
  if (bytes == 0) return;
  void* p = nullptr;
  check_status(cudaMallocHost(&p, bytes), describe("cudaMallocHost", what, bytes), __FILE__, __LINE__);
  ptr_.reset(static_cast<std::byte*>(p));
}

}  // namespace kiln::gpu
