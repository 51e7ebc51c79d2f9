// The activation formulas of the GPU kernels, shared by the float32 and fp16 kernels; the same as the
// CPU reference (layers/activation/activation.cpp).
#pragma once

#include "layers/activation/activation.h"

namespace kiln::gpu {

__device__ inline float activate(float v, int kind, float alpha) {
  switch (static_cast<ActivationKind>(kind)) {
    case ActivationKind::Relu:
      return v < 0.0f ? 0.0f : v;
    case ActivationKind::LeakyRelu:
      return v > 0.0f ? v : v * alpha;
    case ActivationKind::Sigmoid:
      return 1.0f / (1.0f + expf(-v));
    case ActivationKind::Tanh:
      return tanhf(v);
    case ActivationKind::Elu:
      return v > 0.0f ? v : alpha * expm1f(v);
  }
  return v;
}

}  // namespace kiln::gpu
