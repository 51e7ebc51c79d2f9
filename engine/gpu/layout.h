// How activations and weights lie in device memory for each Precision (internal to kiln_gpu).
//
// Note [fp16 layout]
// Fp32 / Tf32: every activation is float32, packed in the graph's logical order (NCHW, NC, ...).
// Fp16: every activation is IEEE half.
//  - A rank-4 tensor [N, C, H, W] is stored channels-last, NHWC, with its channels zero-padded to a
//    multiple of 8 (`stored_channels`): element (n, c, h, w) lives at ((n*H + h)*W + w)*Cs + c. Tensor
//    cores want NHWC half with channel counts that are multiples of 8, and cuDNN does not pad NHWC itself.
//    The pad channels hold finite values (every op writes them, mostly 0; an activation maps them to
//    act(0)); every convolution filter is zero on its padded input channels, so pads never reach a real
//    channel, and ops over channels (softmax, LRN, concat, flatten) read only the first C.
//  - Any other rank (the [N, F] tensors of linear layers, say) is packed in logical order, unpadded.
//  - The batch stays outermost, so a smaller batch still uses a prefix of each arena block.
//  - Inputs and outputs reach the caller as float32 in logical order; the context converts at the
//    boundary (to_stored / from_stored kernels) and on the host for kept layer outputs.
//  - Convolution filters become KRSC ([K][R][S][C/groups]) half; K and C are padded to multiples of 8
//    for ungrouped convolutions. A grouped convolution whose channel counts are not multiples of 8 is
//    made dense: its filter is expanded to the block-diagonal [Kp][R][S][Cp] (exact, g times the work),
//    since padding per group would need another activation layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/view.h"
#include "formats/manifest.h"

namespace kiln::gpu {

constexpr std::int64_t kChannelAlign = 8;

inline std::int64_t pad_channels(std::int64_t c) { return (c + kChannelAlign - 1) / kChannelAlign * kChannelAlign; }

// True when `shape` is stored NHWC (Fp16, rank 4).
inline bool is_nhwc(const Shape& shape, Precision p) { return p == Precision::Fp16 && shape.size() == 4; }

// Bytes of one activation element.
inline std::uint64_t element_bytes(Precision p) { return p == Precision::Fp16 ? 2 : 4; }

// Channels as stored: padded for NHWC, else shape[1] (1 for rank < 2).
std::int64_t stored_channels(const Shape& shape, Precision p);

// Bytes one activation of `shape` (any batch) occupies in the arena.
std::uint64_t activation_bytes(const Shape& shape, Precision p);

// The four numbers the boundary conversions and host unpacking take: batch N, logical channels C,
// positions HW per image and stored channels Cs. A tensor that is not NHWC gets N = 1, C = Cs = elements,
// HW = 1, which makes the NHWC <-> NCHW reorder the identity.
struct StoredDims {
  std::int64_t n = 1, c = 1, hw = 1, cs = 1;
};
StoredDims stored_dims(const Shape& shape, Precision p);

// The element type activations are stored in.
inline ElementType element_type(Precision p) { return p == Precision::Fp16 ? ElementType::F16 : ElementType::F32; }

// The kernels' view (engine/gpu/view.h) of an activation of `shape` (at the batch it runs) stored at
// `data` in precision `p`'s layout. Rank 4: NCHW, or NHWC with padded channels in Fp16. Rank 2 and 3
// ([N, C] and [N, C, L]) and every other rank are packed in logical order: n = shape[0], c = shape[1]
// (1 for rank 1), the rest as w.
TensorView activation_view(void* data, const Shape& shape, Precision p);
// `shape` packed in logical order (NCHW, no padding) with elements of `type`: what activation_view
// gives for every tensor that is not NHWC; also the order fp16 flatten writes.
TensorView logical_view(void* data, const Shape& shape, ElementType type);
inline TensorView logical_view(const void* data, const Shape& shape, ElementType type) {
  return logical_view(const_cast<void*>(data), shape, type);  // kernels take their inputs as const again
}
inline TensorView activation_view(const void* data, const Shape& shape, Precision p) {
  return activation_view(const_cast<void*>(data), shape, p);  // kernels take their inputs as const again
}

// Flatten of a `input`-shaped tensor is a view in Fp16 only when the stored order already is the
// logical one: not NHWC, or H = W = 1 without padding. Otherwise it reorders (layers/flatten/flatten_gpu.cpp).
bool fp16_flatten_is_view(const Shape& input);

// A convolution filter on the device in Fp16 (see Note [fp16 layout]). `src` is the PyTorch weight shape
// [A, B, R, S] (conv2d: [out, in/groups, kh, kw]; conv_transpose2d: [in, out/groups, kh, kw], which is the
// forward filter of its data gradient with K = A).
struct FilterLayout {
  std::int64_t k = 0;       // dim 0 on the device (padded when dense)
  std::int64_t c = 0;       // channels per group on the device (padded when dense)
  std::int64_t r = 0, s = 0;
  bool dense = true;        // groups folded into one block-diagonal filter (or groups == 1)
  std::uint64_t bytes() const { return static_cast<std::uint64_t>(k * r * s * c) * 2; }
};
FilterLayout fp16_filter_layout(const Shape& src, std::int64_t groups);

// Writes the Fp16 filter (half bits) for `src_values` (float32, PyTorch order) into `dst`, which holds
// fp16_filter_layout(src, groups).bytes() bytes; padding and off-diagonal blocks are zero.
void pack_fp16_filter(const float* src_values, const Shape& src, std::int64_t groups, std::uint16_t* dst);

// A convolution filter (groups 1, PyTorch shape [K, C, R, S]) as the rows of an im2col GEMM in Fp16
// (layers/conv/im2col_gemm_gpu.h): half [pad_channels(K)][row_length], row k holding the filter of
// output k in (r, s, c) order with the logical C (no channel padding), then zeros up to row_length =
// pad_channels(R*S*C) (so every row starts 16-byte aligned). Rows of padded outputs are zero.
struct Im2colRows {
  std::int64_t rows = 0;        // pad_channels(K)
  std::int64_t row_length = 0;  // pad_channels(R * S * C)
  std::uint64_t bytes() const { return static_cast<std::uint64_t>(rows * row_length) * 2; }
};
// Zero rows when `filter` is not 4-D.
Im2colRows im2col_rows_layout(const Shape& filter);
// Writes im2col_rows_layout(filter).bytes() bytes of half bits for `values` (float32, PyTorch order).
void pack_im2col_rows(const float* values, const Shape& filter, std::uint16_t* dst);

// Host conversion of one stored activation (arena bytes) to float32 in logical order.
std::vector<float> unpack_activation(const std::byte* src, const Shape& shape, Precision p);

}  // namespace kiln::gpu
