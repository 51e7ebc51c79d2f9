#include "engine/gpu/weights.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "base/memory_limit.h"
#include "engine/gpu/copy.h"
#include "engine/gpu/layout.h"
#include "formats/dtype.h"

namespace kiln::gpu {

namespace {
constexpr std::uint64_t kWidenAlign = 256;
std::uint64_t round_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

std::tuple<std::uint64_t, int, std::int64_t> key_of(const WeightRequest& r) {
  return {r.tensor->offset, static_cast<int>(r.form), r.form == WeightForm::F16Filter ? r.groups : 1};
}

std::uint64_t form_bytes(const WeightRequest& r) {
  const TensorEntry& e = *r.tensor;
  switch (r.form) {
    case WeightForm::F32:
      return element_count(e.shape) * 4;
    case WeightForm::F16:
      return element_count(e.shape) * 2;
    case WeightForm::F32Padded:
      return static_cast<std::uint64_t>(pad_channels(static_cast<std::int64_t>(element_count(e.shape)))) * 4;
    case WeightForm::F16Padded:
      return static_cast<std::uint64_t>(pad_channels(static_cast<std::int64_t>(element_count(e.shape)))) * 2;
    case WeightForm::F16Filter:
      return fp16_filter_layout(e.shape, r.groups).bytes();
    case WeightForm::F16Im2colRows:
      return im2col_rows_layout(e.shape).bytes();
    case WeightForm::F16Taps:
      return e.shape.size() == 4 ? static_cast<std::uint64_t>(e.shape[2] * e.shape[3] * pad_channels(e.shape[0])) * 2 : 0;
  }
  return 0;
}

// The tensor's values as float32, from the blob in host memory (f32 or f16).
std::vector<float> values_of(const TensorEntry& e, const std::byte* blob) {
  std::vector<float> v(element_count(e.shape));
  if (e.dtype == DType::F32) {
    std::memcpy(v.data(), blob + e.offset, v.size() * sizeof(float));
  } else {
    halves_to_floats(blob + e.offset, v.size(), v.data());
  }
  return v;
}

void write_form(const WeightRequest& r, const std::byte* blob, std::byte* dst) {
  const TensorEntry& e = *r.tensor;
  const std::vector<float> v = values_of(e, blob);
  if (r.form == WeightForm::F16Filter) {
    if (e.shape.size() != 4) {
      throw ModelError("weight " + e.name + ": a convolution filter must be 4-D, found " + shape_to_string(e.shape));
    }
    pack_fp16_filter(v.data(), e.shape, r.groups, reinterpret_cast<std::uint16_t*>(dst));
    return;
  }
  if (r.form == WeightForm::F16Im2colRows) {
    if (e.shape.size() != 4) {
      throw ModelError("weight " + e.name + ": a convolution filter must be 4-D, found " + shape_to_string(e.shape));
    }
    pack_im2col_rows(v.data(), e.shape, reinterpret_cast<std::uint16_t*>(dst));
    return;
  }
  if (r.form == WeightForm::F16Taps) {
    if (e.shape.size() != 4 || e.shape[1] != 1) {
      throw ModelError("weight " + e.name + ": a depthwise filter must be [C, 1, kh, kw], found " + shape_to_string(e.shape));
    }
    const std::int64_t channels = e.shape[0], taps = e.shape[2] * e.shape[3], stored = pad_channels(channels);
    std::memset(dst, 0, form_bytes(r));
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t t = 0; t < taps; ++t) {
        const std::uint16_t h = float_to_half(v[static_cast<std::size_t>(c * taps + t)]);
        std::memcpy(dst + (t * stored + c) * 2, &h, 2);
      }
    return;
  }
  std::memset(dst, 0, form_bytes(r));  // the padding of padded forms
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (r.form == WeightForm::F32Padded || r.form == WeightForm::F32) {
      std::memcpy(dst + i * 4, &v[i], 4);
    } else {
      const std::uint16_t h = float_to_half(v[i]);
      std::memcpy(dst + i * 2, &h, 2);
    }
  }
}

}  // namespace

