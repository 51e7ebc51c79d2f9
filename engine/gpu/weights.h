// The weights on the GPU, in the forms the ops declared (engine/gpu/op.h, OpDeclaration::weights).
//
// Fp32 / Tf32: the manifest's whole blob is read straight into pinned host memory (kiln::read_blob_into,
// which checks size, CRC-32 and padding), then one device allocation and one host-to-device copy; every
// form is WeightForm::F32, and f32 tensors are used in place. f16 tensors are widened once, at load,
// into a second device buffer of float32 (the fp32/tf32 kernels read float).
//
// Fp16 (Note [fp16 layout] in engine/gpu/layout.h): every requested form is converted on the host while
// it is staged into pinned memory (f32 or f16 blob alike: filters reordered to KRSC and padded, channel
// vectors padded, half or float as asked), at 256-byte aligned offsets of a derived layout, then copied
// in ONE copy into ONE device allocation.
//
// Immutable after construction; shared by every ExecutionContext.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/memory.h"
#include "formats/manifest.h"

namespace kiln::gpu {

// How an op wants one weight tensor on the device.
enum class WeightForm {
  F32,           // float32, same element order (the only form of Fp32 / Tf32 engines)
  F16,           // half, same element order
  F32Padded,     // a [C] channel vector as float32, zero-padded to pad_channels(C) (kernel epilogues, batch_norm)
  F16Padded,     // the same as half (cuDNN graph bias)
  F16Filter,     // a convolution filter, KRSC half (fp16_filter_layout / pack_fp16_filter)
  F16Taps,       // a depthwise filter [C, 1, kh, kw] as half [kh*kw][pad_channels(C)], pads 0
                 // (layers/conv/depthwise_kernels.h: 8 channels of one tap per 16-byte load)
  F16Im2colRows, // a convolution filter (groups 1) as an im2col GEMM's half rows (im2col_rows_layout)
};

struct WeightRequest {
  const TensorEntry* tensor = nullptr;
  WeightForm form = WeightForm::F32;
  std::int64_t groups = 1;  // F16Filter only
};

// The host half of a load: the blob read into pinned host memory and checked (size, CRC-32, padding)
// and, in Fp16, every requested form converted there. Made once per load and copied to each device the
// engine is placed on (GpuEngine::load_replicas), so a model placed on several GPUs is read, checked and
// converted once. Immutable; the pinned memory is portable (any device's context may copy from it).
class StagedWeights {
 public:
  // Stages the forms `requests` lists (duplicates allowed) for an engine of `precision`. Throws
  // UsageError for a form other than F32 at Fp32 / Tf32, FormatError for a bad blob, CudaError when
  // pinned memory runs out. Needs no current device.
  StagedWeights(const Manifest& manifest, const std::vector<WeightRequest>& requests, Precision precision);

  Precision precision() const { return precision_; }
  std::uint64_t bytes() const { return host_.size(); }
  // True when `requests` (for `precision`) are exactly what this staging holds: an engine of another
  // graph, precision or options than the one it was made for may not use it.
  bool serves(const std::vector<WeightRequest>& requests, Precision precision) const;

 private:
  friend class DeviceWeights;
  Precision precision_;
  PinnedBuffer host_;  // Fp32 / Tf32: the blob; Fp16: the converted forms
  // Fp16: (blob offset, form, groups) -> byte offset in host_.
  std::map<std::tuple<std::uint64_t, int, std::int64_t>, std::uint64_t> form_offset_;
  // Fp32 / Tf32: the f16 tensors a layer binds (blob offset -> element count), widened on the device.
  std::map<std::uint64_t, std::uint64_t> f16_tensors_;
  std::uint64_t alignment_ = 256;
};

class DeviceWeights {
 public:
  DeviceWeights() = default;
  // Uploads the forms `requests` lists (duplicates allowed) for an engine of `precision`: stages them
  // (StagedWeights, with its errors) and copies the staging to the current device. CudaError when the
  // device is out of memory.
  DeviceWeights(const Manifest& manifest, const std::vector<WeightRequest>& requests, Precision precision);
  // Copies `staged` to the current device: one allocation and one copy (and, for f16 tensors of an
  // Fp32 / Tf32 engine, one widening kernel each).
  explicit DeviceWeights(const StagedWeights& staged);

  // Device pointer to a requested form (float or half as the form says). Throws UsageError for a form
  // that was not requested at load.
  const void* get(const WeightRequest& request) const;
  // True when get(request) would succeed (the form was uploaded at load).
  bool has(const WeightRequest& request) const;
  // Bytes on the device (the blob or the converted forms, plus widened copies).
  std::uint64_t bytes() const { return blob_.size() + widened_.size(); }
  // Alignment every pointer get() returns is guaranteed to have (the manifest's, capped at 256).
  std::uint64_t alignment() const { return alignment_; }

 private:
  void widen_f16(const StagedWeights& staged);
  const float* f32(const TensorEntry& tensor) const;  // Fp32 / Tf32: in the blob, or widened

  bool converted_ = false;  // Fp16: blob_ holds the converted forms, not the blob
  DeviceBuffer blob_;
  DeviceBuffer widened_;
  std::map<std::uint64_t, std::uint64_t> widened_offset_;  // blob offset of an f16 tensor -> byte offset in widened_
  // Fp16: (blob offset, form, groups) -> byte offset in blob_.
  std::map<std::tuple<std::uint64_t, int, std::int64_t>, std::uint64_t> form_offset_;
  std::uint64_t alignment_ = 256;
};

}  // namespace kiln::gpu
