// Pooling ops (formats/README.md, "Ops"): max_pool2d, avg_pool2d, adaptive_max_pool2d,
// adaptive_avg_pool2d, global_max_pool2d, global_avg_pool2d, each with PyTorch's semantics.
//
// One 4-D input. max_pool2d / avg_pool2d: kernel_size required, stride defaults to the kernel,
// padding (0) at most kernel/2 (as PyTorch requires), ceil_mode (false: PyTorch's output size rule,
// pool_window.h), max_pool2d's dilation (1), avg_pool2d's count_include_pad (true) and
// divisor_override (absent, else an integer >= 1 that replaces every divisor). Adaptive ops:
// output_size [OH, OW], each in [1, 2^20] (larger than the input upsamples), window
// [floor(o*H/OH), ceil((o+1)*H/OH)). Global ops pool each whole plane into [N, C, 1, 1].
// Max pooling treats padding as -inf and propagates NaN (a window with no input position, possible
// only with dilation, gives -inf); average pooling divides as PyTorch does.
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"
#include "layers/pool/pool_window.h"

namespace kiln {

enum class PoolMode { Max, Average, GlobalAverage, GlobalMax, AdaptiveMax, AdaptiveAverage };

// True for the modes that take a maximum; the others average.
bool pool_takes_max(PoolMode mode);
// True for the modes whose windows are adaptive (the global ones are adaptive to 1x1).
bool pool_is_adaptive(PoolMode mode);

struct PoolParams {
  PoolMode mode = PoolMode::Max;
  // Sliding modes: the kernel. Adaptive and global modes: an upper bound of a window's extent
  // (the input's H x W for global pooling), for cost estimates.
  Pair kernel{1, 1};
  Pair stride{1, 1};
  Pair padding{0, 0};
  Pair dilation{1, 1};
  bool ceil_mode = false;
  bool count_include_pad = true;      // Average only
  std::int64_t divisor_override = 0;  // Average only; 0: none
};

// Axis d (0: height, 1: width) of pooling `in` into `out` positions with `p`.
PoolAxis pool_axis(const PoolParams& p, int d, std::int64_t in, std::int64_t out);

class PoolLayer final : public Layer {
 public:
  PoolLayer(const LayerBuildContext& ctx, Shape output_shape, const PoolParams& params);

  const PoolParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;

 private:
  PoolParams params_;
};

// Factory for the six ops (dispatches on the layer's op).
std::unique_ptr<Layer> make_pool(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind pool_gpu;  // pool_gpu.cpp
}  // namespace gpu

}  // namespace kiln