StagedWeights::StagedWeights(const Manifest& manifest, const std::vector<WeightRequest>& requests, Precision precision)
    : precision_(precision) {
  if (precision == Precision::Fp16) {
    alignment_ = kWidenAlign;
    std::uint64_t total = 0;
    for (const WeightRequest& r : requests) {
      if (form_offset_.count(key_of(r))) continue;
      form_offset_[key_of(r)] = total;
      total = round_up(total + form_bytes(r), kWidenAlign);
    }
    if (total == 0) return;
    check_host_allocation(manifest.blob_path, "the weight blob", manifest.blob_size);
    check_host_allocation(manifest.blob_path, "the fp16 weight forms", total);
    std::vector<std::byte> blob(manifest.blob_size);
    read_blob_into(manifest, blob.data(), blob.size());
    host_ = PinnedBuffer(total, "the fp16 weights (pinned staging)");
    std::memset(host_.data(), 0, total);
    for (const WeightRequest& r : requests) write_form(r, blob.data(), host_.data() + form_offset_.at(key_of(r)));
    return;
  }
  alignment_ = std::min<std::uint64_t>(manifest.alignment, 256);
  for (const WeightRequest& r : requests) {
    if (r.form != WeightForm::F32) {
      throw UsageError("weight " + r.tensor->name + ": a float32 / tf32 engine holds weights as float32 only, " +
                       "a layer asked for another form");
    }
    if (r.tensor->dtype == DType::F16) f16_tensors_[r.tensor->offset] = element_count(r.tensor->shape);
  }
  if (manifest.blob_size == 0) return;
  check_host_allocation(manifest.blob_path, "the weight blob", manifest.blob_size);
  host_ = PinnedBuffer(manifest.blob_size, "the weight blob (pinned staging)");
  read_blob_into(manifest, host_.data(), host_.size());
}

bool StagedWeights::serves(const std::vector<WeightRequest>& requests, Precision precision) const {
  if (precision != precision_) return false;
  for (const WeightRequest& r : requests) {
    if (precision == Precision::Fp16 ? !form_offset_.count(key_of(r))
                                     : r.form != WeightForm::F32 || r.tensor->offset + r.tensor->nbytes > host_.size() ||
                                           (r.tensor->dtype == DType::F16 && !f16_tensors_.count(r.tensor->offset))) {
      return false;
    }
  }
  return true;
}

DeviceWeights::DeviceWeights(const Manifest& manifest, const std::vector<WeightRequest>& requests, Precision precision)
    : DeviceWeights(StagedWeights(manifest, requests, precision)) {}

DeviceWeights::DeviceWeights(const StagedWeights& staged)
    : converted_(staged.precision_ == Precision::Fp16), form_offset_(staged.form_offset_), alignment_(staged.alignment_) {
  if (staged.host_.size() == 0) return;
  blob_ = DeviceBuffer(staged.host_.size(), converted_ ? "the fp16 weights" : "the weights");
  KILN_CUDA_CHECK(cudaMemcpy(blob_.data(), staged.host_.data(), staged.host_.size(), cudaMemcpyHostToDevice));
  if (!converted_) widen_f16(staged);
}

const void* DeviceWeights::get(const WeightRequest& request) const {
  if (!converted_) return f32(*request.tensor);
  auto it = form_offset_.find(key_of(request));
  if (it == form_offset_.end()) {
    throw UsageError("weight " + request.tensor->name + " was not converted at load in the form a layer asks for");
  }
  return blob_.data() + it->second;
}

bool DeviceWeights::has(const WeightRequest& request) const {
  const TensorEntry& t = *request.tensor;
  if (converted_) return form_offset_.count(key_of(request)) > 0;
  if (t.offset + t.nbytes > blob_.size()) return false;
  return t.dtype == DType::F32 || widened_offset_.count(t.offset) > 0;
}

void DeviceWeights::widen_f16(const StagedWeights& staged) {
  std::uint64_t widened_bytes = 0;
  for (const auto& [offset, count] : staged.f16_tensors_) {
    widened_offset_[offset] = widened_bytes;
    widened_bytes = round_up(widened_bytes + count * sizeof(float), kWidenAlign);
  }
  if (widened_bytes == 0) return;
  widened_ = DeviceBuffer(widened_bytes, "float32 copies of f16 weights");
  // An own stream, so widening never waits on (or stalls) other contexts' work on the legacy stream.
  const Stream stream = make_stream();
  for (const auto& [offset, count] : staged.f16_tensors_) {
    const auto n = static_cast<std::int64_t>(count);
    launch_copy(flat_view(blob_.data() + offset, ElementType::F16, n),
                flat_view(widened_.data() + widened_offset_[offset], ElementType::F32, n), stream.get());
  }
  KILN_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
}

const float* DeviceWeights::f32(const TensorEntry& tensor) const {
  if (tensor.offset + tensor.nbytes > blob_.size()) {
    throw UsageError("weight " + tensor.name + " lies outside the loaded blob (" + std::to_string(blob_.size()) +
                     " bytes)");
  }
  if (tensor.dtype == DType::F32) return reinterpret_cast<const float*>(blob_.data() + tensor.offset);
  auto it = widened_offset_.find(tensor.offset);
  if (it == widened_offset_.end()) {
    throw UsageError("f16 weight " + tensor.name + " was not widened at load (no layer bound it)");
  }
  return reinterpret_cast<const float*>(widened_.data() + it->second);
}

}  // namespace kiln::gpu
