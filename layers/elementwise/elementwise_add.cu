#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/elementwise/elementwise_kernels.h"

namespace kiln::gpu {

namespace {

constexpr int kFanIn = 8;

template <class T>
struct AddInputs {
  const T* p[kFanIn];
};

template <class T, int V>
__global__ void add_kernel(AddInputs<T> in, int count, T* y, std::int64_t vectors) {
  KILN_GRID_STRIDE(v, vectors) {
    float acc[V];
    load_n<T, V>(in.p[0] + v * V, acc);
    for (int k = 1; k < count; ++k) {
      float f[V];
      load_n<T, V>(in.p[k] + v * V, f);
#pragma unroll
      for (int j = 0; j < V; ++j) acc[j] += f[j];
    }
    store_n<T, V>(y + v * V, acc);
  }
}

}  // namespace

void launch_add(const void* const* inputs, int count, const TensorView& y, cudaStream_t stream) {
  if (!y.packed()) throw UsageError("launch_add: the output must be a packed view");
  const std::int64_t n = y.stored_elements();
  if (n == 0 || count < 1) return;
  with_element_type(y.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr int kV = kVec<T>;
    auto* ys = static_cast<T*>(y.data);
    bool vector = n % kV == 0 && aligned16(ys);
    for (int k = 0; k < count; ++k) vector = vector && aligned16(inputs[k]);
    // Beyond kFanIn inputs, later launches accumulate into y, keeping the left-to-right order.
    for (int first = 0; first < count;) {
      AddInputs<T> in{};
      int k = 0;
      if (first > 0) in.p[k++] = ys;
      while (k < kFanIn && first < count) in.p[k++] = static_cast<const T*>(inputs[first++]);
      if (vector) {
        add_kernel<T, kV><<<grid_for(n / kV), kThreads, 0, stream>>>(in, k, ys, n / kV);
      } else {
        add_kernel<T, 1><<<grid_for(n), kThreads, 0, stream>>>(in, k, ys, n);
      }
      KILN_CUDA_CHECK(cudaGetLastError());
    }
  });
}

}  // namespace kiln::gpu
