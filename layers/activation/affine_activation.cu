#include "layers/activation/affine_activation.h"

#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/activation/activation_math.h"

namespace kiln::gpu {

namespace {

struct Activation {
  int on;
  ActivationKind kind;
  float alpha;
  float beta;
  const float* slope;  // Prelu: per channel (counted up to cs) or one shared value
  int per_channel;
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
      if (a.on) f[k] = activate(f[k], a.kind, a.alpha, a.beta, a.slope ? a.slope[a.per_channel ? c : 0] : 0.0f);
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

void launch(const TensorView& x, const TensorView& y, const float* scale, const float* shift, const Activation& a,
            cudaStream_t stream) {
  if (!x.packed() || !y.packed() || x.type != y.type || x.stored_elements() != y.stored_elements() || x.cs != y.cs ||
      x.sc != y.sc) {
    throw UsageError("launch_affine_activation: input and output must be packed views of one shape and type");
  }
  if (a.on && a.kind == ActivationKind::Prelu && a.slope == nullptr) {
    throw UsageError("launch_affine_activation: prelu needs its slopes on the device (a DeviceActivation)");
  }
  if (x.stored_elements() == 0) return;
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

}  // namespace

void launch_affine_activation(const TensorView& x, const TensorView& y, const float* scale, const float* shift,
                              const ActivationParams* act, cudaStream_t stream) {
  Activation a{0, ActivationKind::Relu, 0.0f, 0.0f, nullptr, 0};
  if (act) a = {1, act->kind, static_cast<float>(act->alpha), static_cast<float>(act->beta), nullptr, 0};
  launch(x, y, scale, shift, a, stream);
}

void launch_affine_activation(const TensorView& x, const TensorView& y, const float* scale, const float* shift,
                              const DeviceActivation& act, cudaStream_t stream) {
  const Activation a{1, act.params.kind, static_cast<float>(act.params.alpha), static_cast<float>(act.params.beta),
                     act.slope, act.per_channel ? 1 : 0};
  launch(x, y, scale, shift, a, stream);
}

}  // namespace kiln::gpu
