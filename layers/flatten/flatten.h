// flatten (formats/README.md, "Ops"): [N, d1, d2, ...] -> [N, d1*d2*...] for an input of rank >= 2.
// A view: the output is input 0's memory reinterpreted, so the planner gives it no block of its own;
// forward_cpu copies only when it is handed a distinct output buffer.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace kiln {

class FlattenLayer final : public Layer {
 public:
  FlattenLayer(const LayerBuildContext& ctx, Shape output_shape);

  void forward_cpu(const CpuForwardArgs& args) const override;
  bool is_view() const override { return true; }
  bool can_run_in_place() const override { return true; }
};

std::unique_ptr<Layer> make_flatten(const LayerBuildContext& ctx);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind flatten_gpu;  // flatten_gpu.cpp
}  // namespace gpu

}  // namespace kiln
