// add, sub, mul and div on the GPU. Equal-shape add (residuals, n-ary) takes the n-ary sum kernel, which
// also applies an activation folded into it (ResNet's add + ReLU: one pass over the tensor, not two);
// everything else the broadcasting kernel, each operand a view with zero strides where it broadcasts.
// The weight `other` is WeightForm::F32 at every precision: float32 in its own logical order, which the
// kernel reads through strides under a float32 NCHW or a half NHWC output alike (no padded form: the
// kernel never reads channels past the real ones, and a layer scale as small as 1e-6 keeps its float
// precision under half activations). In place over input 0 only when the output has input 0's shape.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/elementwise/elementwise.h"
#include "layers/elementwise/elementwise_kernels.h"

namespace kiln::gpu {

namespace {

std::vector<WeightRequest> weight_forms(const ElementwiseLayer& layer) {
  if (!layer.params().other) return {};
  return {{layer.params().other, WeightForm::F32}};
}

OpDeclaration declare(const Layer& layer, Precision) {
  OpDeclaration d;
  d.weights = weight_forms(layer_as<ElementwiseLayer>(layer));
  d.output = layer.can_run_in_place() ? OutputStorage::MayOverwriteInput : OutputStorage::Own;
  const auto& e = layer_as<ElementwiseLayer>(layer);
  if (e.params().op == ArithOp::Add && e.equal_shapes()) d.accepts_epilogues = kActivationEpilogue;
  // Two tensors of one shape: a residual add a convolution can apply to its output (engine/fusion.h).
  if (e.params().op == ArithOp::Add && e.params().second == SecondOperand::Tensor && e.equal_shapes() &&
      layer.input_shapes().size() == 2) {
    d.epilogue_kind = kResidualAddEpilogue;
  }
  return d;
}

// `v` read for the output view `y`: stride 0 along each dimension where v has one element and y more.
TensorView broadcast_to(TensorView v, const TensorView& y) {
  if (v.n == 1 && y.n > 1) v.sn = 0;
  if (v.c == 1 && y.c > 1) v.sc = 0;
  if (v.h == 1 && y.h > 1) v.sh = 0;
  if (v.w == 1 && y.w > 1) v.sw = 0;
  return v;
}

// Views fold the dimensions after the channels of a tensor of rank 5 or more into one (w), so such an
// operand broadcasts there only as a whole: each of those dimensions as the output's, or all of them 1.
void check_view_broadcast(const Layer& layer, const Shape& operand, const std::string& what) {
  const Shape& out = layer.output_shape();
  if (out.size() < 5) return;
  bool all_equal = true, all_one = true;
  for (std::size_t d = 2; d < out.size(); ++d) {
    all_equal = all_equal && operand[d] == out[d];
    all_one = all_one && operand[d] == 1;
  }
  if (!all_equal && !all_one)
    throw ModelError(layer.origin().describe() + ": on the GPU, " + what + " of shape " + shape_to_string(operand) +
                     " must broadcast against the output " + shape_to_string(out) +
                     " in all dimensions after the channels or in none (rank 5 and more)");
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const auto& layer = layer_as<ElementwiseLayer>(env.layer);
  const ElementwiseParams params = layer.params();
  const Shape out_shape = layer.output_shape();
  const std::vector<Shape> in_shapes = layer.input_shapes();
  const std::vector<int> ins = env.inputs;
  const int out = env.output;
  const Precision p = env.precision();
  if (params.op == ArithOp::Add && layer.equal_shapes()) {
    std::optional<ActivationParams> act;
    if (env.epilogue) act = activation_params(*env.epilogue);
    const std::string what = act ? std::string("cuda kernel (add+") + activation_name(act->kind) + ")" : "cuda kernel";
    return op_preparing_by(what, [=](const OpRunEnv& e, std::int64_t batch) {
      std::vector<const void*> ptrs;
      for (int t : ins) ptrs.push_back(e.tensor(t));
      const TensorView y = e.view(out, out_shape, batch, p);
      return prepared_call([ptrs, y, act](const OpRunEnv& r) {
        launch_add(ptrs.data(), static_cast<int>(ptrs.size()), y, r.stream, act ? &*act : nullptr);
      });
    });
  }
  for (std::size_t i = 0; i < in_shapes.size(); ++i)
    check_view_broadcast(layer, in_shapes[i], "input " + std::to_string(i) + " '" + layer.input_names()[i] + "'");
  const void* weight = nullptr;
  for (const WeightRequest& r : weight_forms(layer)) weight = env.weights.get(r);
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView y = e.view(out, out_shape, batch, p);
    ArithOperand a, b;
    a.v = broadcast_to(e.view(ins[0], in_shapes[0], batch, p), y);
    if (params.second == SecondOperand::Tensor) {
      b.v = broadcast_to(e.view(ins[1], in_shapes[1], batch, p), y);
    } else if (params.second == SecondOperand::Weight) {
      b.v = broadcast_to(logical_view(weight, params.other_aligned, ElementType::F32), y);
    } else {
      b.value = params.scalar;
    }
    if (params.reverse) std::swap(a, b);
    const ArithOp op = params.op;
    return prepared_call([op, a, b, y](const OpRunEnv& r) { launch_arith(op, a, b, y, r.stream); });
  });
}

}  // namespace

const GpuOpKind elementwise_gpu{&declare, &build};

}  // namespace kiln::gpu
