// Thin RAII over cuDNN's graph (backend) API descriptors: cudnnBackendCreateDescriptor /
// SetAttribute / Finalize / GetAttribute / DestroyDescriptor, with every status checked (CudnnError,
// naming the descriptor type or the attribute and its type, and the current layer).
//
// The backend API is strict about attribute types and element counts; the typed setters here pick the
// attribute type from the C++ type so callers cannot mismatch them:
//   int64_t -> CUDNN_TYPE_INT64, double -> DOUBLE, float -> FLOAT, bool -> BOOLEAN,
//   cudnnDataType_t -> DATA_TYPE, cudnnPointwiseMode_t -> POINTWISE_MODE, ...
// Every call that can fail takes a defaulted CallSite (engine/gpu/check.h), so errors name the caller's
// file:line. Descriptor-valued attributes take BackendDescriptor references (the referenced descriptor must stay
// alive until the referencing one is finalized; cuDNN copies what it needs at finalize).
#pragma once

#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/gpu/resource.h"

namespace kiln::gpu {

class BackendDescriptor {
 public:
  BackendDescriptor() = default;
  explicit BackendDescriptor(cudnnBackendDescriptorType_t type, CallSite at = {});

  cudnnBackendDescriptor_t get() const { return d_.get(); }
  explicit operator bool() const { return d_ != nullptr; }

  // Raw set; prefer the typed overloads.
  BackendDescriptor& set_raw(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t count,
                             const void* values, CallSite at = {});

  BackendDescriptor& set(cudnnBackendAttributeName_t name, std::int64_t v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, const std::vector<std::int64_t>& v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, double v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, float v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, bool v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, cudnnDataType_t v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, cudnnPointwiseMode_t v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, cudnnConvolutionMode_t v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, cudnnBackendHeurMode_t v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, cudnnBackendKnobType_t v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, cudnnHandle_t v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, const BackendDescriptor& v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, const std::vector<const BackendDescriptor*>& v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, const std::vector<void*>& v, CallSite at = {});
  BackendDescriptor& set(cudnnBackendAttributeName_t name, void* v, CallSite at = {});
  // Any other pointer (a BackendDescriptor*, say) would silently convert to bool: refuse it.
  template <class T>
  BackendDescriptor& set(cudnnBackendAttributeName_t name, T* v) = delete;

  // Throws CudnnError (e.g. CUDNN_STATUS_NOT_SUPPORTED) when cuDNN refuses the descriptor.
  BackendDescriptor& finalize(CallSite at = {});

  std::int64_t get_int64(cudnnBackendAttributeName_t name) const;
  // A CUDNN_TYPE_CHAR attribute (an execution plan's JSON representation) as a string, without the
  // terminating zero cuDNN may count. At most `max_bytes` (CudnnError naming the attribute beyond).
  std::string get_chars(cudnnBackendAttributeName_t name, std::int64_t max_bytes) const;
  // How many elements attribute `name` (of attribute type `type`) holds.
  std::int64_t count(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type) const;
  // Up to `max` descriptor-valued elements, each received into a fresh descriptor of `type`.
  std::vector<BackendDescriptor> get_descriptors(cudnnBackendAttributeName_t name, cudnnBackendDescriptorType_t type,
                                                 std::int64_t max) const;
  // Up to `max` enum-valued elements of attribute type `type` (numerical notes, knob types).
  template <class Enum>
  std::vector<Enum> get_enums(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                              std::int64_t max) const {
    std::vector<Enum> out(static_cast<std::size_t>(max));
    std::int64_t n = 0;
    get_raw(name, type, max, &n, out.data());
    out.resize(static_cast<std::size_t>(n < 0 ? 0 : (n > max ? max : n)));
    return out;
  }

 private:
  void get_raw(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t max,
               std::int64_t* count, void* values) const;
  Unique<cudnnBackendDescriptor_t, &cudnnBackendDestroyDescriptor> d_;
  // What the constructor created, for error messages; meaningless while d_ is null.
  cudnnBackendDescriptorType_t type_{};
};

}  // namespace kiln::gpu
