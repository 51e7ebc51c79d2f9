// The weights on the GPU: the manifest's whole blob read straight into pinned host memory
// (kiln::read_blob_into, which checks size, CRC-32 and padding), then one device allocation and one
// host-to-device copy. Layers point into it. f16 tensors that layers bind are widened once, at load, into
// a second device buffer of float32 (the fp32/tf32 kernels read float); f32 tensors are used in place.
//
// Immutable after construction; shared by every ExecutionContext.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "engine/gpu/memory.h"
#include "formats/manifest.h"

namespace kiln::gpu {

class DeviceWeights {
 public:
  DeviceWeights() = default;
  // `used` lists the tensors layers bind (only those f16 ones are widened).
  DeviceWeights(const Manifest& manifest, const std::vector<const TensorEntry*>& used);

  // Device pointer to `tensor` as float32. Throws UsageError for a tensor that is not in the manifest
  // this was loaded from (or an f16 tensor that was not listed as used).
  const float* f32(const TensorEntry& tensor) const;
  // Bytes on the device (the blob plus the widened copies).
  std::uint64_t bytes() const { return blob_.size() + widened_.size(); }
  // Alignment every f32() pointer is guaranteed to have (the manifest's, capped at 256).
  std::uint64_t alignment() const { return alignment_; }

 private:
  DeviceBuffer blob_;
  DeviceBuffer widened_;
  std::map<std::uint64_t, std::uint64_t> widened_offset_;  // blob offset of an f16 tensor -> byte offset in widened_
  std::uint64_t alignment_ = 256;
};

// Converts `count` IEEE halves to floats on `stream` (layers/gpu/convert.cu).
void launch_half_to_float(const void* src, float* dst, std::uint64_t count, cudaStream_t stream);

}  // namespace kiln::gpu
