// Launchers of kiln's fp16 kernels (Precision::Fp16; Note [fp16 layout] in engine/gpu/layout.h). Data
// pointers are IEEE half (`void*`, so host code needs no CUDA half type); rank-4 tensors are NHWC with
// `cs` stored channels (a multiple of 8), of which the first `c` are real. Every kernel computes in
// float, rounds once to half and writes the pad channels (0 unless stated). Each launches on `stream`,
// checks the launch (naming the current layer) and returns without synchronizing. Where counts allow,
// threads move 8 halves (16 bytes) at a time; arena blocks are 256-byte aligned, so that is legal.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/gpu/layout.h"
#include "layers/params.h"

namespace kiln::gpu {

// Boundary: float32 in logical order (NCHW) <-> half stored (StoredDims d: n, c, hw, cs). to_stored
// zero-fills the pad channels.
void launch_to_stored_f16(const float* x, void* y, const StoredDims& d, cudaStream_t stream);
void launch_from_stored_f16(const void* x, float* y, const StoredDims& d, cudaStream_t stream);

// y[i] = act(x[i] * scale[c] + shift[c]) over `total` stored elements, c = i % cs. scale / shift are
// float32 vectors of cs entries (pads 0) or null (1 / 0); act may be null. x may equal y. Pads become
// act(shift) (finite).
void launch_channel_affine_act_f16(const void* x, void* y, const float* scale, const float* shift,
                                   std::int64_t total, std::int64_t cs, const ActivationParams* act,
                                   cudaStream_t stream);

// y = inputs[0] + ... (float accumulation, left to right); y may equal inputs[0].
void launch_add_f16(const void* const* inputs, int count, void* y, std::int64_t n, cudaStream_t stream);

// NHWC nearest upsampling by integer factors (cs stored channels, pads copied).
void launch_upsample_nearest_f16(const void* x, void* y, std::int64_t n, std::int64_t h, std::int64_t w,
                                 std::int64_t cs, std::int64_t sh, std::int64_t sw, cudaStream_t stream);

// NHWC (cs stored) -> packed NCHW order [n][c][h][w] (flatten before linear, as PyTorch flattens).
void launch_nhwc_to_nchw_f16(const void* x, void* y, std::int64_t n, std::int64_t c, std::int64_t hw, std::int64_t cs,
                             cudaStream_t stream);

// NHWC pooling with the CPU reference's semantics (padding never wins a max; average counting the
// padding or not). x [n, h, w, cs] -> y [n, oh, ow, cs].
struct PoolShapeF16 {
  std::int64_t n, h, w, cs, oh, ow;
};
void launch_pool_f16(const void* x, void* y, const PoolShapeF16& s, const PoolParams& p, cudaStream_t stream);

// Softmax over the first c of cs channels at each of `positions` positions (NHWC, or [N, C] with
// cs = c); pads 0. In place safe.
void launch_softmax_f16(const void* x, void* y, std::int64_t positions, std::int64_t c, std::int64_t cs,
                        cudaStream_t stream);

// PyTorch's LocalResponseNorm across the first c of cs channels (window c - size/2 .. c + (size-1)/2).
void launch_lrn_f16(const void* x, void* y, std::int64_t positions, std::int64_t c, std::int64_t cs, const LrnParams& p,
                    cudaStream_t stream);

}  // namespace kiln::gpu
