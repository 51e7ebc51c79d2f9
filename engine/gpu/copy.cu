#include "engine/gpu/copy.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/fast_divmod.h"
#include "engine/gpu/kernel_util.cuh"

namespace kiln::gpu {

namespace {

// The iteration space of a copy: four dimensions in dst's memory order, innermost last, with each
// side's strides; `channel_dim` says which of the four is the channel dimension (for the zero fill).
struct CopyBox {
  std::int64_t extent[4];
  std::int64_t src_stride[4];
  std::int64_t dst_stride[4];
  int channel_dim;
  std::int64_t src_channels;
};

CopyBox box_of(const TensorView& src, const TensorView& dst) {
  // Dimensions as (n, c, h, w) indices in dst's memory order.
  const int order_nhwc[4] = {0, 2, 3, 1};
  const int order_nchw[4] = {0, 1, 2, 3};
  const int* order = dst.channels_inner() ? order_nhwc : order_nchw;
  const std::int64_t extent[4] = {dst.n, dst.cs, dst.h, dst.w};
  const std::int64_t s_src[4] = {src.sn, src.sc, src.sh, src.sw};
  const std::int64_t s_dst[4] = {dst.sn, dst.sc, dst.sh, dst.sw};
  CopyBox b{};
  for (int k = 0; k < 4; ++k) {
    b.extent[k] = extent[order[k]];
    b.src_stride[k] = s_src[order[k]];
    b.dst_stride[k] = s_dst[order[k]];
    if (order[k] == 1) b.channel_dim = k;
  }
  b.src_channels = src.c;
  return b;
}

// Reads src at box index `idx` (or 0 past its channels) into dst: one element, or (V > 1) 16 bytes.
template <class In, class Out, int V>
__device__ __forceinline__ void copy_one(const In* src, Out* dst, std::int64_t s, std::int64_t d, bool real) {
  if constexpr (V == 1) {
    dst[d] = from_float<Out>(real ? to_float(src[s]) : 0.0f);
  } else {
    // One element type (the launcher ensures it): a 16-byte move, or 16 zero bytes.
    uint4 u = make_uint4(0, 0, 0, 0);
    if (real) u = *reinterpret_cast<const uint4*>(src + s);
    *reinterpret_cast<uint4*>(dst + d) = u;
  }
}

// V elements per thread along the innermost dimension (V = 1: any strides). 64-bit indices.
template <class In, class Out, int V>
__global__ void copy_kernel(const In* src, Out* dst, CopyBox b, std::int64_t vectors) {
  const std::int64_t inner = b.extent[3] / V;
  KILN_GRID_STRIDE(i, vectors) {
    std::int64_t idx[4];
    std::int64_t rest = i;
    idx[3] = (rest % inner) * V;
    rest /= inner;
    idx[2] = rest % b.extent[2];
    rest /= b.extent[2];
    idx[1] = rest % b.extent[1];
    idx[0] = rest / b.extent[1];
    std::int64_t s = 0, d = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      s += idx[k] * b.src_stride[k];
      d += idx[k] * b.dst_stride[k];
    }
    copy_one<In, Out, V>(src, dst, s, d, idx[b.channel_dim] < b.src_channels);
  }
}

// The same when every index and offset fits in 31 bits (nearly every activation): 32-bit arithmetic and
// divisions by FastDivmod, several times cheaper than 64-bit division, which made the boundary
// conversions compute-bound.
struct SmallCopyBox {
  FastDivmod by[3];  // extents 3 (in vectors), 2, 1
  std::int32_t src_stride[4];
  std::int32_t dst_stride[4];
  int channel_dim;
  std::int32_t src_channels;
};

template <class In, class Out, int V>
__global__ void copy_kernel_small(const In* src, Out* dst, SmallCopyBox b, std::uint32_t vectors) {
  for (std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < vectors; i += gridDim.x * blockDim.x) {
    std::uint32_t idx[4];
    std::uint32_t rest = 0;
    b.by[0].divmod(i, rest, idx[3]);
    idx[3] *= V;
    b.by[1].divmod(rest, rest, idx[2]);
    b.by[2].divmod(rest, idx[0], idx[1]);
    std::int32_t s = 0, d = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      s += static_cast<std::int32_t>(idx[k]) * b.src_stride[k];
      d += static_cast<std::int32_t>(idx[k]) * b.dst_stride[k];
    }
    copy_one<In, Out, V>(src, dst, s, d, static_cast<std::int32_t>(idx[b.channel_dim]) < b.src_channels);
  }
}

