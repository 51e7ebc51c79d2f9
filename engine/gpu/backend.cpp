#include "engine/gpu/backend.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/gpu/cudnn_names.h"

namespace kiln::gpu {

// Every call description below is built only once its call has failed: success allocates nothing.
namespace {
std::string elements(std::int64_t n) { return std::to_string(n) + (n == 1 ? " element" : " elements"); }

// e.g. "cudnnBackendSetAttribute(CUDNN_ATTR_CONVOLUTION_COMP_TYPE as CUDNN_TYPE_DATA_TYPE, 1 element)".
std::string attr_call(const char* fn, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                      const std::string& count) {
  return std::string(fn) + "(" + attribute_name(name) + " as " + attribute_type_name(type) + ", " + count + ")";
}
}  // namespace

BackendDescriptor::BackendDescriptor(cudnnBackendDescriptorType_t type, CallSite at) : type_(type) {
  cudnnBackendDescriptor_t raw = nullptr;
  const cudnnStatus_t status = cudnnBackendCreateDescriptor(type, &raw);
  if (status != CUDNN_STATUS_SUCCESS)
    throw_status(status, "cudnnBackendCreateDescriptor(" + descriptor_type_name(type) + ")", at.file, at.line);
  d_.reset(raw);
}

BackendDescriptor& BackendDescriptor::set_raw(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                                              std::int64_t count, const void* values, CallSite at) {
  const cudnnStatus_t status = cudnnBackendSetAttribute(d_.get(), name, type, count, values);
  if (status != CUDNN_STATUS_SUCCESS)
    throw_status(status, attr_call("cudnnBackendSetAttribute", name, type, elements(count)), at.file, at.line);
  return *this;
}

BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, std::int64_t v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_INT64, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, const std::vector<std::int64_t>& v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_INT64, static_cast<std::int64_t>(v.size()), v.data(), at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, double v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_DOUBLE, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, float v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_FLOAT, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, bool v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_BOOLEAN, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnDataType_t v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_DATA_TYPE, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnPointwiseMode_t v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_POINTWISE_MODE, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnConvolutionMode_t v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_CONVOLUTION_MODE, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendHeurMode_t v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_HEUR_MODE, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendKnobType_t v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_KNOB_TYPE, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnHandle_t v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_HANDLE, 1, &v, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, const BackendDescriptor& v, CallSite at) {
  cudnnBackendDescriptor_t raw = v.get();
  return set_raw(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw, at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name,
                                          const std::vector<const BackendDescriptor*>& v, CallSite at) {
  std::vector<cudnnBackendDescriptor_t> raw;
  raw.reserve(v.size());
  for (const BackendDescriptor* d : v) raw.push_back(d->get());
  return set_raw(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<std::int64_t>(raw.size()), raw.data(), at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, const std::vector<void*>& v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_VOID_PTR, static_cast<std::int64_t>(v.size()), v.data(), at);
}
BackendDescriptor& BackendDescriptor::set(cudnnBackendAttributeName_t name, void* v, CallSite at) {
  return set_raw(name, CUDNN_TYPE_VOID_PTR, 1, &v, at);
}

BackendDescriptor& BackendDescriptor::finalize(CallSite at) {
  const cudnnStatus_t status = cudnnBackendFinalize(d_.get());
  if (status != CUDNN_STATUS_SUCCESS) {
    const std::string what = d_ ? descriptor_type_name(type_) : std::string("null descriptor");
    throw_status(status, "cudnnBackendFinalize(" + what + ")", at.file, at.line);
  }
  return *this;
}

void BackendDescriptor::get_raw(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t max,
                                std::int64_t* count, void* values) const {
  const cudnnStatus_t status = cudnnBackendGetAttribute(d_.get(), name, type, max, count, values);
  if (status != CUDNN_STATUS_SUCCESS) {
    const std::string wanted = max == 0 ? std::string("count only") : "up to " + elements(max);
    throw_status(status, attr_call("cudnnBackendGetAttribute", name, type, wanted), __FILE__, __LINE__);
  }
}

std::int64_t BackendDescriptor::get_int64(cudnnBackendAttributeName_t name) const {
  std::int64_t v = 0;
  std::int64_t n = 0;
  get_raw(name, CUDNN_TYPE_INT64, 1, &n, &v);
  return v;
}

std::string BackendDescriptor::get_chars(cudnnBackendAttributeName_t name, std::int64_t max_bytes) const {
  std::int64_t n = 0;
  get_raw(name, CUDNN_TYPE_CHAR, 0, &n, nullptr);
  if (n < 0 || n > max_bytes) {
    throw_status(CUDNN_STATUS_NOT_SUPPORTED,
                 attr_call("cudnnBackendGetAttribute", name, CUDNN_TYPE_CHAR,
                           std::to_string(n) + " characters, over the " + std::to_string(max_bytes) + " accepted"),
                 __FILE__, __LINE__);
  }
  std::string out(static_cast<std::size_t>(n), '\0');
  std::int64_t got = 0;
  if (n > 0) get_raw(name, CUDNN_TYPE_CHAR, n, &got, out.data());
  out.resize(static_cast<std::size_t>(std::clamp<std::int64_t>(got, 0, n)));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
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
