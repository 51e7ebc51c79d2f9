// What kiln's convolution kernels (depthwise.cu, direct.cu) take besides the tensors: the window as
// ints, the bias + activation epilogue, and the output size the window gives. Include from .cu files only.
#pragma once

#include <cstdint>

#include "layers/activation/activation.h"
#include "layers/conv/conv.h"

namespace kiln::gpu {

struct ConvWindow {
  int kh, kw, sh, sw, ph, pw, dh, dw;
};

inline ConvWindow conv_window(const ConvParams& p) {
  return ConvWindow{static_cast<int>(p.kernel[0]),  static_cast<int>(p.kernel[1]),   static_cast<int>(p.stride[0]),
                    static_cast<int>(p.stride[1]),  static_cast<int>(p.padding[0]),  static_cast<int>(p.padding[1]),
                    static_cast<int>(p.dilation[0]), static_cast<int>(p.dilation[1])};
}

// The bias (null for none) and the activation (on = 0 for none) applied to each sum before its store.
struct ConvEpilogue {
  const float* bias;
  int on;
  ActivationKind kind;
  float alpha, beta;
};

inline ConvEpilogue conv_epilogue(const float* bias, const ActivationParams* act) {
  return ConvEpilogue{bias, act ? 1 : 0, act ? act->kind : ActivationKind::Relu,
                      act ? static_cast<float>(act->alpha) : 0.0f, act ? static_cast<float>(act->beta) : 0.0f};
}

// The output length of one spatial dimension: PyTorch's floor((in + 2 pad - d (k - 1) - 1) / s) + 1.
inline std::int64_t conv_out_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t pad, std::int64_t d) {
  return (in + 2 * pad - d * (k - 1) - 1) / s + 1;
}

}  // namespace kiln::gpu