// The box in 32-bit form when it fits: the iteration space and the largest offset on either side stay
// below 2^31.
bool fits_small(const CopyBox& b, std::int64_t total) {
  constexpr std::int64_t kLimit = std::int64_t{1} << 31;
  if (total >= kLimit) return false;
  std::int64_t src_max = 0, dst_max = 0;
  for (int k = 0; k < 4; ++k) {
    if (b.src_stride[k] < 0 || b.dst_stride[k] < 0) return false;
    src_max += (b.extent[k] - 1) * b.src_stride[k];
    dst_max += (b.extent[k] - 1) * b.dst_stride[k];
  }
  return src_max + 16 < kLimit && dst_max + 16 < kLimit;
}

SmallCopyBox small_box(const CopyBox& b, int v) {
  SmallCopyBox s{};
  s.by[0] = FastDivmod(static_cast<std::uint32_t>(b.extent[3] / v));
  s.by[1] = FastDivmod(static_cast<std::uint32_t>(b.extent[2]));
  s.by[2] = FastDivmod(static_cast<std::uint32_t>(b.extent[1]));
  for (int k = 0; k < 4; ++k) {
    s.src_stride[k] = static_cast<std::int32_t>(b.src_stride[k]);
    s.dst_stride[k] = static_cast<std::int32_t>(b.dst_stride[k]);
  }
  s.channel_dim = b.channel_dim;
  s.src_channels = static_cast<std::int32_t>(std::min<std::int64_t>(b.src_channels, INT32_MAX));
  return s;
}

// True when the 16-byte path applies: one element type, the innermost dimension contiguous on both
// sides and a multiple of the vector, every other stride a multiple of it, both pointers aligned,
// and (innermost channels) whole vectors either real or zero.
bool vectorizable(const TensorView& src, const TensorView& dst, const CopyBox& b) {
  if (src.type != dst.type) return false;
  const std::int64_t v = src.type == ElementType::F16 ? 8 : 4;
  if (b.src_stride[3] != 1 || b.dst_stride[3] != 1 || b.extent[3] % v != 0) return false;
  for (int k = 0; k < 3; ++k)
    if (b.src_stride[k] % v != 0 || b.dst_stride[k] % v != 0) return false;
  if (b.channel_dim == 3 && b.src_channels % v != 0) return false;
  return aligned16(src.data) && aligned16(dst.data);
}

template <class In, class Out, int V>
void launch_with_width(const In* s, Out* d, const CopyBox& b, std::int64_t total, cudaStream_t stream) {
  const std::int64_t vectors = total / V;
  if (fits_small(b, total)) {
    copy_kernel_small<In, Out, V><<<grid_for(vectors), kThreads, 0, stream>>>(s, d, small_box(b, V),
                                                                             static_cast<std::uint32_t>(vectors));
  } else {
    copy_kernel<In, Out, V><<<grid_for(vectors), kThreads, 0, stream>>>(s, d, b, vectors);
  }
  KILN_CUDA_CHECK(cudaGetLastError());
}

template <class In, class Out>
void launch_typed(const TensorView& src, const TensorView& dst, const CopyBox& b, bool vector, cudaStream_t stream) {
  const std::int64_t total = b.extent[0] * b.extent[1] * b.extent[2] * b.extent[3];
  const auto* s = static_cast<const In*>(src.data);
  auto* d = static_cast<Out*>(dst.data);
  if constexpr (std::is_same_v<In, Out>) {
    if (vector) {
      launch_with_width<In, Out, kVec<In>>(s, d, b, total, stream);
      return;
    }
  }
  launch_with_width<In, Out, 1>(s, d, b, total, stream);
}

}  // namespace

void launch_copy(const TensorView& src, const TensorView& dst, cudaStream_t stream) {
  if (src.n != dst.n || src.h != dst.h || src.w != dst.w) {
    throw UsageError("launch_copy: source [" + std::to_string(src.n) + ", " + std::to_string(src.h) + ", " +
                     std::to_string(src.w) + "] and destination [" + std::to_string(dst.n) + ", " +
                     std::to_string(dst.h) + ", " + std::to_string(dst.w) + "] differ in batch or positions");
  }
  if (dst.stored_elements() == 0) return;
  const CopyBox b = box_of(src, dst);
  const bool vector = vectorizable(src, dst, b);
  with_element_type(src.type, [&](auto in) {
    with_element_type(dst.type, [&](auto out) {
      launch_typed<decltype(in), decltype(out)>(src, dst, b, vector, stream);
    });
  });
}

}  // namespace kiln::gpu
