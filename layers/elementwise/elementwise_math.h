// The four arithmetic formulas of the elementwise ops (elementwise.h), defined once for the CPU
// reference (elementwise.cpp) and the GPU kernels (elementwise.cu), which compute in float as PyTorch's
// float32 kernels do; a / b is IEEE division in both (kiln's CUDA code is built without fast math).
#pragma once

#if defined(__CUDACC__)
#define KILN_ARITH_FN __host__ __device__ __forceinline__
#else
#define KILN_ARITH_FN inline
#endif

namespace kiln {

enum class ArithOp { Add, Sub, Mul, Div };

template <ArithOp Op>
KILN_ARITH_FN float arith(float a, float b) {
  if constexpr (Op == ArithOp::Add) {
    return a + b;
  } else if constexpr (Op == ArithOp::Sub) {
    return a - b;
  } else if constexpr (Op == ArithOp::Mul) {
    return a * b;
  } else {
    return a / b;
  }
}

// Its op name as model.yaml spells it.
inline const char* arith_name(ArithOp op) {
  switch (op) {
    case ArithOp::Add:
      return "add";
    case ArithOp::Sub:
      return "sub";
    case ArithOp::Mul:
      return "mul";
    case ArithOp::Div:
      return "div";
  }
  return "elementwise";
}

}  // namespace kiln
