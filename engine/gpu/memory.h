// Device and pinned host allocations. Each is one cudaMalloc / cudaMallocHost, freed in the
// destructor (a failed free is logged, never thrown). Move-only. A zero-byte buffer holds nullptr.
//
// kiln allocates only at load and context creation: the weights (one buffer), each context's
// activation arena, workspace and pinned staging buffers. Nothing here is called per inference.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/gpu/resource.h"

namespace kiln::gpu {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Throws CudaError (naming `what`, the size and the caller's file:line) when the device is out of memory.
  DeviceBuffer(std::uint64_t bytes, const char* what, CallSite at = {});

  std::byte* data() const { return ptr_.get(); }
  std::uint64_t size() const { return bytes_; }
  template <class T>
  T* as() const {
    return reinterpret_cast<T*>(ptr_.get());
  }

 private:
  Unique<std::byte*, &cudaFree> ptr_;
  std::uint64_t bytes_ = 0;
};

// Page-locked host memory, portable: pinned for every device's context, not only the current one's (the
// staged weights of an engine placed on several devices are copied to each from one such buffer).
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(std::uint64_t bytes, const char* what, CallSite at = {});

  std::byte* data() const { return ptr_.get(); }
  std::uint64_t size() const { return bytes_; }

 private:
  Unique<std::byte*, &cudaFreeHost> ptr_;
  std::uint64_t bytes_ = 0;
};

}  // namespace kiln::gpu
