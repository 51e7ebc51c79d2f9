// What every kiln kernel shares (include from .cu files only): the grid size of grid-stride loops,
// the float <-> element conversions (kernels compute in float and round once), 16-byte vector loads
// and stores, and coordinates of packed views (engine/gpu/view.h).
#pragma once

#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "engine/gpu/fast_divmod.h"
#include "engine/gpu/view.h"

namespace kiln::gpu {

constexpr int kThreads = 256;

// Blocks of kThreads for a grid-stride loop over `items`: one item per thread up to a cap that keeps
// every multiprocessor busy many times over (the loop takes the rest).
inline unsigned grid_for(std::int64_t items) {
  const std::int64_t blocks = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::min<std::int64_t>(std::max<std::int64_t>(blocks, 1), 65535 * 8));
}

#define KILN_GRID_STRIDE(i, count)                                                                      \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < (count); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

template <class T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
  return __float2half_rn(v);
}

// Elements of T in 16 bytes: 4 floats or 8 halves.
template <class T>
constexpr int kVec = 16 / static_cast<int>(sizeof(T));

// `p` must be 16-byte aligned.
template <class T>
__device__ __forceinline__ void load_vec(const T* p, float (&f)[kVec<T>]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const T* e = reinterpret_cast<const T*>(&u);
#pragma unroll
  for (int k = 0; k < kVec<T>; ++k) f[k] = to_float(e[k]);
}

template <class T>
__device__ __forceinline__ void store_vec(T* p, const float (&f)[kVec<T>]) {
  uint4 u;
  T* e = reinterpret_cast<T*>(&u);
#pragma unroll
  for (int k = 0; k < kVec<T>; ++k) e[k] = from_float<T>(f[k]);
  *reinterpret_cast<uint4*>(p) = u;
}

// V elements from `p`: one, or a 16-byte vector (V == kVec<T>, `p` 16-byte aligned).
template <class T, int V>
__device__ __forceinline__ void load_n(const T* p, float (&f)[V]) {
  if constexpr (V == 1) {
    f[0] = to_float(p[0]);
  } else {
    static_assert(V == kVec<T>, "vector loads move 16 bytes");
    load_vec<T>(p, f);
  }
}

template <class T, int V>
__device__ __forceinline__ void store_n(T* p, const float (&f)[V]) {
  if constexpr (V == 1) {
    p[0] = from_float<T>(f[0]);
  } else {
    static_assert(V == kVec<T>, "vector stores move 16 bytes");
    store_vec<T>(p, f);
  }
}

inline bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// True when every access of a kernel over x and y may move 16 bytes of consecutive channels: both
// views channel-innermost (a [N, C, 1, 1] float32 view counts as such, an NCHW one with positions does
// not, so both are checked), their stored channels a multiple of the vector, both pointers aligned.
template <class T>
bool channel_vectors_fit(const TensorView& x, const TensorView& y) {
  return x.channels_inner() && y.channels_inner() && y.cs % kVec<T> == 0 && aligned16(x.data) && aligned16(y.data);
}

// The element type of a view as a C++ type: calls f(T{}) with T = float or __half.
template <class F>
void with_element_type(ElementType type, F&& f) {
  if (type == ElementType::F16) {
    f(__half{});
  } else {
    f(float{});
  }
}

struct Coord {
  std::int64_t n, c, h, w;
};

// Coordinates of memory index `i` of a packed view (channels counted up to cs), in its own order:
// n, h, w, c when the channels are innermost, else n, c, h, w.
__device__ __forceinline__ Coord coord_of(std::int64_t i, const TensorView& v) {
  Coord k;
  if (v.channels_inner()) {
    k.c = i % v.cs;
    i /= v.cs;
    k.w = i % v.w;
    i /= v.w;
    k.h = i % v.h;
    k.n = i / v.h;
  } else {
    k.w = i % v.w;
    i /= v.w;
    k.h = i % v.h;
    i /= v.h;
    k.c = i % v.cs;
    k.n = i / v.cs;
  }
  return k;
}

// Index decoders for packed views, chosen per launch by with_coords: SmallCoords divides by FastDivmod
// (every index below 2^31, the common case), WideCoords by 64-bit division. Both give coord_of's answer.
struct WideCoords {
  TensorView v;
  __device__ __forceinline__ Coord operator()(std::int64_t i) const { return coord_of(i, v); }
  // The channel of memory index i (counted up to cs).
  __device__ __forceinline__ std::int64_t channel(std::int64_t i) const {
    return v.channels_inner() ? i % v.cs : (i / v.sc) % v.cs;
  }
};

struct SmallCoords {
  explicit SmallCoords(const TensorView& view)
      : inner(static_cast<std::uint32_t>(view.channels_inner() ? view.cs : view.w)),
        middle(static_cast<std::uint32_t>(view.channels_inner() ? view.w : view.h)),
        outer(static_cast<std::uint32_t>(view.channels_inner() ? view.h : view.cs)),
        by_sc(static_cast<std::uint32_t>(view.channels_inner() ? 1 : view.sc)),
        by_cs(static_cast<std::uint32_t>(view.cs)),
        channels_inner(view.channels_inner()) {}

  __device__ __forceinline__ Coord operator()(std::int64_t index) const {
    std::uint32_t a = 0, b = 0, c = 0, rest = 0;
    inner.divmod(static_cast<std::uint32_t>(index), rest, a);
    middle.divmod(rest, rest, b);
    outer.divmod(rest, rest, c);
    Coord k;
    k.n = rest;
    if (channels_inner) {
      k.c = a, k.w = b, k.h = c;
    } else {
      k.w = a, k.h = b, k.c = c;
    }
    return k;
  }
  __device__ __forceinline__ std::int64_t channel(std::int64_t index) const {
    std::uint32_t q = 0, r = 0;
    by_cs.divmod(by_sc.div(static_cast<std::uint32_t>(index)), q, r);
    return r;
  }

  FastDivmod inner, middle, outer, by_sc, by_cs;
  bool channels_inner;
};

// Calls f(coords) with the decoder that fits `v` (packed): SmallCoords when it spans fewer than 2^31
// elements, else WideCoords.
template <class F>
void with_coords(const TensorView& v, F&& f) {
  if (v.stored_elements() < (std::int64_t{1} << 31)) {
    f(SmallCoords(v));
  } else {
    f(WideCoords{v});
  }
}

__device__ __forceinline__ std::int64_t offset_of(const TensorView& v, std::int64_t n, std::int64_t c, std::int64_t h,
                                                  std::int64_t w) {
  return n * v.sn + c * v.sc + h * v.sh + w * v.sw;
}

}  // namespace kiln::gpu
