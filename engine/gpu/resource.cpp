#include "engine/gpu/resource.h"

#include <climits>
#include <cstdint>
#include <string>

namespace kiln::gpu {

TensorDesc make_nchw_desc(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, cudnnDataType_t dtype,
                          CallSite at) {
  // The legacy API takes int dimensions and strides; the element count bounds every stride.
  if (n < 1 || c < 1 || h < 1 || w < 1 || n * c * h * w > INT_MAX) {
    throw UsageError("layer " + current_layer() + " (" + source_location(at.file, at.line) + "): tensor [" + std::to_string(n) + "," + std::to_string(c) + "," +
                     std::to_string(h) + "," + std::to_string(w) +
                     "] is outside what cuDNN's legacy descriptors take (at most 2^31-1 elements)");
  }
  TensorDesc d = make_tensor_desc(at);
  check_status(cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NCHW, dtype, static_cast<int>(n), static_cast<int>(c),
                                          static_cast<int>(h), static_cast<int>(w)),
               "cudnnSetTensor4dDescriptor", at.file, at.line);
  return d;
}

}  // namespace kiln::gpu
