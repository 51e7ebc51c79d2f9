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

DeviceWeights::DeviceWeights(const Manifest& manifest, const std::vector<WeightRequest>& requests, Precision precision) {
  if (precision == Precision::Fp16) {
    upload_forms(manifest, requests);
  } else {
    upload_blob(manifest, requests);
  }
}

void DeviceWeights::upload_forms(const Manifest& manifest, const std::vector<WeightRequest>& requests) {
  converted_ = true;
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
  PinnedBuffer host(total, "the fp16 weights (pinned staging)");
  std::memset(host.data(), 0, total);
  for (const WeightRequest& r : requests) write_form(r, blob.data(), host.data() + form_offset_.at(key_of(r)));
  blob_ = DeviceBuffer(total, "the fp16 weights");
  KILN_CUDA_CHECK(cudaMemcpy(blob_.data(), host.data(), total, cudaMemcpyHostToDevice));
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

void DeviceWeights::upload_blob(const Manifest& manifest, const std::vector<WeightRequest>& requests) {
  alignment_ = std::min<std::uint64_t>(manifest.alignment, 256);
  std::vector<const TensorEntry*> used;
  for (const WeightRequest& r : requests) {
    if (r.form != WeightForm::F32) {
      throw UsageError("weight " + r.tensor->name + ": a float32 / tf32 engine holds weights as float32 only, " +
                       "a layer asked for another form");
    }
    used.push_back(r.tensor);
  }
  if (manifest.blob_size == 0) return;
  check_host_allocation(manifest.blob_path, "the weight blob", manifest.blob_size);
  PinnedBuffer host(manifest.blob_size, "the weight blob (pinned staging)");
  read_blob_into(manifest, host.data(), host.size());
  blob_ = DeviceBuffer(manifest.blob_size, "the weights");
  KILN_CUDA_CHECK(cudaMemcpy(blob_.data(), host.data(), manifest.blob_size, cudaMemcpyHostToDevice));

  std::uint64_t widened_bytes = 0;
  for (const TensorEntry* e : used) {
    if (e->dtype != DType::F16 || widened_offset_.count(e->offset)) continue;
    widened_offset_[e->offset] = widened_bytes;
    widened_bytes = round_up(widened_bytes + element_count(e->shape) * sizeof(float), kWidenAlign);
  }
  if (widened_bytes == 0) return;
  widened_ = DeviceBuffer(widened_bytes, "float32 copies of f16 weights");
  // An own stream, so widening never waits on (or stalls) other contexts' work on the legacy stream.
  const Stream stream = make_stream();
  for (const TensorEntry* e : used) {
    if (e->dtype != DType::F16) continue;
    const auto count = static_cast<std::int64_t>(element_count(e->shape));
    launch_copy(flat_view(blob_.data() + e->offset, ElementType::F16, count),
                flat_view(widened_.data() + widened_offset_[e->offset], ElementType::F32, count), stream.get());
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
