// The elementwise arithmetic ops add, sub, mul and div (formats/README.md, "Ops"), one layer class:
//   - n-ary add: 3 or more inputs of equal shape, summed left to right (ResNet residuals);
//   - two tensors whose shapes broadcast (numpy rules over equal ranks, dimension 0 equal): y = a op b
//     with the broadcast shape (an SE gate [N, C, 1, 1], a [N, 1, H, W] mask, equal shapes);
//   - one tensor x and a constant: attribute `scalar` s (finite), y = x op s, or s op x with `reverse`;
//   - one tensor x and a weight `other` w (attribute `other_per`: `channel`, w of shape [C, 1, ...] with
//     the input's rank minus one, one value per channel; `sample`, w of the input's shape without the
//     batch), y = x op w, or w op x with `reverse`.
// Computed in float32 (the scalar rounded to float32 once); division follows IEEE 754 (x / 0 is ±inf or
// NaN, not an error). NaN propagates. The output may overwrite input 0 when it has input 0's shape.
#pragma once

#include <memory>

#include "layers/elementwise/elementwise_math.h"
#include "layers/layer.h"

namespace kiln {

// What the second operand of a one- or two-input layer is.
enum class SecondOperand {
  Tensor,  // input 1 (and, for n-ary add, inputs 2.. of the same shape)
  Scalar,  // attribute `scalar`
  Weight,  // weight `other`
};

struct ElementwiseParams {
  ArithOp op = ArithOp::Add;
  SecondOperand second = SecondOperand::Tensor;
  float scalar = 0.0f;           // Scalar
  bool reverse = false;          // Scalar / Weight: the constant is the left operand
  const TensorEntry* other = nullptr;  // Weight (the manifest outlives the layer)
  // Weight: `other` as it broadcasts against the input, at the input's rank with a leading 1
  // ([1, C, 1, 1] for channel, [1, C, H, W] for sample): dimension d faces the input's dimension d.
  Shape other_aligned;
};

class ElementwiseLayer final : public Layer {
 public:
  ElementwiseLayer(const LayerBuildContext& ctx, Shape output_shape, const ElementwiseParams& params);

  const ElementwiseParams& params() const { return params_; }
  // True when every input has the output's shape (n-ary add and equal-shape pairs: no broadcasting).
  bool equal_shapes() const;

  void forward_cpu(const CpuForwardArgs& args) const override;
  // Only when the output has input 0's shape: a broadcast output is larger than input 0's block.
  bool can_run_in_place() const override { return output_shape() == input_shapes().at(0); }

 private:
  ElementwiseParams params_;
};

// Factory for add, sub, mul and div (dispatches on the layer's op).
std::unique_ptr<Layer> make_elementwise(const LayerBuildContext& ctx);

// `operand` (equal rank, every dimension equal to `out`'s or 1) as it is read for an output of shape
// `out`, both at one batch: the logical (row-major) strides of `operand`, 0 where it broadcasts.
std::vector<std::int64_t> broadcast_strides(const Shape& operand, const Shape& out);

namespace gpu {
struct GpuOpKind;
extern const GpuOpKind elementwise_gpu;  // elementwise_gpu.cpp
}  // namespace gpu

}  // namespace kiln
