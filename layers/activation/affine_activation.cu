#include "layers/activation/affine_activation.h"

#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/activation/activate.cuh"

namespace kiln::gpu {

namespace {

struct Activation {
  int on;
  int kind;
  float alpha;
};

// Each thread takes V consecutive elements. ChannelsInner (NHWC, [N, F]): their channels are
// consecutive (cs % V == 0); otherwise (NCHW) they share one channel (sc % V == 0).
template <class T, int V, bool ChannelsInner, class Coords>
__global__ void affine_activation_kernel(const T* x, T* y, const float* scale, const float* shift,
                                         std::int64_t vectors, Coords coords, Activation a) {
  KILN_GRID_STRIDE(v, vectors) {
    const std::int64_t i = v * V;
    float f[V];
    load_n<T, V>(x + i, f);
    const std::int64_t c0 = coords.channel(i);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const std::int64_t c = ChannelsInner ? c0 + k : c0;
      if (scale) f[k] *= scale[c];
      if (shift) f[k] += shift[c];
      if (a.on) f[k] = activate(f[k], a.kind, a.alpha);
    }
    store_n<T, V>(y + i, f);
  }
}

template <class T, int V>
void launch_typed(const TensorView& x, const TensorView& y, const float* scale, const float* shift, Activation a,
                  cudaStream_t stream) {
  const std::int64_t vectors = x.stored_elements() / V;
  const auto* xs = static_cast<const T*>(x.data);
  auto* ys = static_cast<T*>(y.data);
  with_coords(x, [&](auto coords) {
    if (x.channels_inner()) {
      affine_activation_kernel<T, V, true>
          <<<grid_for(vectors), kThreads, 0, stream>>>(xs, ys, scale, shift, vectors, coords, a);
    } else {
      affine_activation_kernel<T, V, false>
          <<<grid_for(vectors), kThreads, 0, stream>>>(xs, ys, scale, shift, vectors, coords, a);
    }
    KILN_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace

void launch_affine_activation(const TensorView& x, const TensorView& y, const float* scale, const float* shift,
                              const ActivationParams* act, cudaStream_t stream) {
  if (!x.packed() || !y.packed() || x.type != y.type || x.stored_elements() != y.stored_elements() || x.cs != y.cs ||
      x.sc != y.sc) {
    throw UsageError("launch_affine_activation: input and output must be packed views of one shape and type");
  }
  if (x.stored_elements() == 0) return;
  const Activation a{act ? 1 : 0, act ? static_cast<int>(act->kind) : 0, act ? static_cast<float>(act->alpha) : 0.0f};
  with_element_type(x.type, [&](auto tag) {
    using T = decltype(tag);
    constexpr std::int64_t kV = kVec<T>;
    const bool lanes_fit = x.channels_inner() ? x.cs % kV == 0 : x.sc % kV == 0;
    if (lanes_fit && x.stored_elements() % kV == 0 && aligned16(x.data) && aligned16(y.data)) {
      launch_typed<T, kVec<T>>(x, y, scale, shift, a, stream);
    } else {
      launch_typed<T, 1>(x, y, scale, shift, a, stream);
    }
  });
}

}  // namespace kiln::gpu
