// The weights on the GPU: the manifest's whole blob read straight into pinned host memory
// (kiln::read_blob_into, which checks size, CRC-32 and padding), then one device allocation and one
// host-to-device copy. Layers point into it. f16 tensors that layers bind are widened once, at load, into
// a second device buffer of float32 (the fp32/tf32 kernels read float); f32 tensors are used in place.
//
// Precision::Fp16 (Note [fp16 layout] in engine/gpu/layout.h) uses the second constructor: every form a
// layer asked for (WeightRequest) is converted on the host while it is staged into pinned memory (f32 or
// f16 blob alike: filters reordered to KRSC and padded, channel vectors padded, half or float as asked),
// at 256-byte aligned offsets of a derived layout, then copied in ONE copy into ONE device allocation.
//
// Immutable after construction; shared by every ExecutionContext.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/gpu/memory.h"
#include "formats/manifest.h"

namespace kiln::gpu {

// How an Fp16 layer wants one weight tensor on the device.
enum class WeightForm {
  F16,           // half, same element order
  F32Padded,     // a [C] channel vector as float32, zero-padded to pad_channels(C) (kernel epilogues, batch_norm)
  F16Padded,     // the same as half (cuDNN graph bias)
  F16Filter,     // a convolution filter, KRSC half (fp16_filter_layout / pack_fp16_filter)
};

struct WeightRequest {
  const TensorEntry* tensor = nullptr;
  WeightForm form = WeightForm::F16;
  std::int64_t groups = 1;  // F16Filter only
};

class DeviceWeights {
 public:
  DeviceWeights() = default;
  // Fp32 / Tf32: the blob as is. `used` lists the tensors layers bind (only those f16 ones are widened).
  DeviceWeights(const Manifest& manifest, const std::vector<const TensorEntry*>& used);
  // Fp16: only the requested forms (duplicates allowed), converted on the host.
  DeviceWeights(const Manifest& manifest, const std::vector<WeightRequest>& requests);

  // Device pointer to `tensor` as float32. Throws UsageError for a tensor that is not in the manifest
  // this was loaded from (or an f16 tensor that was not listed as used).
  const float* f32(const TensorEntry& tensor) const;
  // Fp16: device pointer to a requested form (half or float as the form says). Throws UsageError for a
  // form that was not requested at load.
  const void* form(const WeightRequest& request) const;
  // Bytes on the device (the blob plus the widened copies).
  std::uint64_t bytes() const { return blob_.size() + widened_.size(); }
  // Alignment every f32() pointer is guaranteed to have (the manifest's, capped at 256).
  std::uint64_t alignment() const { return alignment_; }

 private:
  DeviceBuffer blob_;
  DeviceBuffer widened_;
  std::map<std::uint64_t, std::uint64_t> widened_offset_;  // blob offset of an f16 tensor -> byte offset in widened_
  // Fp16: (blob offset, form, groups) -> byte offset in blob_ (which then holds the derived layout).
  std::map<std::tuple<std::uint64_t, int, std::int64_t>, std::uint64_t> form_offset_;
  std::uint64_t alignment_ = 256;
};

// Converts `count` IEEE halves to floats on `stream` (layers/gpu/convert.cu).
void launch_half_to_float(const void* src, float* dst, std::uint64_t count, cudaStream_t stream);

}  // namespace kiln::gpu
