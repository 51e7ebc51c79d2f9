// upsample_nearest and upsample_bilinear (formats/README.md, "Ops"), with PyTorch's interpolate
// semantics (upsample_math.h). One 4-D input.
//
// upsample_nearest, two forms:
//   - `scale`: an integer pair >= 1 (default 2); output [N, C, H*sh, W*sw], y[h][w] = x[h/sh][w/sw];
//   - `size` [OH, OW] (each in [1, 2^20], smaller or larger than the input), `mode` 'nearest'
//     (default: PyTorch's floor(dst * scale)) or 'nearest-exact' (floor((dst + 0.5) * scale)).
// upsample_bilinear: `size` [OH, OW], or `scale` (an integer pair >= 1: OH = H*sh, OW = W*sw, mapped as
// that size, PyTorch's mapping for an integer scale_factor), `align_corners` (false).
// Either op with `size` may instead take a second 4-D input of the same batch and no `size` (nor
// `scale_factor`): the output has that tensor's height and width (interpolate(x, size=y.shape[-2:]),
// the segmentation heads' resize to the input: it follows a dynamic model's input size). Only its
// shape is used.
// With `size`, `scale_factor` (a number > 0, optional) says that PyTorch was given that factor and
// kept it (recompute_scale_factor unset), which makes the source positions use 1/scale_factor
// instead of in/out; size must then be floor(H * scale_factor) x floor(W * scale_factor).
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"
#include "layers/upsample/upsample_math.h"

namespace kiln {

enum class UpsampleMode { Nearest, NearestExact, Bilinear };

struct UpsampleParams {
  UpsampleMode mode = UpsampleMode::Nearest;
  Pair scale{2, 2};     // the integer `scale` form; {0, 0} when the layer gave `size`
  Pair size{0, 0};      // the output's H, W (in both forms)
  bool align_corners = false;  // Bilinear only
  double scale_factor = 0.0;   // 0: none (the mapping uses in/out)
  bool integer_scale() const { return scale[0] > 0; }
};

// One axis resampled from `in` positions to `out` with `p` (PyTorch's float scale for it).
ResampleAxis upsample_axis(const UpsampleParams& p, std::int64_t in, std::int64_t out);

class UpsampleLayer final : public Layer {
 public:
  UpsampleLayer(const LayerBuildContext& ctx, const UpsampleParams& params);

  const UpsampleParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  void forward_scaled(const CpuForwardArgs& args) const;
  void forward_nearest(const CpuForwardArgs& args) const;
  void forward_bilinear(const CpuForwardArgs& args) const;
  UpsampleParams params_;
};

// Factory for both ops (dispatches on the layer's op).
std::unique_ptr<Layer> make_upsample(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind upsample_gpu;  // upsample_gpu.cpp
}  // namespace gpu

}  // namespace kiln
