#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/activation/activation_math.h"
#include "layers/elementwise/elementwise_kernels.h"

namespace kiln::gpu {

namespace {

constexpr int kFanIn = 8;

template <class T>
struct AddInputs {
  const T* p[kFanIn];
};

// The activation after the sum (a folded ReLU of a residual block). `padded`: y is channels-innermost with
// pad channels (c < cs), which must stay 0.
struct AddEpilogue {
  int on = 0;
  ActivationKind kind = ActivationKind::Relu;
  float alpha = 0.0f, beta = 0.0f;
  int padded = 0;
  int c = 0, cs = 1;
};

template <class T, int V>
__global__ void add_kernel(AddInputs<T> in, int count, T* y, std::int64_t vectors, AddEpilogue e) {
  KILN_GRID_STRIDE(v, vectors) {
    float acc[V];
    load_n<T, V>(in.p[0] + v * V, acc);
    for (int k = 1; k < count; ++k) {
      float f[V];
      load_n<T, V>(in.p[k] + v * V, f);
#pragma unroll
      for (int j = 0; j < V; ++j) acc[j] += f[j];
    }
    if (e.on) {
      // V consecutive elements of a channels-innermost view with cs % V == 0 (or V == 1): channels c0.. of one position.
      const int c0 = e.padded ? static_cast<int>((v * V) % e.cs) : 0;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float r = activate(acc[j], e.kind, e.alpha, e.beta, 0.0f);
        acc[j] = e.padded && c0 + j >= e.c ? 0.0f : r;
      }
    }
    store_n<T, V>(y + v * V, acc);
  }
}

}  // namespace

void launch_add(const void* const* inputs, int count, const TensorView& y, cudaStream_t stream,
                const ActivationParams* act) {
  if (!y.packed()) throw UsageError("launch_add: the output must be a packed view");
  if (act && act->kind == ActivationKind::Prelu) throw UsageError("launch_add: prelu is not an add epilogue");
  const std::int64_t n = y.stored_elements();
  if (n == 0 || count < 1) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kV = kVec<T>;
    auto* ys = static_cast<T*>(y.data);
    bool vector = n % kV == 0 && aligned16(ys);
    for (int k = 0; k < count; ++k) vector = vector && aligned16(inputs[k]);
    AddEpilogue last;
    if (act) {
      last.on = 1;
      last.kind = act->kind;
      last.alpha = static_cast<float>(act->alpha);
      last.beta = static_cast<float>(act->beta);
      last.padded = y.channels_inner() && y.cs != y.c ? 1 : 0;
      last.c = static_cast<int>(y.c);
      last.cs = static_cast<int>(y.cs);
      // A vector must not straddle two positions when pads are masked.
      vector = vector && (!last.padded || y.cs % kV == 0);
    }
    // Beyond kFanIn inputs, later launches accumulate into y, keeping the left-to-right order.
    for (int first = 0; first < count;) {
      AddInputs<T> in{};
      int k = 0;
      if (first > 0) in.p[k++] = ys;
      while (k < kFanIn && first < count) in.p[k++] = static_cast<const T*>(inputs[first++]);
      const AddEpilogue e = first == count ? last : AddEpilogue{};
      if (vector) {
        add_kernel<T, kV><<<grid_for(n / kV), kThreads, 0, stream>>>(in, k, ys, n / kV, e);
      } else {
        add_kernel<T, 1><<<grid_for(n), kThreads, 0, stream>>>(in, k, ys, n, e);
      }
      KILN_CUDA_CHECK(cudaGetLastError());
    }
  });
}

}  // namespace kiln::gpu
