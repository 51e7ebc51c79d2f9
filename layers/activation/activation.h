// relu, leaky_relu, sigmoid, tanh, elu (formats/README.md, "Ops"): elementwise, any rank, output
// shape = input shape, and safe in place. Formulas as PyTorch's: leaky_relu(x) = x > 0 ? x : x * slope
// (negative_slope, default 0.01); elu(x) = x > 0 ? x : alpha * expm1(x) (alpha, default 1.0);
// sigmoid(x) = 1 / (1 + exp(-x)). NaN propagates through all of them.
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"

namespace kiln {

enum class ActivationKind { Relu, LeakyRelu, Sigmoid, Tanh, Elu };

struct ActivationParams {
  ActivationKind kind = ActivationKind::Relu;
  double alpha = 0.0;  // LeakyRelu: negative_slope; Elu: alpha
};

class ActivationLayer final : public Layer {
 public:
  ActivationLayer(const LayerBuildContext& ctx, const ActivationParams& params);

  const ActivationParams& params() const { return params_; }

  void forward_cpu(const CpuForwardArgs& args) const override;
  bool can_run_in_place() const override { return true; }

 private:
  ActivationParams params_;
};

// Factory for the five ops (dispatches on the layer's op).
std::unique_ptr<Layer> make_activation(const LayerBuildContext& ctx);

// The parameters of an activation layer; ModelError naming the layer when it is not one. For ops that
// apply a folded activation as their epilogue (conv).
const ActivationParams& activation_params(const Layer& layer);

// Its name as model.yaml spells it ("leaky_relu").
const char* activation_name(ActivationKind kind);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind activation_gpu;  // activation_gpu.cpp
}  // namespace gpu

}  // namespace kiln
