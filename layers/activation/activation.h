// The activations (formats/README.md, "Ops"): elementwise, any rank, output shape = input shape, safe in
// place. Every formula is PyTorch's, written once in activation_math.h for the CPU reference and the
// GPU kernels alike:
//   relu, leaky_relu (negative_slope 0.01), elu (alpha 1.0), sigmoid, tanh;
//   hardtanh (min_val -1.0, max_val 1.0; min_val <= max_val): clamp(x, min_val, max_val), and relu6,
//     the same formula with the bounds 0 and 6 (its own op name: what MobileNets are written with);
//   hardswish x·clamp(x+3, 0, 6)/6, hardsigmoid clamp(x+3, 0, 6)/6, silu x/(1+exp(-x)), mish
//     x·tanh(log1p(exp(x)));
//   gelu (approximate: none): x/2·(1+erf(x/√2)); approximate: tanh: PyTorch's approximate='tanh' form
//     x/2·(1+tanh(√(2/π)·(x+0.044715x³)));
//   softplus (beta 1.0 > 0, threshold 20.0): x where beta·x > threshold, else log1p(exp(beta·x))/beta;
//   prelu (num_parameters 1): x > 0 ? x : w[c]·x with a weight `weight` of num_parameters slopes,
//     1 (shared by all channels) or one per channel (dimension 1; a 1-D input has one channel).
// NaN propagates through all of them.
#pragma once

#include <memory>

#include "layers/common.h"
#include "layers/layer.h"

namespace kiln {

// X(enum value, op name as model.yaml spells it). GeluTanh is op gelu with approximate: tanh.
#define KILN_ACTIVATION_KINDS(X)                                                                    \
  X(Relu, "relu") X(LeakyRelu, "leaky_relu") X(Sigmoid, "sigmoid") X(Tanh, "tanh") X(Elu, "elu")    \
  X(Relu6, "relu6") X(Hardtanh, "hardtanh") X(Hardswish, "hardswish") X(Hardsigmoid, "hardsigmoid") \
  X(Silu, "silu") X(Gelu, "gelu") X(GeluTanh, "gelu") X(Softplus, "softplus") X(Mish, "mish")       \
  X(Prelu, "prelu")

#define KILN_ACTIVATION_ENUM_VALUE(kind, name) kind,
enum class ActivationKind { KILN_ACTIVATION_KINDS(KILN_ACTIVATION_ENUM_VALUE) };
#undef KILN_ACTIVATION_ENUM_VALUE

struct ActivationParams {
  ActivationKind kind = ActivationKind::Relu;
  // The formula's two numbers (unused ones 0):
  //   LeakyRelu: alpha = negative_slope;  Elu: alpha;  Relu6 / Hardtanh: alpha = min_val, beta = max_val;
  //   Softplus: alpha = beta, beta = threshold.
  double alpha = 0.0;
  double beta = 0.0;
  // Prelu: the weight, num_parameters slopes (the manifest outlives the layer); null for every other kind.
  const TensorEntry* slope = nullptr;
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

// Factory for every activation op (dispatches on the layer's op).
std::unique_ptr<Layer> make_activation(const LayerBuildContext& ctx);

// The parameters of an activation layer; ModelError naming the layer when it is not one. For ops that
// apply a folded activation as their epilogue (conv).
const ActivationParams& activation_params(const Layer& layer);

// Its name as model.yaml spells it ("leaky_relu"; "gelu" for both GELU forms).
const char* activation_name(ActivationKind kind);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind activation_gpu;  // activation_gpu.cpp
}  // namespace gpu

}  // namespace kiln
