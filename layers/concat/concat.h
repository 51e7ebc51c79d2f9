// concat along channels (formats/README.md, "Ops"): two or more inputs, all 2-D or all 4-D, equal in
// every dimension but the channels; attribute axis (1) must be 1. Output channels are the sum, in
// input order.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace kiln {

class ConcatLayer final : public Layer {
 public:
  ConcatLayer(const LayerBuildContext& ctx, Shape output_shape);

  void forward_cpu(const CpuForwardArgs& args) const override;
};

std::unique_ptr<Layer> make_concat(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind concat_gpu;  // concat_gpu.cpp
}  // namespace gpu

}  // namespace kiln
