// The elementwise arithmetic kernels, one body each for float32 and half (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"
#include "layers/activation/activation.h"
#include "layers/elementwise/elementwise_math.h"

namespace kiln::gpu {

// y = act(inputs[0] + inputs[1] + ...) over every stored element of the packed view `y` (float
// accumulation, left to right like the CPU reference, the activation applied to the float sum and the
// result rounded once); each input holds y's shape, layout and element type; y may equal inputs[0].
// `act` null for none (prelu is not an epilogue); with one, stored pad channels of y are written 0 (an
// activation of 0 need not be 0). More than 8 inputs take several launches, the later ones accumulating
// into y and only the last applying `act`. Moves 16 bytes per thread where sizes allow. Enqueued on
// `stream`, each launch checked (naming the current layer); no synchronization.
void launch_add(const void* const* inputs, int count, const TensorView& y, cudaStream_t stream,
                const ActivationParams* act = nullptr);

// One operand of launch_arith: a strided view, read at the output's coordinates through its own strides
// (0 along every dimension where it broadcasts; its element type may differ from the output's: float
// weights under a half output), or, when `v.data` is null, the constant `value`.
struct ArithOperand {
  TensorView v;
  float value = 0.0f;
};

// y(n, c, h, w) = a(n, c, h, w) op b(n, c, h, w) for every stored element of the packed view `y`,
// computed in float (layers/elementwise/elementwise_math.h) and rounded once. Stored pad channels
// (c >= y.c, half NHWC) are written 0, so they stay finite whatever op (0 / 0) and operands; operand
// channels c >= y.c are never read (a float weight holds only the real channels). y may share memory
// with an operand that has exactly y's view (in place); a broadcast operand must not overlap y.
// Threads move 16 bytes of y along its innermost dimension (channels in NHWC and [N, C], width in NCHW)
// where sizes and alignment allow, loading each operand as a vector when it is laid out like y, as one
// value when it broadcasts along that dimension (an SE gate [N, C, 1, 1] under NCHW), else lane by
// lane. Enqueued on `stream`, checked (naming the current layer); no synchronization.
void launch_arith(ArithOp op, const ArithOperand& a, const ArithOperand& b, const TensorView& y, cudaStream_t stream);

}  // namespace kiln::gpu
