#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/kernel_util.cuh"
#include "layers/activation/activation_math.h"
#include "layers/conv/deconv_scatter_kernels.h"

namespace kiln::gpu {

namespace {

struct Epilogue {
  const float* bias;
  int on;
  ActivationKind kind;
  float alpha, beta;
};

__device__ __forceinline__ float finish(float v, std::int64_t c, const Epilogue& e) {
  if (e.bias) v += e.bias[c];
  return e.on ? activate(v, e.kind, e.alpha, e.beta, 0.0f) : v;
}

struct Dims {
  std::int64_t c, h, w, kh, kw;  // real channels (NCHW) or stored channels (NHWC), input h x w, kernel
};

// Float32 NCHW: one thread per output element, in output order (coalesced stores; the loads walk two
// or more planes of the product in step).
__global__ void scatter_nchw(const float* t, float* y, Dims d, std::int64_t total, Epilogue e) {
  const std::int64_t ow_n = d.w * d.kw, oh_n = d.h * d.kh;
  KILN_GRID_STRIDE(o, total) {
    std::int64_t r = o;
    const std::int64_t ow = r % ow_n;
    r /= ow_n;
    const std::int64_t oh = r % oh_n;
    r /= oh_n;
    const std::int64_t c = r % d.c;
    const std::int64_t n = r / d.c;
    const std::int64_t hh = oh / d.kh, i = oh - hh * d.kh, ww = ow / d.kw, j = ow - ww * d.kw;
    const std::int64_t src = ((((n * d.c + c) * d.kh + i) * d.kw + j) * d.h + hh) * d.w + ww;
    y[o] = finish(t[src], c, e);
  }
}

// Half NHWC: one thread per 8 stored channels of an output position (16-byte loads and stores).
__global__ void scatter_nhwc(const __half* t, __half* y, Dims d, std::int64_t vectors, Epilogue e) {
  constexpr int V = kVec<__half>;
  const std::int64_t per_pixel = d.c / V, ow_n = d.w * d.kw, oh_n = d.h * d.kh;
  KILN_GRID_STRIDE(v, vectors) {
    const std::int64_t cv = v % per_pixel;
    std::int64_t r = v / per_pixel;
    const std::int64_t ow = r % ow_n;
    r /= ow_n;
    const std::int64_t oh = r % oh_n;
    const std::int64_t n = r / oh_n;
    const std::int64_t hh = oh / d.kh, i = oh - hh * d.kh, ww = ow / d.kw, j = ow - ww * d.kw;
    const std::int64_t src = ((((n * d.h + hh) * d.w + ww) * d.kh + i) * d.kw + j) * d.c + cv * V;
    float f[V];
    load_n<__half, V>(t + src, f);
#pragma unroll
    for (int k = 0; k < V; ++k) f[k] = finish(f[k], cv * V + k, e);
    store_n<__half, V>(y + v * V, f);
  }
}

}  // namespace

void launch_deconv_scatter(const void* product, const TensorView& y, std::int64_t h, std::int64_t w, std::int64_t kh,
                           std::int64_t kw, const float* bias, const ActivationParams* act, cudaStream_t stream) {
  const bool nhwc = y.type == ElementType::F16;  // half rank-4 activations are always NHWC (Note [fp16 layout])
  const bool layout_ok = nhwc ? y.cs % kVec<__half> == 0 && (y.channels_inner() || y.positions() == 1) : y.cs == y.c;
  if (!y.packed() || y.h != h * kh || y.w != w * kw || !layout_ok) {
    throw UsageError("launch_deconv_scatter: the output view does not fit the product's layout");
  }
  if (act && act->kind == ActivationKind::Prelu) {
    throw UsageError("launch_deconv_scatter: prelu is not a convolution epilogue");
  }
  Epilogue e{bias, act ? 1 : 0, act ? act->kind : ActivationKind::Relu, act ? static_cast<float>(act->alpha) : 0.0f,
             act ? static_cast<float>(act->beta) : 0.0f};
  const std::int64_t total = y.stored_elements();
  if (total == 0) return;
  if (nhwc) {
    const Dims d{y.cs, h, w, kh, kw};
    const std::int64_t vectors = total / kVec<__half>;
    scatter_nhwc<<<grid_for(vectors), kThreads, 0, stream>>>(static_cast<const __half*>(product),
                                                             static_cast<__half*>(y.data), d, vectors, e);
  } else {
    const Dims d{y.c, h, w, kh, kw};
    scatter_nchw<<<grid_for(total), kThreads, 0, stream>>>(static_cast<const float*>(product),
                                                           static_cast<float*>(y.data), d, total, e);
  }
  KILN_CUDA_CHECK(cudaGetLastError());
}

}  // namespace kiln::gpu
