#include "engine/gpu/check.h"

#include <cstdio>

namespace kiln::gpu {

namespace {
thread_local const std::string* t_layer = nullptr;
const std::string kNoLayer;
}  // namespace

LayerScope::LayerScope(const std::string& name) noexcept : previous_(t_layer) { t_layer = &name; }
LayerScope::~LayerScope() { t_layer = previous_; }

const std::string& current_layer() noexcept { return t_layer ? *t_layer : kNoLayer; }

std::string StatusTraits<cudaError_t>::text(cudaError_t s) {
  return std::string(cudaGetErrorName(s)) + ": " + cudaGetErrorString(s);
}

std::string StatusTraits<cudnnStatus_t>::text(cudnnStatus_t s) {
  std::string out = cudnnGetErrorString(s);
  // cuDNN keeps a per-thread description of the last failure (which attribute, which check); it is
  // often the only clue to why a backend descriptor was refused.
  char detail[1024] = {};
  cudnnGetLastErrorString(detail, sizeof(detail));
  if (detail[0] != '\0') out += std::string(": ") + detail;
  return out;
}

std::string StatusTraits<cublasStatus_t>::text(cublasStatus_t s) {
  return std::string(cublasGetStatusName(s)) + ": " + cublasGetStatusString(s);
}

std::string source_location(const char* file, int line) { return std::string(file) + ":" + std::to_string(line); }

void log_library_failure(const char* library, int status, const char* name, const char* call, const char* file,
                         int line) noexcept {
  std::fprintf(stderr, "kiln: %s error %d (%s) ignored in cleanup: %s at %s:%d\n", library, status, name, call, file,
               line);
}

}  // namespace kiln::gpu
