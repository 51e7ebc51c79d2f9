// The activation formulas (activation.h), defined once for the CPU reference (activation.cpp) and the
// GPU kernels (affine_activation.cu: float32 and half alike, which compute in float).
//
// Each is written in float, in the order PyTorch's float32 CPU kernels evaluate it
// (aten/src/ATen/native/cpu/Activation.cpp and UnaryOpsKernel.cpp), so the CPU reference rounds as
// PyTorch does up to the ulp or two by which libm, Sleef and CUDA's expf / erff / tanhf differ.
// Comparisons, not fminf / fmaxf, do the clamping: torch.clamp keeps NaN, fminf would drop it.
#pragma once

#include <math.h>

#include "layers/activation/activation.h"

#if defined(__CUDACC__)
#define KILN_ACTIVATION_FN __host__ __device__ inline
#else
#define KILN_ACTIVATION_FN inline
#endif

namespace kiln {

KILN_ACTIVATION_FN float clamp_keeping_nan(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Activation K of v. `a`, `b`: the layer's ActivationParams alpha and beta as float; `slope`: Prelu's
// weight for v's channel (ignored by every other kind).
template <ActivationKind K>
KILN_ACTIVATION_FN float activate_as(float v, float a, float b, float slope) {
  using K_ = ActivationKind;
  if constexpr (K == K_::Relu) {
    return v < 0.0f ? 0.0f : v;
  } else if constexpr (K == K_::LeakyRelu) {
    return v > 0.0f ? v : v * a;
  } else if constexpr (K == K_::Sigmoid) {
    return 1.0f / (1.0f + expf(-v));
  } else if constexpr (K == K_::Tanh) {
    return tanhf(v);
  } else if constexpr (K == K_::Elu) {
    return v > 0.0f ? v : a * expm1f(v);
  } else if constexpr (K == K_::Relu6 || K == K_::Hardtanh) {
    return clamp_keeping_nan(v, a, b);
  } else if constexpr (K == K_::Hardswish) {
    return v * clamp_keeping_nan(v + 3.0f, 0.0f, 6.0f) / 6.0f;
  } else if constexpr (K == K_::Hardsigmoid) {
    return clamp_keeping_nan(v + 3.0f, 0.0f, 6.0f) / 6.0f;
  } else if constexpr (K == K_::Silu) {
    return v / (1.0f + expf(-v));
  } else if constexpr (K == K_::Gelu) {
    return v * 0.5f * (1.0f + erff(v * 0.70710678118654752f));  // 1/sqrt(2)
  } else if constexpr (K == K_::GeluTanh) {
    const float inner = 0.79788456080286536f * (v + 0.044715f * (v * v * v));  // sqrt(2/pi)
    return 0.5f * v * (1.0f + tanhf(inner));
  } else if constexpr (K == K_::Softplus) {
    return v * a > b ? v : log1pf(expf(v * a)) / a;  // a = beta, b = threshold
  } else if constexpr (K == K_::Mish) {
    return v * tanhf(log1pf(expf(v)));
  } else {
    static_assert(K == K_::Prelu, "every ActivationKind has a formula");
    return v > 0.0f ? v : slope * v;
  }
}

// The same with the kind chosen at run time (the GPU kernels: one branch, uniform across a launch).
KILN_ACTIVATION_FN float activate(float v, ActivationKind kind, float a, float b, float slope) {
  switch (kind) {
#define KILN_ACTIVATION_CASE(k, name) \
  case ActivationKind::k:             \
    return activate_as<ActivationKind::k>(v, a, b, slope);
    KILN_ACTIVATION_KINDS(KILN_ACTIVATION_CASE)
#undef KILN_ACTIVATION_CASE
  }
  return v;
}

}  // namespace kiln
