// RAII for every CUDA, cuDNN and cuBLAS object kiln creates: one template, `Unique<Handle, Destroy>`,
// a std::unique_ptr with a stateless deleter that calls `Destroy` and only logs a failure (a deleter
// never throws). Move-only; copying does not compile.
//
//   CudnnHandle h = make_cudnn_handle();       // throws CudnnError if cudnnCreate fails
//   cudnnHandle_t raw = h.get();
//
// Backend (graph API) descriptors have their own thin wrapper in engine/gpu/backend.h, built on the same
// template.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstdint>
#include <memory>
#include <type_traits>

#include "engine/gpu/check.h"

namespace kiln::gpu {

// Calls `Destroy` on a non-null handle and logs (never throws) a failed status.
template <auto Destroy>
struct Destroyer {
  template <class Handle>
  void operator()(Handle h) const noexcept {
    using Status = decltype(Destroy(h));
    log_status<Status>(Destroy(h), "destroy", __FILE__, __LINE__);
  }
};

template <class Handle, auto Destroy>
using Unique = std::unique_ptr<std::remove_pointer_t<Handle>, Destroyer<Destroy>>;

// The name of a create call together with where it was made (see CallSite).
struct CreateCall {
  CreateCall(const char* what_, const char* file = __builtin_FILE(), int line = __builtin_LINE())
      : what(what_), at(file, line) {}
  const char* what;
  CallSite at;
};

// Creates a resource through `create(&raw, args...)`, checking the status with the library's check;
// a failure names `call.what` at the caller's file:line.
template <class U, class Create, class... Args>
U make_resource(Create create, CreateCall call, Args... args) {
  typename U::pointer raw = nullptr;
  const auto status = create(&raw, args...);
  check_status<std::remove_cv_t<decltype(status)>>(status, call.what, call.at.file, call.at.line);
  return U(raw);
}

using CudnnHandle = Unique<cudnnHandle_t, &cudnnDestroy>;
using CublasLtHandle = Unique<cublasLtHandle_t, &cublasLtDestroy>;
using Stream = Unique<cudaStream_t, &cudaStreamDestroy>;
using Event = Unique<cudaEvent_t, &cudaEventDestroy>;

// Legacy cuDNN descriptors (LRN, softmax and pooling still use them).
using TensorDesc = Unique<cudnnTensorDescriptor_t, &cudnnDestroyTensorDescriptor>;
using PoolingDesc = Unique<cudnnPoolingDescriptor_t, &cudnnDestroyPoolingDescriptor>;
using LrnDesc = Unique<cudnnLRNDescriptor_t, &cudnnDestroyLRNDescriptor>;

// cuBLASLt descriptors.
using MatmulDesc = Unique<cublasLtMatmulDesc_t, &cublasLtMatmulDescDestroy>;
using MatrixLayout = Unique<cublasLtMatrixLayout_t, &cublasLtMatrixLayoutDestroy>;
using MatmulPreference = Unique<cublasLtMatmulPreference_t, &cublasLtMatmulPreferenceDestroy>;

inline CudnnHandle make_cudnn_handle(CallSite at = {}) {
  return make_resource<CudnnHandle>(&cudnnCreate, {"cudnnCreate", at.file, at.line});
}
inline CublasLtHandle make_cublaslt_handle(CallSite at = {}) {
  return make_resource<CublasLtHandle>(&cublasLtCreate, {"cublasLtCreate", at.file, at.line});
}
inline Stream make_stream(CallSite at = {}) {
  return make_resource<Stream>(&cudaStreamCreateWithFlags, {"cudaStreamCreateWithFlags", at.file, at.line},
                               cudaStreamNonBlocking);
}
inline Event make_event(CallSite at = {}) {
  return make_resource<Event>(&cudaEventCreateWithFlags, {"cudaEventCreateWithFlags", at.file, at.line},
                              cudaEventDefault);
}
inline TensorDesc make_tensor_desc(CallSite at = {}) {
  return make_resource<TensorDesc>(&cudnnCreateTensorDescriptor, {"cudnnCreateTensorDescriptor", at.file, at.line});
}

// A packed NCHW float tensor descriptor for the legacy API; `dtype` stays a parameter for fp16 later.
TensorDesc make_nchw_desc(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                          cudnnDataType_t dtype = CUDNN_DATA_FLOAT, CallSite at = {});

}  // namespace kiln::gpu
