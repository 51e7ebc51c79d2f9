// add (formats/README.md, "Ops"): elementwise sum of two or more inputs of equal shape, any rank.
// May run in place over input 0 (output == inputs[0]); other inputs must not alias the output.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace kiln {

class AddLayer final : public Layer {
 public:
  explicit AddLayer(const LayerBuildContext& ctx);

  void forward_cpu(const CpuForwardArgs& args) const override;
  bool can_run_in_place() const override { return true; }
};

std::unique_ptr<Layer> make_add(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind add_gpu;  // add_gpu.cpp
}  // namespace gpu

}  // namespace kiln
