// The one family of status checks for CUDA runtime, cuDNN and cuBLAS/cuBLASLt calls.
//
//   KILN_CUDA_CHECK(cudaMalloc(&p, n));      // throws kiln::CudaError
//   KILN_CUDNN_CHECK(cudnnCreate(&h));       // throws kiln::CudnnError
//   KILN_CUBLAS_CHECK(cublasLtCreate(&lt));  // throws kiln::CublasError
//
// Each macro evaluates its argument exactly once and, on failure, throws the library's typed error
// carrying the status, its text, the expression, file:line and the layer named by the innermost
// LayerScope on this thread (if any). All three come from one template, check_status<Status>, and a
// macro given the wrong library's status does not compile.
//
// The log-only twins (KILN_CUDA_LOG, ...) print the same message to stderr and return whether the call
// succeeded; destructors and deleters use them because they must never throw.
#pragma once

#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

#include "base/errors.h"
#include "base/fault_injection.h"

namespace kiln::gpu {

// Names the layer being built or run on this thread for the errors thrown meanwhile. Scopes nest;
// `name` must outlive the scope. Not movable: it is a stack guard.
class LayerScope {
 public:
  explicit LayerScope(const std::string& name) noexcept;
  ~LayerScope();
  LayerScope(const LayerScope&) = delete;
  LayerScope& operator=(const LayerScope&) = delete;

 private:
  const std::string* previous_;
};

// The innermost LayerScope's name on this thread; empty when none.
const std::string& current_layer() noexcept;

// What each library's status means. Specialised for cudaError_t, cudnnStatus_t and cublasStatus_t.
template <class Status>
struct StatusTraits;

template <>
struct StatusTraits<cudaError_t> {
  using Error = CudaError;
  static constexpr const char* library = "CUDA";
  static bool ok(cudaError_t s) { return s == cudaSuccess; }
  static const char* name(cudaError_t s) { return cudaGetErrorString(s); }
  static std::string text(cudaError_t s);
  // A failed runtime call also leaves its error as the thread's "last error", which the next
  // kernel-launch check (cudaGetLastError) would report against an innocent layer: clear it.
  static void clear_last_error() { (void)cudaGetLastError(); }
  static constexpr cudaError_t injected = cudaErrorUnknown;  // base/fault_injection.h
};

template <>
struct StatusTraits<cudnnStatus_t> {
  using Error = CudnnError;
  static constexpr const char* library = "cuDNN";
  static bool ok(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS; }
  static const char* name(cudnnStatus_t s) { return cudnnGetErrorString(s); }
  static std::string text(cudnnStatus_t s);  // the status name plus cuDNN's last error message, if any
  static void clear_last_error() {}
  static constexpr cudnnStatus_t injected = CUDNN_STATUS_INTERNAL_ERROR;
};

template <>
struct StatusTraits<cublasStatus_t> {
  using Error = CublasError;
  static constexpr const char* library = "cuBLAS";
  static bool ok(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }
  static const char* name(cublasStatus_t s) { return cublasGetStatusName(s); }
  static std::string text(cublasStatus_t s);
  static void clear_last_error() {}
  static constexpr cublasStatus_t injected = CUBLAS_STATUS_INTERNAL_ERROR;
};

std::string source_location(const char* file, int line);

// Where a kiln function was called from, for its errors: as a defaulted last parameter
// (`CallSite at = {}`) the builtins are evaluated at the caller, so a failure reports the caller's
// file:line instead of the helper's (GCC and Clang, and nvcc's front end, provide them).
struct CallSite {
  CallSite(const char* file_ = __builtin_FILE(), int line_ = __builtin_LINE()) : file(file_), line(line_) {}
  const char* file;
  int line;
};
// Prints one line to stderr without allocating.
void log_library_failure(const char* library, int status, const char* name, const char* call, const char* file,
                         int line) noexcept;

// The failure path, out of line of the checks so that a successful call builds no string.
template <class Status>
[[noreturn]] void throw_status(Status status, const std::string& call, const char* file, int line) {
  using T = StatusTraits<Status>;
  T::clear_last_error();
  throw typename T::Error(T::library, static_cast<int>(status), T::text(status), call, source_location(file, line),
                          current_layer());
}

// `call` is the expression text (the macros pass #expr): nothing is allocated unless the call failed.
// A fault armed at FaultSite::LibraryCall (base/fault_injection.h) turns a successful call into the
// library's internal-error status, so tests reach every failure path.
template <class Status>
void check_status(Status status, const char* call, const char* file, int line) {
  if (!StatusTraits<Status>::ok(status)) throw_status(status, std::string(call), file, line);
  if (inject_fault(FaultSite::LibraryCall)) {
    throw_status(StatusTraits<Status>::injected, std::string(call) + " (injected fault)", file, line);
  }
}

// For call descriptions that are themselves built lazily by the caller after a failure, or that
// callers already hold as strings (load-time paths).
template <class Status>
void check_status(Status status, const std::string& call, const char* file, int line) {
  if (!StatusTraits<Status>::ok(status)) throw_status(status, call, file, line);
  if (inject_fault(FaultSite::LibraryCall)) throw_status(StatusTraits<Status>::injected, call + " (injected fault)", file, line);
}

// Never throws; returns true on success.
template <class Status>
bool log_status(Status status, const char* call, const char* file, int line) noexcept {
  using T = StatusTraits<Status>;
  if (T::ok(status)) return true;
  T::clear_last_error();
  log_library_failure(T::library, static_cast<int>(status), T::name(status), call, file, line);
  return false;
}

}  // namespace kiln::gpu

#define KILN_GPU_CHECK_AS_(Status, expr) ::kiln::gpu::check_status<Status>((expr), #expr, __FILE__, __LINE__)
#define KILN_GPU_LOG_AS_(Status, expr) ::kiln::gpu::log_status<Status>((expr), #expr, __FILE__, __LINE__)

#define KILN_CUDA_CHECK(expr) KILN_GPU_CHECK_AS_(cudaError_t, expr)
#define KILN_CUDNN_CHECK(expr) KILN_GPU_CHECK_AS_(cudnnStatus_t, expr)
#define KILN_CUBLAS_CHECK(expr) KILN_GPU_CHECK_AS_(cublasStatus_t, expr)

#define KILN_CUDA_LOG(expr) KILN_GPU_LOG_AS_(cudaError_t, expr)
#define KILN_CUDNN_LOG(expr) KILN_GPU_LOG_AS_(cudnnStatus_t, expr)
#define KILN_CUBLAS_LOG(expr) KILN_GPU_LOG_AS_(cublasStatus_t, expr)
