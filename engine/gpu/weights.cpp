#include "engine/gpu/weights.h"

#include <algorithm>
#include <vector>

namespace kiln::gpu {

namespace {
constexpr std::uint64_t kWidenAlign = 256;
std::uint64_t round_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }
}  // namespace

DeviceWeights::DeviceWeights(const Manifest& manifest, const std::vector<const TensorEntry*>& used)
    : alignment_(std::min<std::uint64_t>(manifest.alignment, 256)) {
  if (manifest.blob_size == 0) return;
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
  for (const TensorEntry* e : used) {
    if (e->dtype != DType::F16) continue;
    launch_half_to_float(blob_.data() + e->offset, reinterpret_cast<float*>(widened_.data() + widened_offset_[e->offset]),
                         element_count(e->shape), nullptr);
  }
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
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
