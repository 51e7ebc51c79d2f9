#include "engine/gpu/backend.h"

#include <cstddef>

namespace kiln::gpu {

namespace {
std::string attr_call(const char* fn, cudnnBackendAttributeName_t name) {
  return std::string(fn) + "(attribute " + std::to_string(static_cast<int>(name)) + ")";
}
}  // namespace

BackendDescriptor::BackendDescriptor(cudnnBackendDescriptorType_t type) {
  cudnnBackendDescriptor_t raw = nullptr;
  check_status(cudnnBackendCreateDescriptor(type, &raw),
               "cudnnBackendCreateDescriptor(type " + std::to_string(static_cast<int>(type)) + ")", __FILE__,
               __LINE__);
  d_.reset(raw);
}

BackendDescriptor& BackendDescriptor::set_raw(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                                              std::int64_t count, const void* values) {
  const cudnnStatus_t status = cudnnBackendSetAttribute(d_.get(), name, type, count, values);
  if (status != CUDNN_STATUS_SUCCESS) throw_status(status, attr_call("cudnnBackendSetAttribute", name), __FILE__, __LINE__);
  return *this;
}

BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, std::int64_t v) {
  return set_raw(name, CUDNN_TYPE_INT64, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, const std::vector<std::int64_t>& v) {
  return set_raw(name, CUDNN_TYPE_INT64, static_cast<std::int64_t>(v.size()), v.data());
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, double v) {
  return set_raw(name, CUDNN_TYPE_DOUBLE, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, float v) {
  return set_raw(name, CUDNN_TYPE_FLOAT, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, bool v) {
  return set_raw(name, CUDNN_TYPE_BOOLEAN, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnDataType_t v) {
  return set_raw(name, CUDNN_TYPE_DATA_TYPE, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnPointwiseMode_t v) {
  return set_raw(name, CUDNN_TYPE_POINTWISE_MODE, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnConvolutionMode_t v) {
  return set_raw(name, CUDNN_TYPE_CONVOLUTION_MODE, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendHeurMode_t v) {
  return set_raw(name, CUDNN_TYPE_HEUR_MODE, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendKnobType_t v) {
  return set_raw(name, CUDNN_TYPE_KNOB_TYPE, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnHandle_t v) {
  return set_raw(name, CUDNN_TYPE_HANDLE, 1, &v);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, const BackendDescriptor& v) {
  cudnnBackendDescriptor_t raw = v.get();
  return set_raw(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name,
                                          const std::vector<const BackendDescriptor*>& v) {
  std::vector<cudnnBackendDescriptor_t> raw;
  raw.reserve(v.size());
  for (const BackendDescriptor* d : v) raw.push_back(d->get());
  return set_raw(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<std::int64_t>(raw.size()), raw.data());
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, const std::vector<void*>& v) {
  return set_raw(name, CUDNN_TYPE_VOID_PTR, static_cast<std::int64_t>(v.size()), v.data());
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, void* v) {
  return set_raw(name, CUDNN_TYPE_VOID_PTR, 1, &v);
}

BackendDescriptor& BackendDescriptor::finalize() {
  KILN_CUDNN_CHECK(cudnnBackendFinalize(d_.get()));
  return *this;
}

void BackendDescriptor::get_raw(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t max,
                                std::int64_t* count, void* values) const {
  const cudnnStatus_t status = cudnnBackendGetAttribute(d_.get(), name, type, max, count, values);
  if (status != CUDNN_STATUS_SUCCESS) throw_status(status, attr_call("cudnnBackendGetAttribute", name), __FILE__, __LINE__);
}

std::int64_t BackendDescriptor::get_int64(cudnnBackendAttributeName_t name) const {
  std::int64_t v = 0;
  std::int64_t n = 0;
  get_raw(name, CUDNN_TYPE_INT64, 1, &n, &v);
  return v;
}

std::int64_t BackendDescriptor::count(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type) const {
  std::int64_t n = 0;
  get_raw(name, type, 0, &n, nullptr);
  return n;
}

std::vector<BackendDescriptor> BackendDescriptor::get_descriptors(cudnnBackendAttributeName_t name,
                                                                  cudnnBackendDescriptorType_t type,
                                                                  std::int64_t max) const {
  // cuDNN copies each element into a descriptor the caller created beforehand.
  std::vector<BackendDescriptor> out;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (std::int64_t i = 0; i < max; ++i) {
    out.emplace_back(type);
    raw.push_back(out.back().get());
  }
  std::int64_t n = 0;
  get_raw(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, max, &n, raw.data());
  out.resize(static_cast<std::size_t>(n < 0 ? 0 : (n > max ? max : n)));
  return out;
}

}  // namespace kiln::gpu
