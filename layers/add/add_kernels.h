// The n-ary add kernel, one body for float32 and half (engine/gpu/view.h).
#pragma once

#include <cuda_runtime_api.h>

#include "engine/gpu/view.h"

namespace kiln::gpu {

// y = inputs[0] + inputs[1] + ... over every stored element of the packed view `y` (float
// accumulation, left to right like the CPU reference, rounded once per launch); each input holds y's
// shape, layout and element type; y may equal inputs[0]. More than 8 inputs take several launches,
// the later ones accumulating into y. Moves 16 bytes per thread where sizes allow. Enqueued on
// `stream`, each launch checked (naming the current layer); no synchronization.
void launch_add(const void* const* inputs, int count, const TensorView& y, cudaStream_t stream);

}  // namespace kiln::gpu
