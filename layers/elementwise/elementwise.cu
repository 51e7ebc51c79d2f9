#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/elementwise/elementwise_kernels.h"

namespace kiln::gpu {

namespace {

// An operand as a thread reads it: V lanes of y's innermost dimension at a time.
struct LaneOperand {
  TensorView v;
  float value = 0.0f;
  std::int64_t step = 0;  // elements between the operand's values for consecutive lanes (0: one value)
  bool constant = false;  // `value` for every element
  bool vector = false;    // one 16-byte load: laid out like y along the lanes, aligned
};

template <class E, int V>
__device__ __forceinline__ void load_lanes(const LaneOperand& o, std::int64_t at, int valid, float (&f)[V]) {
  const E* p = static_cast<const E*>(o.v.data) + at;
  if constexpr (V == kVec<E>) {
    if (o.vector) {
      load_vec<E>(p, f);
      return;
    }
  }
  if (o.step == 0) {
    const float x = valid > 0 ? to_float(p[0]) : 0.0f;
#pragma unroll
    for (int j = 0; j < V; ++j) f[j] = x;
    return;
  }
#pragma unroll
  for (int j = 0; j < V; ++j) f[j] = j < valid ? to_float(p[j * o.step]) : 0.0f;
}

// `valid`: the lanes that are real channels; the others (pads) are neither read nor computed.
template <int V>
__device__ __forceinline__ void load_operand(const LaneOperand& o, const Coord& k, int valid, float (&f)[V]) {
  if (o.constant) {
#pragma unroll
    for (int j = 0; j < V; ++j) f[j] = o.value;
    return;
  }
  const std::int64_t at = offset_of(o.v, k.n, k.c, k.h, k.w);
  if (o.v.type == ElementType::F16) {
    load_lanes<__half, V>(o, at, valid, f);
  } else {
    load_lanes<float, V>(o, at, valid, f);
  }
}

template <class T, ArithOp Op, int V, class Coords>
__global__ void arith_kernel(LaneOperand a, LaneOperand b, TensorView y, Coords coords, std::int64_t vectors) {
  T* out = static_cast<T*>(y.data);
  const bool on_channels = y.channels_inner();
  KILN_GRID_STRIDE(i, vectors) {
    const Coord k = coords(i * V);
    const std::int64_t real = on_channels ? y.c - k.c : (k.c < y.c ? V : 0);
    const int valid = real <= 0 ? 0 : (real >= V ? V : static_cast<int>(real));
    float fa[V], fb[V], r[V];
    load_operand<V>(a, k, valid, fa);
    load_operand<V>(b, k, valid, fb);
#pragma unroll
    for (int j = 0; j < V; ++j) r[j] = j < valid ? arith<Op>(fa[j], fb[j]) : 0.0f;
    store_n<T, V>(out + i * V, r);
  }
}

// The vector flag holds only for an operand of y's element type that runs along the lanes exactly as y
// does, with every stride a multiple of the vector (so each load is aligned) and, along channels, y's
// stored channels (so the pad lanes it loads exist; their values are discarded).
LaneOperand lane_operand(const ArithOperand& o, const TensorView& y, bool on_channels, bool vector_path, int vec) {
  LaneOperand l;
  l.v = o.v;
  l.value = o.value;
  l.constant = o.v.data == nullptr;
  if (l.constant) return l;
  l.step = on_channels ? o.v.sc : o.v.sw;
  const auto multiple = [vec](std::int64_t s) { return s % vec == 0; };
  const bool strides = on_channels ? multiple(o.v.sn) && multiple(o.v.sh) && multiple(o.v.sw) && o.v.cs == y.cs
                                   : multiple(o.v.sn) && multiple(o.v.sc) && multiple(o.v.sh) && o.v.w == y.w;
  l.vector = vector_path && o.v.type == y.type && l.step == 1 && strides && aligned16(o.v.data);
  return l;
}

template <class T, int V, class Coords>
void launch_typed(ArithOp op, const LaneOperand& a, const LaneOperand& b, const TensorView& y, const Coords& coords,
                  std::int64_t items, cudaStream_t stream) {
  const unsigned grid = grid_for(items);
  switch (op) {
    case ArithOp::Add:
      arith_kernel<T, ArithOp::Add, V><<<grid, kThreads, 0, stream>>>(a, b, y, coords, items);
      break;
    case ArithOp::Sub:
      arith_kernel<T, ArithOp::Sub, V><<<grid, kThreads, 0, stream>>>(a, b, y, coords, items);
      break;
    case ArithOp::Mul:
      arith_kernel<T, ArithOp::Mul, V><<<grid, kThreads, 0, stream>>>(a, b, y, coords, items);
      break;
    case ArithOp::Div:
      arith_kernel<T, ArithOp::Div, V><<<grid, kThreads, 0, stream>>>(a, b, y, coords, items);
      break;
  }
  KILN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void launch_arith(ArithOp op, const ArithOperand& a, const ArithOperand& b, const TensorView& y, cudaStream_t stream) {
  if (!y.packed()) throw UsageError("launch_arith: the output must be a packed view");
  const std::int64_t n = y.stored_elements();
  if (n == 0) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kV = kVec<T>;
    const bool on_channels = y.channels_inner();
    // A vector of y never straddles a row (NCHW) or a position (NHWC): the coordinates of its first
    // element give every lane's.
    const bool vector_path = aligned16(y.data) && (on_channels ? y.cs % kV == 0 : y.sw == 1 && y.w % kV == 0);
    const LaneOperand la = lane_operand(a, y, on_channels, vector_path, kV);
    const LaneOperand lb = lane_operand(b, y, on_channels, vector_path, kV);
    with_coords(y, [&](const auto& coords) {
      if (vector_path) {
        launch_typed<T, kV>(op, la, lb, y, coords, n / kV, stream);
      } else {
        launch_typed<T, 1>(op, la, lb, y, coords, n, stream);
      }
    });
  });
}

}  // namespace kiln::gpu
