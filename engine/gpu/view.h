// How kiln's CUDA kernels see an activation: a strided view of up to four dimensions.
//
// Element (n, c, h, w) lies at data + n*sn + c*sc + h*sh + w*sw elements. The two stored layouts of
// Note [fp16 layout] (engine/gpu/layout.h) are two stride patterns of this one view, so a kernel body
// written against it serves float32 NCHW and half NHWC alike:
//   float32 NCHW [N, C, H, W]:  sw = 1,  sh = W,      sc = H*W, sn = C*H*W
//   half NHWC, Cs stored:       sc = 1,  sw = Cs,     sh = W*Cs, sn = H*W*Cs
//   [N, F] (any precision):     h = w = 1, sc = 1,    sn = F
// `c` is the number of real channels and `cs` the number stored (cs >= c; the pad channels c..cs-1
// exist only in half NHWC). Kernels that treat channels alike (affine, add, upsample, pooling) run
// over all cs; kernels that mix channels (softmax, LRN, concat) read the first c and write zeros to
// the pads. A view does not own its memory. Plain data: host code builds views, kernels take them by value.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define KILN_HOST_DEVICE __host__ __device__
#else
#define KILN_HOST_DEVICE
#endif

namespace kiln::gpu {

enum class ElementType { F32, F16 };

struct TensorView {
  void* data = nullptr;
  ElementType type = ElementType::F32;
  std::int64_t n = 1, c = 1, cs = 1, h = 1, w = 1;
  std::int64_t sn = 1, sc = 1, sh = 1, sw = 1;

  KILN_HOST_DEVICE std::int64_t positions() const { return h * w; }
  // Elements the view spans when packed (every stored channel of every position of every image).
  KILN_HOST_DEVICE std::int64_t stored_elements() const { return n * cs * h * w; }
  // True when the channels are the innermost dimension (half NHWC, [N, F], and any view with one position).
  KILN_HOST_DEVICE bool channels_inner() const { return sc == 1; }
  // True when the view covers exactly n * cs * h * w consecutive elements in NCHW or NHWC order.
  KILN_HOST_DEVICE bool packed() const {
    if (h * w == 1) return sc == 1 && sn == cs;  // [N, C] and [N, C, 1, 1]: both orders coincide
    if (channels_inner()) return sw == cs && sh == w * cs && sn == h * w * cs;
    return sw == 1 && sh == w && sc == h * w && sn == cs * h * w;
  }
  // The same view moved `first` channels on and narrowed to `count` real channels (cs = count):
  // a channel slice, as concat writes it.
  TensorView channel_slice(std::int64_t first, std::int64_t count) const {
    TensorView v = *this;
    v.data = static_cast<char*>(data) + first * sc * (type == ElementType::F16 ? 2 : 4);
    v.c = v.cs = count;
    return v;
  }
};

// `count` consecutive elements as a view (n = c = h = 1, w = count): weights, flat buffers.
inline TensorView flat_view(void* data, ElementType type, std::int64_t count) {
  TensorView v;
  v.data = data;
  v.type = type;
  v.w = count;
  v.sh = v.sc = v.sn = count;
  return v;
}

}  // namespace kiln::gpu
